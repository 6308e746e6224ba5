// Request ids (actors/request-ids.ts): UUIDv7 from pooled random bytes, increasing within the process whatever the
// clock does between two ids, distinct, and carrying the time they were made at.
import { describe, expect, it } from 'vitest';
import { newRequestId } from '../../actors/request-ids';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** The 48-bit millisecond time at the front of a UUIDv7. */
const msOf = (id: string) => Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16);

describe('request ids', () => {
  it('request ids - many in one millisecond, then later ones, then a clock that went back: each sorts after the last', () => {
    const t = 1_790_000_000_000;
    const times = [...Array(2_000).fill(t), ...Array.from({ length: 1_000 }, (_, i) => t + 1 + i), t - 5_000, t];
    const ids = times.map((now) => newRequestId(now));
    for (const id of ids) expect(id).toMatch(V7);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(msOf(ids[0] as string)).toBe(t);
    expect(msOf(ids[2_500] as string)).toBe(t + 501);
  });

  it('request ids - the random part differs from id to id across refills of the pool', () => {
    const tails = new Set(Array.from({ length: 1_000 }, () => newRequestId(1_900_000_000_000).slice(-12)));
    expect(tails.size).toBe(1_000);
  });
});
