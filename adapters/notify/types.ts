// What is notified, and what the notifier reports about itself. Plain data, no I/O.
import type { Clock } from '../clock';
import type { Log } from '../log';
import type { Bus } from '../nats/bus';

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** info < warning < critical. */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { info: 0, warning: 1, critical: 2 };

export interface Notification {
  /** Deduplication key, e.g. incident id + status: the same key within the window is sent once. */
  key: string;
  severity: Severity;
  title: string;
  text: string;
  /** What it is about, e.g. `vm:lab/101`. */
  subject?: string;
  /** epoch ms, from the injected clock */
  at: number;
  /** Extra JSON data (dropped, with a warning, when it cannot become JSON). */
  data?: unknown;
}

export type ChannelType = 'webhook' | 'slack' | 'nats';

export interface ChannelStats {
  type: ChannelType;
  /** Delivered. */
  sent: number;
  /** Given up on (all attempts failed, or a non-retryable answer). */
  failed: number;
  /** Extra attempts made after a failed one. */
  retries: number;
  /** Below the channel's minSeverity. */
  filtered: number;
  /** Dropped by the rate limit. */
  rateLimited: number;
  /** Dropped from a full queue (oldest first). */
  overflowed: number;
  /** Waiting in the queue now. */
  queued: number;
  /** Being delivered now (0 or 1). */
  inFlight: number;
  /** Dropped unsent at close(). */
  abandoned: number;
  /** Held back by quiet hours (never sent late: one summary is sent when the window ends). */
  quieted: number;
  /** When the last delivery succeeded (epoch ms, the injected clock). */
  lastSentAt?: number;
  /** When the channel last gave up on one, and why. */
  lastFailedAt?: number;
  lastError?: string;
}

export interface NotifierStats {
  /** notify() calls. */
  received: number;
  /** Suppressed as repeats within the dedupe window. */
  deduplicated: number;
  /** Rejected as malformed (logged). */
  invalid: number;
  channels: Record<string, ChannelStats>;
}

export interface Notifier {
  /** Routes, dedupes, rate-limits and queues; returns at once. Never blocks, never throws. */
  notify(n: Notification): void;
  /** Resolves when every queue is empty and nothing is in flight (tests, shutdown). */
  flush(): Promise<void>;
  stats(): NotifierStats;
  /** Stops accepting, aborts in-flight attempts and backoff waits, drops what is queued (counted). */
  close(): Promise<void>;
}

export interface NotifierDeps {
  clock: Clock;
  log: Log;
  /** Needed by nats channels. */
  bus?: Bus;
  /** Default: global fetch. */
  fetch?: typeof fetch;
}
