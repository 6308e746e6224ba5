// What the gateway is given. It holds no logic of its own: every answer comes from the core over the bus.
import type { Bus } from '../adapters/nats/bus';
import type { CoreClient, Principal } from '../adapters/nats/protocol';

/** The part of the injected clock the gateway uses (structurally the adapters' Clock). */
export interface GatewayClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: never): void;
}

/** The part of the injected log the gateway uses (structurally the adapters' Log). */
export interface GatewayLog {
  warn(message: string): void;
  error(message: string, cause?: unknown): void;
}

export interface RateLimitOptions {
  /** Tokens added to each API token's bucket per second. */
  perSecond: number;
  /** Bucket size: the burst one API token may send at once. */
  burst: number;
}

export interface GatewayDeps {
  /** Typed calls to the core (createCoreClient(bus)). */
  core: CoreClient;
  /** For Server-Sent Events (subscribe) and `connected` (503 while NATS is away). */
  bus: Pick<Bus, 'subscribe' | 'connected'>;
  clock?: GatewayClock;
  /** Per API token; `false` turns the limit off (benchmarks). Default DEFAULT_RATE_LIMIT. */
  rateLimit?: RateLimitOptions | false;
  log?: GatewayLog;
  /** Largest request body accepted; larger ones get 413. Default DEFAULT_MAX_BODY_BYTES. */
  maxBodyBytes?: number;
  /** `Retry-After` seconds sent with 503. Default 5. */
  retryAfterSeconds?: number;
  /** Interval of the SSE keep-alive comment. Default 15 s. */
  sseHeartbeatMs?: number;
  /** Most events an SSE client may fall behind by before events are dropped (and counted). Default 1000. */
  sseMaxPending?: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = { perSecond: 20, burst: 100 };
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
export const DEFAULT_RETRY_AFTER_SECONDS = 5;
export const DEFAULT_SSE_HEARTBEAT_MS = 15_000;
export const DEFAULT_SSE_MAX_PENDING = 1000;

/** Hono's environment for the gateway: what a handler may read from the context. */
export interface AppEnv {
  Variables: {
    /** The matched route's path pattern (metrics label). */
    route: string;
    principal: Principal;
  };
}

/** The clock used when none is injected. */
export const systemClock: GatewayClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** The log used when none is injected: warnings and errors on stderr. */
export const stderrLog: GatewayLog = {
  warn: (message) => process.stderr.write(`gateway: ${message}\n`),
  error: (message, cause) =>
    process.stderr.write(`gateway: ${message}${cause instanceof Error ? `: ${cause.stack ?? cause.message}` : ''}\n`),
};
