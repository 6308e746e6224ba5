// Where the core and the gateway meet, as whom, and under which namespace.
//
// - NATS_URL set: that server, with NATS_USER/NATS_PASS or NATS_NKEY_SEED for every connection. Its subjects are put
//   under a namespace (OVERSEER_NAMESPACE, else this installation's id kept in the data dir) so two installations
//   sharing the server never answer each other's requests; a server that lets an anonymous client reach them gets
//   one warning line.
// - Otherwise the embedded default: a nats-server of our own (never one that happens to answer on a port), locked:
//   a generated config in the data dir with the users core, gateway and events and JetStream under the data dir,
//   on the port it had last time when that is free. No namespace: the server is private to this installation.
//   `--role gateway` alone joins the embedded server its core recorded in the same data dir.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { connect, type NatsConnection, PermissionViolationError } from '@nats-io/transport-node';
import type { Log } from '../adapters/log';
import type { Bus, ConnectBusOptions, NatsServerProcess } from '../adapters/nats';
import {
  assertNamespace,
  BusRemoteError,
  BusTimeoutError,
  BusUnavailableError,
  EMBEDDED_NATS_FILES,
  embeddedEndpointRecord,
  findFreePort,
  findNatsServerBinary,
  loadOrCreateNatsPasswords,
  natsInstallCommand,
  readEmbeddedEndpoint,
  readNatsPasswords,
  spawnNatsServer,
  toNamespace,
  writeEmbeddedEndpoint,
  writeNatsServerConfig,
} from '../adapters/nats';
import { subjects } from '../protocol';
import { ConfigError } from './config';

export class NatsUnavailableError extends Error {
  override name = 'NatsUnavailableError';
}

/** Another Overseer core already serves this namespace on this NATS server. */
export class NatsNamespaceTakenError extends Error {
  override name = 'NatsNamespaceTakenError';
  constructor(
    message: string,
    readonly namespace: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type NatsRole = 'all' | 'core' | 'gateway';

export interface NatsCredentials {
  user?: string;
  pass?: string;
  nkeySeed?: string;
}

export interface NatsEndpoint {
  url: string;
  /** The server this process started, if any (stopped on shutdown). */
  server?: NatsServerProcess | undefined;
  /** True for the embedded server (this data dir's own), false for NATS_URL. */
  embedded: boolean;
  /** The namespace the bus puts Overseer's subjects under; undefined: none. */
  namespace: string | undefined;
  /** Who the core's and the gateway's connections log in as. */
  credentials: { core: NatsCredentials; gateway: NatsCredentials };
}

/** The file keeping this installation's id (the default namespace on a NATS_URL server). */
export const INSTALLATION_ID_FILE = 'installation-id';
const EMBEDDED_HOST = '127.0.0.1';

/** Does a NATS server answer here (its INFO line)? */
export function natsAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (d) => done(d.toString('utf8').startsWith('INFO ')));
  });
}

/** Can we listen on host:port right now? */
function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/** Is process `pid` a nats-server running with this config file? (Linux /proc; false where it cannot tell.) */
function isServerOf(pid: number, configFile: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes(configFile);
  } catch {
    return false;
  }
}

/** OVERSEER_NAMESPACE, checked; undefined when unset or empty. */
export function namespaceFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.OVERSEER_NAMESPACE;
  if (raw === undefined || raw === '') return undefined;
  try {
    return assertNamespace(raw);
  } catch (err) {
    throw new ConfigError(
      `OVERSEER_NAMESPACE ${(err as Error).message.replace(/^invalid namespace /, 'is invalid: ')}`,
      'OVERSEER_NAMESPACE',
      {
        cause: err,
      },
    );
  }
}

/**
 * This installation's id, `<dataDir>/installation-id`: created once by the core, read by everyone else. A gateway
 * alone has nothing to create it from (its data dir may not be the core's): it needs the file or OVERSEER_NAMESPACE.
 */
