// Webhook signatures: `X-Overseer-Signature: sha256=<hex HMAC-SHA256 of the exact body, keyed with the secret>`.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Overseer-Signature';
/** When the attempt was sent, epoch ms (injected clock). Not covered by the signature. */
export const TIMESTAMP_HEADER = 'X-Overseer-Timestamp';

/** The header value for `body`. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** For receivers: does `header` sign `body` with `secret`? Constant-time comparison. */
export function verifySignature(secret: string, body: string, header: string | null | undefined): boolean {
  if (typeof header !== 'string') return false;
  const expected = Buffer.from(signBody(secret, body));
  const given = Buffer.from(header.trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}
