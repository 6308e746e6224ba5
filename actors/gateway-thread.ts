// With OVERSEER_GATEWAY_THREAD=on, `serve --role all` runs its gateway on a worker thread: a second event loop, so the
// HTTP server, the tokens and the NATS requests of the gateway run on a CPU core beside the core's instead of taking
// turns with it on one, as `--role core` and `--role gateway` in processes of their own do. On 2 cores: 1.3× the
// decisions per second, half the p99 at 1,000 requests/s, and about 50 ms more from a restart to the first answer
// (the thread's own start; bench/README, session 13), which is why it is not the default. The thread is the gateway
// as `--role gateway` runs it: its own NATS connection as the gateway's user, nothing shared with the core but NATS.
// Its program is gateway-thread-entry.mjs beside this file (tsx), or beside the built bundle in dist/server (a bundle
// of the gateway's part of the program only, a quarter of the whole).
import { fileURLToPath } from 'node:url';
import { parentPort, Worker } from 'node:worker_threads';
import { SystemClock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import { createLineLog, createTurnLines } from '../adapters/log';
import type { NatsBus } from '../adapters/nats';
import { startGateway } from '../gateway';
import { createCoreClient } from '../protocol';
import type { NatsEndpoint } from './nats-types';
import { connectEndpoint } from './nats-wait';

/** How the thread connects to NATS: as the process's gateway, on the endpoint the process resolved. */
export interface GatewayThreadConnect {
  /** The endpoint (the embedded server or NATS_URL), without the server's handle. */
  endpoint: Omit<NatsEndpoint, 'server' | 'probed'>;
  natsWaitMs: number;
}

/** Where and how the thread's gateway listens. */
export interface GatewayThreadListen {
  port: number;
  hostname: string;
  rateLimit: boolean;
}

type ToThread =
  | { type: 'connect'; connect: GatewayThreadConnect }
  | { type: 'listen'; listen: GatewayThreadListen }
  | { type: 'stop' };
type FromThread =
  | { type: 'listening'; url: string }
  | { type: 'failed'; name: string; message: string }
  | { type: 'stopped' };

/** How long stop() waits for the gateway to close its connections before it ends the thread anyway. */
const STOP_WAIT_MS = 5_000;

/** The thread's program (import.meta.url is the built bundle's own in dist/server). */
export const GATEWAY_THREAD_ENTRY = fileURLToPath(new URL('./gateway-thread-entry.mjs', import.meta.url));

/** The gateway's failure to start, as the thread reported it (its name and message). */
export class GatewayThreadError extends Error {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

export interface GatewayThread {
  /** Connects the thread to NATS (while the process restores the core). */
  connect(connect: GatewayThreadConnect): void;
  /** Listens, once connected; resolves with the gateway's URL. */
  listen(listen: GatewayThreadListen): Promise<string>;
  /** Stops the gateway (its listener, its connections, its NATS connection) and the thread. */
  stop(): Promise<void>;
}

/**
 * Starts loading the program on a worker thread at once; `connect` then hands it the endpoint, and `listen` (once the
 * core serves) opens the gateway: the thread loads and connects while the process restores the core. `onExit` is told
 * when the thread ends without being stopped.
 */
export function spawnGatewayThread(
  log: Log,
  onExit: (reason: string) => void,
  entry: string = GATEWAY_THREAD_ENTRY,
): GatewayThread {
  const worker = new Worker(entry);
  let stopping = false;
  let exited: string | undefined;
  let waiting: { resolve: (message: FromThread) => void; reject: (error: Error) => void } | undefined;
  const next = () =>
    new Promise<FromThread>((resolve, reject) => {
      waiting = { resolve, reject };
    });
  const settle = () => {
    const w = waiting;
    waiting = undefined;
    return w;
  };
  worker.on('message', (message: FromThread) => settle()?.resolve(message));
  worker.on('error', (error) => {
    const w = settle();
    if (w) w.reject(error);
    else if (!stopping) log.error('the gateway thread failed', error);
  });
  worker.on('exit', (code) => {
    const reason = `the gateway thread ended (exit code ${code})`;
    exited = reason;
    settle()?.reject(new Error(reason));
    if (!stopping) onExit(reason);
  });
  return {
    connect(connect) {
      worker.postMessage({ type: 'connect', connect } satisfies ToThread);
    },
    async listen(listen) {
      if (exited) throw new Error(exited);
      const answer = next();
      worker.postMessage({ type: 'listen', listen } satisfies ToThread);
      const message = await answer;
      if (message.type === 'failed') throw new GatewayThreadError(message.name, message.message);
      if (message.type !== 'listening') throw new Error(`the gateway thread answered '${message.type}' to listen`);
      return message.url;
    },
    async stop() {
      if (stopping || exited) return;
      stopping = true;
      const stopped = next().catch(() => undefined);
      worker.postMessage({ type: 'stop' } satisfies ToThread);
      await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, STOP_WAIT_MS).unref())]);
      await worker.terminate();
    },
  };
}

/** The thread's side: connects on `connect`, serves on `listen`, and stops on `stop`. */
export function runGatewayThread(): void {
  const port = parentPort;
  if (!port) throw new Error('runGatewayThread runs on the gateway thread only');
  const clock = new SystemClock();
  const lines = createTurnLines((chunk) => process.stdout.write(chunk));
  const log = createLineLog({ clock, write: lines.write });
  const send = (message: FromThread) => port.postMessage(message);
  let connected: Promise<NatsBus> | undefined;
  let stop: (() => Promise<void>) | undefined;
  const listen = async ({ port: listenPort, hostname, rateLimit }: GatewayThreadListen) => {
    if (!connected) throw new Error('the gateway thread was asked to listen before it was given NATS');
    const bus = await connected;
    const gateway = await startGateway(
      { core: createCoreClient(bus), bus, clock, log, ...(rateLimit ? {} : { rateLimit: false }) },
      { port: listenPort, hostname },
    );
    stop = async () => {
      await gateway.close();
      await bus.close();
    };
    return gateway.url;
  };
  port.on('message', async (message: ToThread) => {
    if (message.type === 'connect') {
      const { endpoint, natsWaitMs } = message.connect;
      connected = connectEndpoint(endpoint, 'gateway', { log, clock, waitMs: natsWaitMs });
      // Its failure is the answer to `listen`; until then it is not unhandled.
      connected.catch(() => {});
      // Until it listens, stopping closes the connection, if it was made.
      stop = async () => {
        await (await connected?.catch(() => undefined))?.close();
      };
    } else if (message.type === 'listen') {
      try {
        send({ type: 'listening', url: await listen(message.listen) });
      } catch (error) {
        const failure = error instanceof Error ? error : new Error(String(error));
        send({ type: 'failed', name: failure.name, message: failure.message });
      }
    } else {
      await stop?.().catch((error) => log.error('stopping the gateway failed', error));
      lines.flush();
      send({ type: 'stopped' });
      port.close();
    }
  });
}