export function installationId(dataDir: string, role: NatsRole): string {
  const path = join(dataDir, INSTALLATION_ID_FILE);
  if (existsSync(path)) {
    const id = readFileSync(path, 'utf8').trim();
    try {
      return assertNamespace(id);
    } catch (err) {
      throw new ConfigError(
        `${path} does not hold an installation id: ${(err as Error).message}`,
        INSTALLATION_ID_FILE,
        {
          cause: err,
        },
      );
    }
  }
  if (role === 'gateway') {
    throw new ConfigError(
      `no OVERSEER_NAMESPACE and no ${path}: set OVERSEER_NAMESPACE to the namespace the core uses (it logs it at start-up)`,
      'OVERSEER_NAMESPACE',
    );
  }
  const id = `ovs-${randomBytes(6).toString('hex')}`;
  writeFileSync(path, `${id}\n`, { mode: 0o644 });
  return id;
}

function credentialsFromEnv(env: NodeJS.ProcessEnv): NatsCredentials {
  return {
    ...(env.NATS_USER !== undefined ? { user: env.NATS_USER } : {}),
    ...(env.NATS_PASS !== undefined ? { pass: env.NATS_PASS } : {}),
    ...(env.NATS_NKEY_SEED !== undefined ? { nkeySeed: env.NATS_NKEY_SEED } : {}),
  };
}

/** `nats://user:secret@host:4222,nats://b:4222` → its servers without user info (for the log and the probe). */
function serversOf(url: string): string[] {
  return url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      try {
        const u = new URL(s.includes('://') ? s : `nats://${s}`);
        if (!u.username && !u.password) return s;
        u.username = '';
        u.password = '';
        return u.href.replace(/\/$/, '');
      } catch {
        return s;
      }
    });
}

export interface ResolveNatsOptions {
  env: NodeJS.ProcessEnv;
  dataDir: string;
  log: Log;
  /** Which parts this process runs; default 'all'. */
  role?: NatsRole;
}

export async function resolveNats(opts: ResolveNatsOptions): Promise<NatsEndpoint> {
  const { env, dataDir, log } = opts;
  const role = opts.role ?? 'all';
  const explicit = namespaceFromEnv(env);
  if (env.NATS_URL) {
    const namespace = explicit ?? installationId(dataDir, role);
    const credentials = credentialsFromEnv(env);
    const servers = serversOf(env.NATS_URL);
    log.info(
      `using NATS at ${servers.join(', ')}; namespace '${namespace}' (${explicit ? 'OVERSEER_NAMESPACE' : `installation id, ${join(dataDir, INSTALLATION_ID_FILE)}`}): subjects overseer.${namespace}.…`,
    );
    const open = await probeAnonymousAccess(servers, namespace);
    if (open) {
      log.warn(
        `NATS at ${servers.join(', ')} lets a client without credentials ${open}: anyone who reaches it can read or forge Overseer's traffic; require users with permissions (see deploy/nats-server.conf)`,
      );
    }
    return { url: env.NATS_URL, embedded: false, namespace, credentials: { core: credentials, gateway: credentials } };
  }
  if (role === 'gateway') return joinEmbedded(dataDir, explicit, log);
  return startEmbedded({ env, dataDir, log, namespace: explicit });
}

/** The gateway alone, without NATS_URL: the embedded server its core started for the same data dir. */
async function joinEmbedded(dataDir: string, namespace: string | undefined, log: Log): Promise<NatsEndpoint> {
  const record = readEmbeddedEndpoint(dataDir);
  const passwords = readNatsPasswords(dataDir);
  const url = record ? new URL(record.url) : undefined;
  if (!record || !passwords || !url || !(await natsAnswers(url.hostname, Number(url.port)))) {
    throw new NatsUnavailableError(
      `no NATS server for the gateway: set NATS_URL, or start the core (\`overseer serve --role core\`) with the same OVERSEER_DATA_DIR (${dataDir}) first`,
    );
  }
  const ns = namespace ?? record.namespace ?? undefined;
  log.info(`using the embedded nats-server ${record.url} of ${dataDir} as user 'gateway'`);
  return {
    url: record.url,
    embedded: true,
    namespace: ns,
    // The gateway process has no business with the core's user.
    credentials: { core: {}, gateway: { user: 'gateway', pass: passwords.gateway } },
  };
}

