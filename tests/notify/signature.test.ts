// Webhook signatures: HMAC-SHA256 of `${timestamp}.${body}`, the timestamp in its own header, checked by a
// receiver against its clock (5 minutes either way by default).
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkSignature,
  SIGNATURE_HEADER,
  signatureHeaders,
  signBody,
  TIMESTAMP_HEADER,
  verifySignature,
} from '../../adapters/notify';

const SECRET = 'signature-secret-0123456789';
const BODY = '{"key":"incident-1:open","title":"VM 101 stopped — unexpectedly"}';
const NOW_MS = 1_700_000_000_500;

describe('notify signature', () => {
  it('signature - headers carry Unix seconds and the HMAC of timestamp, dot, body', () => {
    const headers = signatureHeaders(SECRET, BODY, NOW_MS);
    expect(headers[TIMESTAMP_HEADER]).toBe('1700000000');
    const hmac = createHmac('sha256', SECRET)
      .update(Buffer.from(`1700000000.${BODY}`, 'utf8'))
      .digest('hex');
    expect(headers[SIGNATURE_HEADER]).toBe(`v1=${hmac}`);
    expect(signBody(SECRET, 1_700_000_000, BODY)).toBe(`v1=${hmac}`);
  });

  it('signature - a fresh, untouched delivery verifies', () => {
    const h = signatureHeaders(SECRET, BODY, NOW_MS);
    expect(checkSignature(SECRET, BODY, h[SIGNATURE_HEADER], h[TIMESTAMP_HEADER], { nowMs: NOW_MS + 1000 })).toEqual({
      ok: true,
      timestamp: 1_700_000_000,
    });
  });

  it('signature - another timestamp, body or secret does not verify', () => {
    const h = signatureHeaders(SECRET, BODY, NOW_MS);
    const sig = h[SIGNATURE_HEADER];
    const at = { nowMs: NOW_MS };
    // A replay with a fresh timestamp and the old signature fails: the timestamp is signed.
    expect(checkSignature(SECRET, BODY, sig, '1700000001', at)).toEqual({ ok: false, reason: 'mismatch' });
    expect(checkSignature(SECRET, `${BODY} `, sig, h[TIMESTAMP_HEADER], at)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifySignature('another-secret-0123456', BODY, sig, h[TIMESTAMP_HEADER], at)).toBe(false);
    // The body alone, signed the old way, is not accepted.
    const bodyOnly = `v1=${createHmac('sha256', SECRET).update(BODY).digest('hex')}`;
    expect(verifySignature(SECRET, BODY, bodyOnly, h[TIMESTAMP_HEADER], at)).toBe(false);
  });

  it('signature - timestamps older or newer than the tolerance are stale', () => {
    const h = signatureHeaders(SECRET, BODY, NOW_MS);
    const check = (nowMs: number, toleranceSeconds?: number) =>
      checkSignature(SECRET, BODY, h[SIGNATURE_HEADER], h[TIMESTAMP_HEADER], {
        nowMs,
        ...(toleranceSeconds !== undefined ? { toleranceSeconds } : {}),
      });
    expect(check(NOW_MS + 299_000).ok).toBe(true);
    expect(check(NOW_MS + 301_000)).toEqual({ ok: false, reason: 'stale' });
    expect(check(NOW_MS - 301_000)).toEqual({ ok: false, reason: 'stale' });
    expect(check(NOW_MS + 61_000, 60)).toEqual({ ok: false, reason: 'stale' });
  });

  it('signature - missing or malformed headers are refused', () => {
    const h = signatureHeaders(SECRET, BODY, NOW_MS);
    const at = { nowMs: NOW_MS };
    expect(checkSignature(SECRET, BODY, undefined, h[TIMESTAMP_HEADER], at)).toEqual({ ok: false, reason: 'missing' });
    expect(checkSignature(SECRET, BODY, h[SIGNATURE_HEADER], null, at)).toEqual({ ok: false, reason: 'missing' });
    for (const ts of ['', '1.7e9', '-1700000000', '1700000000abc', '0x65']) {
      expect(checkSignature(SECRET, BODY, h[SIGNATURE_HEADER], ts, at)).toEqual({ ok: false, reason: 'malformed' });
    }
    expect(verifySignature(SECRET, BODY, 'v1=00', h[TIMESTAMP_HEADER], at)).toBe(false);
  });
});
