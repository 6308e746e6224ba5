// Which failures are worth another attempt, and how long to wait before it.
import { BusPayloadError, InvalidSubjectError } from '../nats/errors';
import { NotifyHttpError, NotifyTimeoutError } from './errors';

/** Network errors, timeouts, 5xx, 429 and 408 are retried; other 4xx (and 3xx) are not. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof NotifyHttpError) return err.status >= 500 || err.status === 429 || err.status === 408;
  if (err instanceof NotifyTimeoutError) return true;
  if (err instanceof InvalidSubjectError || err instanceof BusPayloadError) return false;
  return true;
}

/** Wait before attempt `attempt + 1`: base * 2^(attempt-1), at least a server's Retry-After, at most max. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, retryAfterMs?: number): number {
  const exp = baseMs * 2 ** Math.max(0, attempt - 1);
  return Math.min(maxMs, Math.max(exp, retryAfterMs ?? 0));
}

/** A Retry-After header (seconds or an HTTP date) in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