async function startEmbedded(opts: {
  env: NodeJS.ProcessEnv;
  dataDir: string;
  log: Log;
  namespace: string | undefined;
}): Promise<NatsEndpoint> {
  const { env, dataDir, log, namespace } = opts;
  let binary = findNatsServerBinary(env);
  if (!binary && env.OVERSEER_INSTALL_NATS === '1') {
    log.warn(`nats-server not found; installing it (${natsInstallCommand})`);
    execFileSync('sh', ['-c', `apt-get update -qq && ${natsInstallCommand}`], { stdio: 'inherit' });
    binary = findNatsServerBinary(env);
  }
  if (!binary) {
    throw new NatsUnavailableError(
      `no NATS server: set NATS_URL, or install nats-server with \`${natsInstallCommand}\` (or run with OVERSEER_INSTALL_NATS=1 to let Overseer install it)`,
    );
  }
  const storeDir = join(dataDir, EMBEDDED_NATS_FILES.store);
  mkdirSync(storeDir, { recursive: true, mode: 0o700 });
  const passwords = loadOrCreateNatsPasswords(dataDir);
  const configFile = join(dataDir, EMBEDDED_NATS_FILES.config);

  // The port of the last start when it is free (operators' NATS contexts keep working), else any free port.
  const previous = readEmbeddedEndpoint(dataDir);
  const previousPort = previous ? Number(new URL(previous.url).port) : 0;
  if (previous?.pid && isServerOf(previous.pid, configFile) && (await natsAnswers(EMBEDDED_HOST, previousPort))) {
    // Two servers on one JetStream store would corrupt it; so would two cores on one SQLite file.
    throw new NatsUnavailableError(
      `the embedded nats-server of ${dataDir} already runs on ${previous.url} (pid ${previous.pid}): another Overseer uses this data dir, or its nats-server was left behind (then stop it: kill ${previous.pid})`,
    );
  }
  let port =
    previousPort > 0 && (await portIsFree(EMBEDDED_HOST, previousPort))
      ? previousPort
      : await findFreePort(EMBEDDED_HOST);
  let server: NatsServerProcess | undefined;
  for (let attempt = 1; !server; attempt++) {
    writeNatsServerConfig(configFile, { host: EMBEDDED_HOST, port, storeDir, passwords, namespace });
    try {
      server = await spawnNatsServer({
        binary,
        host: EMBEDDED_HOST,
        port,
        configFile,
        // JetStream and its store are in the config file.
        jetstream: false,
        logFile: join(dataDir, EMBEDDED_NATS_FILES.log),
      });
    } catch (err) {
      // The port can be taken between the check and the bind: try another one, twice.
      if (attempt >= 3) throw err;
      port = await findFreePort(EMBEDDED_HOST);
    }
  }
  writeEmbeddedEndpoint(dataDir, embeddedEndpointRecord(server.url, namespace, server.pid));
  log.info(
    `started nats-server on ${server.url} (JetStream store ${storeDir}; users core, gateway and events, no anonymous access; read-only credentials: overseer nats-credentials)`,
  );
  return {
    url: server.url,
    server,
    embedded: true,
    namespace,
    credentials: {
      core: { user: 'core', pass: passwords.core },
      gateway: { user: 'gateway', pass: passwords.gateway },
    },
  };
}

/** connectBus options for one part of Overseer on this endpoint. */
export function natsConnectOptions(endpoint: NatsEndpoint, who: 'core' | 'gateway', log: Log): ConnectBusOptions {
  return {
    servers: endpoint.url,
    ...endpoint.credentials[who],
    namespace: endpoint.namespace,
    name: `overseer-${who}`,
    log,
    waitOnFirstConnect: true,
  };
}

