// Starts a private nats-server for one test file, like nats.js's own test launcher: a free port on
// 127.0.0.1, JetStream with a temp store dir, optional user/password. Never the system server on 4222.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  findFreePort,
  findNatsServerBinary,
  type NatsServerProcess,
  natsInstallCommand,
  spawnNatsServer,
  writeNatsAuthConfig,
} from '../../adapters/nats/server-process';

export interface TestNatsServerOptions {
  /** Default true. */
  jetstream?: boolean;
  /** Default: a fresh temp dir, removed by stop(). */
  storeDir?: string;
  /** Default: a free port. */
  port?: number;
  user?: string;
  pass?: string;
}

export interface TestNatsServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly storeDir: string;
  /** Clean shutdown; removes the store dir when this helper created it. */
  stop(): Promise<void>;
  /** SIGKILL, as in a crash. Data stays for restart(). */
  kill(): Promise<void>;
  /** Clean shutdown if running, then the same server again: same port, same store dir, same auth. */
  restart(): Promise<void>;
}

/** True when the tests can run a nats-server here. */
export const natsServerAvailable = findNatsServerBinary() !== null;

export async function startNatsServer(opts: TestNatsServerOptions = {}): Promise<TestNatsServer> {
  const binary = findNatsServerBinary();
  if (!binary) throw new Error(`nats-server not found; install it with: ${natsInstallCommand}`);
  const ownDir = mkdtempSync(join(tmpdir(), 'overseer-nats-'));
  const storeDir = opts.storeDir ?? join(ownDir, 'store');
  const configFile =
    opts.user !== undefined
      ? writeNatsAuthConfig(join(ownDir, 'auth.conf'), { user: opts.user, pass: opts.pass ?? '' })
      : undefined;
  const jetstream = opts.jetstream ?? true;

  const launch = (port: number) =>
    spawnNatsServer({
      binary,
      port,
      jetstream,
      ...(jetstream ? { storeDir } : {}),
      ...(configFile ? { configFile } : {}),
      readyTimeoutMs: 10_000,
    });

  // A free port can be taken between probing and binding: try a few.
  let proc: NatsServerProcess | undefined;
  let lastError: unknown;
  for (let attempt = 0; attempt < (opts.port ? 1 : 3) && !proc; attempt++) {
    try {
      proc = await launch(opts.port ?? (await findFreePort()));
    } catch (err) {
      lastError = err;
    }
  }
  if (!proc) {
    rmSync(ownDir, { recursive: true, force: true });
    throw lastError;
  }
  let current: NatsServerProcess = proc;
  const { port, url } = proc;

  return {
    url,
    port,
    get pid() {
      return current.pid;
    },
    storeDir,
    async stop() {
      await current.stop();
      rmSync(ownDir, { recursive: true, force: true });
    },
    kill: () => current.kill(),
    async restart() {
      await current.stop();
      current = await launch(port);
    },
  };
}
