// The embedded default: a nats-server of this data dir's own, locked (a generated config with the users core,
// gateway and events, JetStream under the data dir), on the port it had last time when that is free; and the
// gateway alone joining the server its core recorded.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { join } from 'node:path';
import type { Log } from '../adapters/log';
import type { NatsServerProcess } from '../adapters/nats';
import {
  EMBEDDED_NATS_FILES,
  embeddedEndpointRecord,
  findFreePort,
  findNatsServerBinary,
  loadOrCreateNatsPasswords,
  natsInstallCommand,
  readEmbeddedEndpoint,
  readNatsPasswords,
  spawnNatsServer,
  writeEmbeddedEndpoint,
  writeNatsServerConfig,
} from '../adapters/nats';
import type { NatsEndpoint } from './nats-types';
import { NatsUnavailableError } from './nats-types';

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

/** The gateway alone, without NATS_URL: the embedded server its core started for the same data dir. */
export async function joinEmbedded(dataDir: string, namespace: string | undefined, log: Log): Promise<NatsEndpoint> {
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

export async function startEmbedded(opts: {
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