/**
 * Connects without credentials and tries what a stranger would: serve requests, read events, send a query (a plain
 * publish without a reply subject, which a running core ignores). Returns what was possible ("subscribe to
 * overseer.req.submit, publish to overseer.query.status"), or undefined when the server refused the connection or
 * every attempt.
 */
export async function probeAnonymousAccess(
  servers: string[],
  namespace: string | undefined,
): Promise<string | undefined> {
  let nc: NatsConnection;
  try {
    nc = await connect({ servers, name: 'overseer-probe', timeout: 2_000, reconnect: false, maxReconnectAttempts: 0 });
  } catch {
    // Refused (authorization required) or unreachable (the real connection reports that).
    return undefined;
  }
  const reached: string[] = [];
  // A refused publish comes back only as an asynchronous error on the connection.
  const refusedPublish = new Set<string>();
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'error' && s.error instanceof PermissionViolationError && s.error.operation === 'publish') {
        refusedPublish.add(s.error.subject);
      }
    }
  })();
  try {
    for (const filter of [subjects.reqSubmit, subjects.allEvents].map((s) => toNamespace(s, namespace))) {
      let refused = false;
      const sub = nc.subscribe(filter, {
        callback: (err) => {
          if (err) refused = true;
        },
      });
      // The server answers the SUB (a permissions violation) before the PING of the flush.
      await nc.flush();
      if (!refused) reached.push(`subscribe to ${filter}`);
      if (!sub.isClosed()) sub.unsubscribe();
    }
    const query = toNamespace(subjects.query('status'), namespace);
    nc.publish(query);
    // The server answers the PUB (a permissions violation) before the PING of the flush.
    await nc.flush();
    await new Promise((r) => setTimeout(r, 20));
    if (!refusedPublish.has(query)) reached.push(`publish to ${query}`);
  } finally {
    await nc.close().catch(() => {});
  }
  return reached.length > 0 ? reached.join(', ') : undefined;
}

/**
 * Refuses to start a second core in a namespace: asks `overseer.query.status` (under the namespace) and expects
 * "no responders" within `timeoutMs`. An answer, an error answer or silence means something already serves it.
 * Call it on the core's connection before the core serves.
 */
export async function assertNoOtherCore(
  bus: Bus,
  opts: { namespace: string | undefined; url: string; log?: Log; timeoutMs?: number },
): Promise<void> {
  const where = opts.namespace ? `namespace '${opts.namespace}'` : 'the un-namespaced subjects';
  const subject = subjects.query('status');
  try {
    await bus.request(subject, {}, { timeoutMs: opts.timeoutMs ?? 500 });
  } catch (err) {
    if (err instanceof BusUnavailableError && /no responders/.test(err.message)) return;
    if (!(err instanceof BusRemoteError) && !(err instanceof BusTimeoutError)) {
      // Not allowed to ask, or the bus went away: nothing is known, the subscription itself will tell.
      opts.log?.warn(`cannot check for another Overseer core in ${where}: ${(err as Error).message}`);
      return;
    }
    if (err instanceof BusTimeoutError) {
      throw new NatsNamespaceTakenError(
        `something on NATS (${serversOf(opts.url).join(', ')}) already subscribes to ${toNamespace(subject, opts.namespace)} and did not answer: another Overseer core in ${where}? Stop it, or give this installation its own OVERSEER_NAMESPACE`,
        opts.namespace,
        { cause: err },
      );
    }
  }
  throw new NatsNamespaceTakenError(
    `another Overseer core already answers ${toNamespace(subject, opts.namespace)} on NATS (${serversOf(opts.url).join(', ')}) in ${where}: stop it, or give this installation its own OVERSEER_NAMESPACE`,
    opts.namespace,
  );
}
