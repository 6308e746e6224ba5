// Webhook signatures (the Stripe/Slack scheme): every attempt carries
//   X-Overseer-Timestamp: <Unix time in seconds when the attempt was sent>
//   X-Overseer-Signature: v1=<hex HMAC-SHA256, keyed with the channel's secret, of `${timestamp}.${body}`>
// The timestamp is signed, so a captured request cannot be replayed later with a fresh timestamp: a receiver
// recomputes the HMAC over the header's timestamp, a '.', and the exact body bytes, compares in constant time,
// and rejects timestamps further than a tolerance (5 minutes) from its own clock.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Overseer-Signature';
/** When the attempt was sent, Unix seconds (injected clock); covered by the signature. */
export const TIMESTAMP_HEADER = 'X-Overseer-Timestamp';
/** The scheme's prefix in the signature header (`v1=`: HMAC-SHA256 of `${timestamp}.${body}`). */
export const SIGNATURE_VERSION = 'v1';
/** How far a receiver should let a timestamp be from its own clock, either way. */
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

/** A timestamp header: whole Unix seconds, digits only. */
const TIMESTAMP = /^\d{1,12}$/;

/** The Unix-seconds timestamp of an epoch-ms instant. */
export function signatureTimestamp(nowMs: number): string {
  return String(Math.floor(nowMs / 1000));
}

/** The signature header's value for `body` sent at `timestamp` (Unix seconds). */
export function signBody(secret: string, timestamp: string | number, body: string): string {
  const hmac = createHmac('sha256', secret).update(`${timestamp}.`, 'utf8').update(body, 'utf8');
  return `${SIGNATURE_VERSION}=${hmac.digest('hex')}`;
}

/** Both headers of one webhook attempt sent at `nowMs` (epoch ms, the injected clock). */
export function signatureHeaders(secret: string, body: string, nowMs: number): Record<string, string> {
  const timestamp = signatureTimestamp(nowMs);
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: signBody(secret, timestamp, body) };
}

export interface VerifyOptions {
  /** The receiver's clock, epoch ms. */
  nowMs: number;
  /** Default DEFAULT_SIGNATURE_TOLERANCE_SECONDS. */
  toleranceSeconds?: number;
}

export type VerifyResult =
  | { ok: true; timestamp: number }
  | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

/**
 * For receivers: is `body` signed with `secret` at `timestamp`, and is that timestamp within the tolerance of
 * `nowMs`? Constant-time comparison. Exact replays inside the tolerance are the receiver's to refuse (remember
 * the signatures seen for that long, or treat the notification's `key` as idempotent).
 */
export function checkSignature(
  secret: string,
  body: string,
  signature: string | null | undefined,
  timestamp: string | null | undefined,
  opts: VerifyOptions,
): VerifyResult {
  if (typeof signature !== 'string' || typeof timestamp !== 'string') return { ok: false, reason: 'missing' };
  const ts = timestamp.trim();
  if (!TIMESTAMP.test(ts)) return { ok: false, reason: 'malformed' };
  const tolerance = opts.toleranceSeconds ?? DEFAULT_SIGNATURE_TOLERANCE_SECONDS;
  if (Math.abs(opts.nowMs / 1000 - Number(ts)) > tolerance) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(signBody(secret, ts, body));
  const given = Buffer.from(signature.trim());
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'mismatch' };
  return { ok: true, timestamp: Number(ts) };
}

/** checkSignature, as a yes or no. */
export function verifySignature(
  secret: string,
  body: string,
  signature: string | null | undefined,
  timestamp: string | null | undefined,
  opts: VerifyOptions,
): boolean {
  return checkSignature(secret, body, signature, timestamp, opts).ok;
}
