// What the gateway is given. It holds no logic of its own: every answer comes from the core over the bus.
import type { Context } from 'hono';
import type { Bus, CoreClient, Principal } from '../protocol';

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

export interface FailureLimitOptions {
  /** Failed authentications one address may have within `windowMs`; then it gets 429 until the oldest ages out. */
  maxFailures: number;
  windowMs: number;
  /** Addresses tracked at most; beyond it the one that failed least recently is forgotten. Default 10 000. */
  maxKeys?: number;
}

/** The client's address, or undefined when it cannot be known (e.g. `app.request()` without a Node server). */
export type ClientAddressSource = (c: Context<AppEnv>) => string | undefined;

export interface GatewayDeps {
  /** Typed calls to the core (createCoreClient(bus)). */
  core: CoreClient;
  /**
   * For Server-Sent Events (`replay` from the JetStream events stream when the bus has it, else `subscribe`) and
   * `connected` (503 while NATS is away).
   */
  bus: Pick<Bus, 'subscribe' | 'connected' | 'replay'>;
  clock?: GatewayClock;
  /** Per API token; `false` turns the limit off (benchmarks). Default DEFAULT_RATE_LIMIT. */
  rateLimit?: RateLimitOptions | false;
  /**
   * Per client address: presented tokens that fail (malformed, unknown, revoked) are counted, and an address over
   * the limit gets 429 before the core is asked. `false` turns it off. Default DEFAULT_AUTH_FAILURE_LIMIT.
   */
  authFailureLimit?: FailureLimitOptions | false;
  /**
   * Where a request's client address comes from. Default: the Node server's socket (`trustedProxies` applied).
   * A request whose address is unknown is not counted.
   */
  clientAddress?: ClientAddressSource;
  /**
   * Addresses of reverse proxies whose X-Forwarded-For is believed (only when the socket's peer is one of them).
   * Default none: X-Forwarded-For is ignored.
   */
  trustedProxies?: readonly string[];
  log?: GatewayLog;
  /** Largest request body accepted; larger ones get 413. Default DEFAULT_MAX_BODY_BYTES. */
  maxBodyBytes?: number;
  /** `Retry-After` seconds sent with 503. Default 5. */
  retryAfterSeconds?: number;
  /** Interval of the SSE keep-alive comment. Default 15 s. */
  sseHeartbeatMs?: number;
  /** Most events an SSE client may fall behind by before events are dropped (and counted). Default 1000. */
  sseMaxPending?: number;
  /** Event streams one API token may hold open at once; one more gets 429. Default DEFAULT_SSE_MAX_STREAMS_PER_TOKEN. */
  sseMaxStreamsPerToken?: number;
  /**
   * /metrics reports `overseer_core_up 0` once the core's last published summary is older than this (the core
   * publishes one per health cycle, 30 s by default). Default DEFAULT_SUMMARY_STALE_AFTER_MS.
   */
  summaryStaleAfterMs?: number;
  /** Dashboard sessions unused for this long are forgotten (signed out). Default DEFAULT_SESSION_IDLE_MS (12 h). */
  sessionIdleMs?: number;
  /** Dashboard sessions held at once; one more forgets the least recently used. Default DEFAULT_MAX_SESSIONS. */
  maxSessions?: number;
  /** The built dashboard (index.html, assets/) served at `/`. Default the project's `ui/dist`. */
  uiDistDir?: string;
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = { perSecond: 20, burst: 100 };
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
export const DEFAULT_RETRY_AFTER_SECONDS = 5;
export const DEFAULT_SSE_HEARTBEAT_MS = 15_000;
export const DEFAULT_SSE_MAX_PENDING = 1000;
export const DEFAULT_SSE_MAX_STREAMS_PER_TOKEN = 8;
/** Three default health cycles. */
export const DEFAULT_SUMMARY_STALE_AFTER_MS = 90_000;
export const DEFAULT_AUTH_FAILURE_LIMIT: FailureLimitOptions = { maxFailures: 10, windowMs: 60_000, maxKeys: 10_000 };

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
