// Runs a nats-server process: the embedded server `npm start` brings up under its data dir, and the
// servers the integration tests start on free ports (tests/helpers/nats-server.ts wraps this).
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { delimiter, join } from 'node:path';
import { NatsServerStartError } from './errors';

/** How to get the server on Debian/Ubuntu (the 2.9 package). */
export const natsInstallCommand = 'apt-get install -y nats-server';

const WELL_KNOWN_PATHS = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'];

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The nats-server binary: $NATS_SERVER_BIN, then $PATH, then the usual install locations; null when absent. */
export function findNatsServerBinary(env: NodeJS.ProcessEnv = process.env): string | null {
  const explicit = env.NATS_SERVER_BIN;
  if (explicit) return isExecutable(explicit) ? explicit : null;
  const fromPath = (env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, 'nats-server'));
  return [...fromPath, ...WELL_KNOWN_PATHS].find(isExecutable) ?? null;
}

/** A TCP port nobody listens on right now (bind to 0, read it, release it). */
export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not determine a free port'))));
    });
  });
}

// Server configurations (the embedded server's users and permissions, the tests' single-user one) are written by
// server-config.ts; re-exported here for the test launcher.
export { writeNatsAuthConfig } from './server-config';

export interface SpawnNatsServerOptions {
  /** Default: findNatsServerBinary(). */
  binary?: string;
  /** Listen address; default 127.0.0.1. */
  host?: string;
  port: number;
  /** Enable JetStream; default true when storeDir is given. */
  jetstream?: boolean;
  /** JetStream store directory (-sd). */
  storeDir?: string;
  /** Log to this file (-l) instead of keeping the last lines in memory. */
  logFile?: string;
  /** A config file (-c), e.g. one written by server-config.ts. Command-line flags override it. */
  configFile?: string;
  serverName?: string;
  /** How long to wait for the server to accept clients; default 10 s. */
  readyTimeoutMs?: number;
  /** SIGKILL the server when this process exits; default true. */
  killOnExit?: boolean;
}

export interface NatsServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface NatsServerProcess {
  readonly pid: number;
  readonly host: string;
  readonly port: number;
  /** nats://host:port */
  readonly url: string;
  readonly running: boolean;
  readonly exited: Promise<NatsServerExit>;
  /** The last lines the server wrote (from its log file when it has one). */
  output(): string;
  /** SIGTERM (clean shutdown, JetStream flushed); SIGKILL if still running after `timeoutMs` (default 5 s). */
  stop(timeoutMs?: number): Promise<void>;
  /** SIGKILL: the server dies as in a crash. */
  kill(): Promise<void>;
}

const OUTPUT_LINES = 60;
const READY_LINE = 'Server is ready';
const children = new Set<ChildProcess>();
let exitHookInstalled = false;

function killChildrenOnExit(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of children) c.kill('SIGKILL');
  });
}

/** Resolves once something on host:port answers with a NATS INFO line. */
function probeNats(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ host, port });
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once('data', (chunk) => finish(chunk.toString('utf8').startsWith('INFO ')));
    socket.once('error', () => finish(false));
    socket.once('close', () => finish(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts nats-server and resolves when it accepts clients; rejects with NatsServerStartError otherwise. */
export async function spawnNatsServer(opts: SpawnNatsServerOptions): Promise<NatsServerProcess> {
  const binary = opts.binary ?? findNatsServerBinary();
  if (!binary) {
    throw new NatsServerStartError(`nats-server not found; install it with: ${natsInstallCommand}`, '');
  }
  const host = opts.host ?? '127.0.0.1';
  const { port } = opts;
  const args = ['-a', host, '-p', String(port)];
  if (opts.configFile) args.unshift('-c', opts.configFile);
  if (opts.jetstream ?? opts.storeDir !== undefined) args.push('-js');
  if (opts.storeDir) args.push('-sd', opts.storeDir);
  if (opts.logFile) args.push('-l', opts.logFile);
  if (opts.serverName) args.push('-n', opts.serverName);

  const logStart = opts.logFile ? fileSize(opts.logFile) : 0;
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let sawReady = false;
  const keep = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    if (text.includes(READY_LINE)) sawReady = true;
    lines.push(...text.split('\n').filter(Boolean));
    if (lines.length > OUTPUT_LINES) lines.splice(0, lines.length - OUTPUT_LINES);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  let running = true;
  let spawnFailure: Error | undefined;
  const exited = new Promise<NatsServerExit>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
    // The binary could not be run at all: there is no process to wait for.
    child.once('error', (err) => {
      spawnFailure = err;
      running = false;
      resolve({ code: null, signal: null });
    });
  });
  if (opts.killOnExit ?? true) killChildrenOnExit(child);

  const output = (): string => {
    if (!opts.logFile) return lines.join('\n');
    try {
      return readFileSync(opts.logFile, 'utf8').split('\n').slice(-OUTPUT_LINES).join('\n');
    } catch {
      return lines.join('\n');
    }
  };

  const readyLogged = (): boolean => {
    if (sawReady || !opts.logFile) return sawReady;
    try {
      // Only what this run appended: a restarted server logs to the same file.
      sawReady = readFileSync(opts.logFile).subarray(logStart).toString('utf8').includes(READY_LINE);
    } catch {
      // not written yet
    }
    return sawReady;
  };

  const waitExit = async (signal: NodeJS.Signals, timeoutMs: number): Promise<void> => {
    if (!running) return;
    child.kill(signal);
    const timedOut = await Promise.race([exited.then(() => false), sleep(timeoutMs).then(() => true)]);
    if (timedOut && running) {
      child.kill('SIGKILL');
      await exited;
    }
  };

  const proc: NatsServerProcess = {
    pid: child.pid ?? -1,
    host,
    port,
    url: `nats://${host}:${port}`,
    get running() {
      return running;
    },
    exited,
    output,
    stop: (timeoutMs = 5_000) => waitExit('SIGTERM', timeoutMs),
    kill: () => waitExit('SIGKILL', 5_000),
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 10_000);
  for (;;) {
    // Our own child must say it is ready (another process may answer on a reused port), then answer.
    const ready = async () => (readyLogged() && (await probeNats(host, port, 500)) ? 'ready' : 'not-yet');
    const outcome = await Promise.race([ready(), exited.then(() => 'exited' as const)]);
    if (spawnFailure) {
      throw new NatsServerStartError(`cannot run ${binary}: ${spawnFailure.message}`, output(), {
        cause: spawnFailure,
      });
    }
    if (outcome === 'ready' && running) return proc;
    if (outcome === 'exited' || !running) {
      const { code, signal } = await exited;
      throw new NatsServerStartError(
        `nats-server exited before it was ready (code ${code}, signal ${signal}): ${lastLine(output())}`,
        output(),
      );
    }
    if (Date.now() > deadline) {
      await proc.kill();
      throw new NatsServerStartError(`nats-server on ${host}:${port} not ready within the time limit`, output());
    }
    await sleep(50);
  }
}

function lastLine(text: string): string {
  const all = text.trim().split('\n');
  return all.findLast((l) => /\[(FTL|ERR)\]/.test(l)) ?? all.at(-1) ?? '';
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
