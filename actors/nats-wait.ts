// Connecting to NATS at start-up without hanging in silence: when no server answers, one line says what Overseer
// is waiting for, and after OVERSEER_NATS_WAIT_SECONDS (default 15) it gives up with an error naming the server
// and what to do. Wrong credentials fail at once. Once connected, the bus reconnects forever, as before.
import type { Clock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import { BusConnectError, connectBus, type NatsBus } from '../adapters/nats';
import { ConfigError } from './config';
import { natsConnectOptions, serversOf } from './nats-endpoint';
import type { NatsEndpoint } from './nats-types';
import { NatsUnavailableError } from './nats-types';

/** Environment variable: how long start-up waits for a NATS server to answer, in seconds. */
export const NATS_WAIT_ENV = 'OVERSEER_NATS_WAIT_SECONDS';
export const DEFAULT_NATS_WAIT_SECONDS = 15;
/** Pause between two attempts while waiting. */
const RETRY_MS = 500;
/** Longest single attempt (a server that accepts the TCP connection but never speaks). */
const ATTEMPT_MS = 5_000;

/** OVERSEER_NATS_WAIT_SECONDS in ms, checked (a number of seconds >= 0; 0: one attempt). */
export function natsWaitMs(env: NodeJS.ProcessEnv): number {
  const raw = env[NATS_WAIT_ENV];
  if (raw === undefined || raw.trim() === '') return DEFAULT_NATS_WAIT_SECONDS * 1000;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new ConfigError(`${NATS_WAIT_ENV} must be a number of seconds >= 0 (got '${raw}')`, NATS_WAIT_ENV);
  }
  return Math.round(seconds * 1000);
}

export interface ConnectEndpointOptions {
  log: Log;
  clock: Clock;
  /** How long to wait for a server to answer; default DEFAULT_NATS_WAIT_SECONDS. */
  waitMs?: number | undefined;
}

/**
 * One part's connection to the endpoint (see natsConnectOptions). While no server answers: logs once "waiting for
 * NATS at …", tries every 0.5 s, and rejects with NatsUnavailableError after `waitMs`. A refused login (BusAuthError)
 * rejects at once.
 */
export async function connectEndpoint(
  endpoint: NatsEndpoint,
  who: 'core' | 'gateway',
  opts: ConnectEndpointOptions,
): Promise<NatsBus> {
  const { log, clock } = opts;
  const waitMs = opts.waitMs ?? DEFAULT_NATS_WAIT_SECONDS * 1000;
  const where = serversOf(endpoint.url).join(', ');
  const source = endpoint.embedded ? 'the embedded nats-server' : 'NATS_URL';
  const deadline = clock.now() + waitMs;
  let waiting = false;
  // The clock's timers do not hold the process open; while waiting, nothing else may: this handle does (it never
  // fires, it measures nothing).
  const keepAlive = setInterval(() => {}, 1 << 30);
  try {
    return await attempt();
  } finally {
    clearInterval(keepAlive);
  }

  async function attempt(): Promise<NatsBus> {
    for (;;) {
      const left = deadline - clock.now();
      try {
        const bus = await connectBus({
          ...natsConnectOptions(endpoint, who, log),
          waitOnFirstConnect: false,
          connectTimeoutMs: Math.max(1_000, Math.min(ATTEMPT_MS, left)),
        });
        if (waiting) log.info(`NATS at ${where} answered; connected as ${who}`);
        return bus;
      } catch (err) {
        if (!(err instanceof BusConnectError)) throw err;
        if (clock.now() >= deadline) {
          const cause = err.cause instanceof Error ? err.cause.message : err.message;
          throw new NatsUnavailableError(
            `no NATS server answered at ${where} (${source}) within ${Math.round(waitMs / 1000)} s (${cause}): ${endpoint.embedded ? 'it may have stopped' : 'start it, or point NATS_URL at one'}; ${NATS_WAIT_ENV} sets how long to wait`,
            { cause: err },
          );
        }
        if (!waiting) {
          waiting = true;
          log.info(
            `waiting for NATS at ${where} (${source}) … giving up after ${Math.round(waitMs / 1000)} s (${NATS_WAIT_ENV})`,
          );
        }
      }
      await clock.sleep(Math.max(0, Math.min(RETRY_MS, deadline - clock.now())));
    }
  }
}
