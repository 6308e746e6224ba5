// Where the core and the gateway meet: NATS_URL if set; else a server already answering on 127.0.0.1:4222;
// else a nats-server started here with JetStream under the data dir (installed from Debian when permitted).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { Log } from '../adapters/log';
import type { NatsServerProcess } from '../adapters/nats';
import { findFreePort, findNatsServerBinary, natsInstallCommand, spawnNatsServer } from '../adapters/nats';

export class NatsUnavailableError extends Error {
  override name = 'NatsUnavailableError';
}

export interface NatsEndpoint {
  url: string;
  /** The server this process started, if any (stopped on shutdown). */
  server?: NatsServerProcess | undefined;
}

/** Does a NATS server answer here (its INFO line)? */
export function natsAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (d) => done(d.toString('utf8').startsWith('INFO ')));
  });
}

export async function resolveNats(opts: { env: NodeJS.ProcessEnv; dataDir: string; log: Log }): Promise<NatsEndpoint> {
  const { env, dataDir, log } = opts;
  if (env.NATS_URL) return { url: env.NATS_URL };
  if (await natsAnswers('127.0.0.1', 4222)) {
    log.info('using the NATS server on 127.0.0.1:4222');
    return { url: 'nats://127.0.0.1:4222' };
  }
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
  const storeDir = join(dataDir, 'nats');
  mkdirSync(storeDir, { recursive: true });
  const port = await findFreePort();
  const server = await spawnNatsServer({ binary, port, storeDir, logFile: join(dataDir, 'nats-server.log') });
  log.info(`started nats-server with JetStream on ${server.url} (store ${storeDir})`);
  return { url: server.url, server };
}
