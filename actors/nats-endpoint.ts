// Where the core and the gateway meet, as whom, and under which namespace.
//
// - NATS_URL set: that server, with NATS_USER/NATS_PASS or NATS_NKEY_SEED for every connection. Its subjects are put
//   under a namespace (OVERSEER_NAMESPACE, else this installation's id kept in the data dir) so two installations
//   sharing the server never answer each other's requests; a server that lets an anonymous client reach them gets
//   one warning line.
// - Otherwise the embedded default (actors/embedded-nats.ts): a nats-server of our own (never one that happens to
//   answer on a port), locked. No namespace: the server is private to this installation.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection, PermissionViolationError } from '@nats-io/transport-node';
import type { Log } from '../adapters/log';
import type { Bus, ConnectBusOptions } from '../adapters/nats';
import { assertNamespace, BusRemoteError, BusTimeoutError, BusUnavailableError, toNamespace } from '../adapters/nats';
import { subjects } from '../protocol';
import { ConfigError } from './config';
import { joinEmbedded, startEmbedded } from './embedded-nats';
import type { NatsCredentials, NatsEndpoint, NatsRole } from './nats-types';
import { NatsNamespaceTakenError } from './nats-types';

export { natsAnswers } from './embedded-nats';
export type { NatsCredentials, NatsEndpoint, NatsRole } from './nats-types';
export { NatsNamespaceTakenError, NatsUnavailableError } from './nats-types';

/** The file keeping this installation's id (the default namespace on a NATS_URL server). */
export const INSTALLATION_ID_FILE = 'installation-id';

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
export function serversOf(url: string): string[] {
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
    const followCluster = discoveryFromEnv(env);
    const servers = serversOf(env.NATS_URL);
    log.info(
      `using NATS at ${servers.join(', ')}; namespace '${namespace}' (${explicit ? 'OVERSEER_NAMESPACE' : `installation id, ${join(dataDir, INSTALLATION_ID_FILE)}`}): subjects overseer.${namespace}.…`,
    );
    // Beside the start, which does not wait for a warning (a connection of its own and a few round trips).
    const probed = probeAnonymousAccess(servers, namespace)
      // A connection lost during the probe leaves nothing to report (the real connection reports it).
      .catch(() => undefined)
      .then((open) => {
        if (!open) return;
        log.warn(
          `NATS at ${servers.join(', ')} lets a client without credentials ${open}: anyone who reaches it can read or forge Overseer's traffic; require users with permissions (see deploy/nats-server.conf)`,
        );
      });
    return {
      probed,
      url: env.NATS_URL,
      embedded: false,
      namespace,
      credentials: { core: credentials, gateway: credentials },
      followCluster,
    };
  }
  if (role === 'gateway') return joinEmbedded(dataDir, explicit, log);
  return startEmbedded({ env, dataDir, log, namespace: explicit });
}

/** NATS_DISCOVERY: `on` (default) follows the servers the cluster announces; `off` keeps to NATS_URL's. */
function discoveryFromEnv(env: NodeJS.ProcessEnv): boolean {
  const raw = (env.NATS_DISCOVERY ?? 'on').trim().toLowerCase();
  if (raw === 'on' || raw === '') return true;
  if (raw === 'off') return false;
  throw new ConfigError(`NATS_DISCOVERY must be 'on' or 'off', not '${env.NATS_DISCOVERY}'`, 'NATS_DISCOVERY');
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
    followCluster: endpoint.followCluster,
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
