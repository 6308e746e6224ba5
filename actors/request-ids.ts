// Request ids: UUIDv7 (time first, so each commit's new rows go to the last pages of the indexes keyed by request id;
// bench/README.md, session 9), increasing within the process, formatted by the `uuid` package. Its own v7 draws 16
// bytes from WebCrypto's getRandomValues for every id (3.5 % of an offline denial's profile; bench/README.md,
// session 11); here they come from a pool that node:crypto refills 256 ids at a time, and the time and sequence are
// kept as `uuid` keeps them when it draws its own: a new millisecond starts from a random sequence, the same
// millisecond counts up.
import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

const ID_BYTES = 16;
const POOL_IDS = 256;

const pool = Buffer.alloc(ID_BYTES * POOL_IDS);
let next = pool.length;
let msecs = Number.NEGATIVE_INFINITY;
let seq = 0;

/** A new request id at `now` (epoch ms): a UUIDv7 that sorts after every one this process made before it. */
export function newRequestId(now: number): string {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  const random = pool.subarray(next, next + ID_BYTES);
  next += ID_BYTES;
  if (now > msecs) {
    msecs = now;
    // 31 random bits, as `uuid` seeds a millisecond's sequence.
    const [, , , , , , b6 = 0, b7 = 0, b8 = 0, b9 = 0] = random;
    seq = ((b6 & 0x7f) << 24) | (b7 << 16) | (b8 << 8) | b9;
  } else {
    seq = (seq + 1) | 0;
    if (seq === 0) msecs++;
  }
  return v7({ msecs, seq, random });
}
