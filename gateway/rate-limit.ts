// Per-token rate limit: a token bucket per API token, refilled continuously on the injected clock.
// Per-address limit on failed authentication: a sliding window of failures per client address.
import type { FailureLimitOptions, GatewayClock, RateLimitOptions } from './deps';

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets kept before idle full ones are forgotten. */
const MAX_BUCKETS = 10_000;

export class TokenBucketLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly opts: RateLimitOptions,
    private readonly clock: Pick<GatewayClock, 'now'>,
  ) {
    if (!(opts.perSecond > 0) || !(opts.burst >= 1)) {
      throw new RangeError(`rate limit needs perSecond > 0 and burst >= 1 (got ${opts.perSecond}, ${opts.burst})`);
    }
  }

  /** Takes one token from `key`'s bucket. Returns 0 when allowed, else the whole seconds to wait. */
  take(key: string): number {
    const now = this.clock.now();
    const bucket = this.refill(key, now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.opts.perSecond));
  }

  private refill(key: string, now: number): Bucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= MAX_BUCKETS) this.forgetFull(now);
      bucket = { tokens: this.opts.burst, at: now };
      this.buckets.set(key, bucket);
      return bucket;
    }
    const elapsed = Math.max(0, now - bucket.at) / 1000;
    bucket.tokens = Math.min(this.opts.burst, bucket.tokens + elapsed * this.opts.perSecond);
    bucket.at = now;
    return bucket;
  }

  /** Drops buckets that have refilled completely (they behave exactly like new ones). */
  private forgetFull(now: number): void {
    const fullAfterMs = (this.opts.burst / this.opts.perSecond) * 1000;
    for (const [key, bucket] of this.buckets) {
      if (now - bucket.at >= fullAfterMs) this.buckets.delete(key);
    }
  }
}

/** Keys a FailureLimiter tracks when not told otherwise. */
export const DEFAULT_FAILURE_KEYS = 10_000;

/**
 * Counts failures per key (a client address) in a sliding window. Each key holds at most `maxFailures`
 * timestamps and at most `maxKeys` keys are kept, so memory is bounded whatever the traffic. A success is not
 * a reset: failures only age out, so interleaving valid requests does not buy more guesses.
 */
export class FailureLimiter {
  /** Failure times per key, oldest first; Map order is the order keys last failed (oldest first). */
  private readonly failures = new Map<string, number[]>();
  private readonly maxKeys: number;

  constructor(
    private readonly opts: FailureLimitOptions,
    private readonly clock: Pick<GatewayClock, 'now'>,
  ) {
    this.maxKeys = opts.maxKeys ?? DEFAULT_FAILURE_KEYS;
    if (!Number.isInteger(opts.maxFailures) || opts.maxFailures < 1 || !(opts.windowMs > 0) || !(this.maxKeys >= 1)) {
      throw new RangeError(
        `failure limit needs an integer maxFailures >= 1, windowMs > 0 and maxKeys >= 1 (got ${opts.maxFailures}, ${opts.windowMs}, ${this.maxKeys})`,
      );
    }
  }

  /** 0 when `key` may try, else the whole seconds until its oldest counted failure leaves the window. */
  check(key: string): number {
    const times = this.recent(key, this.clock.now());
    if (!times || times.length < this.opts.maxFailures) return 0;
    return Math.max(1, Math.ceil((times[0]! + this.opts.windowMs - this.clock.now()) / 1000));
  }

  /** Records one failure of `key`. */
  fail(key: string): void {
    const now = this.clock.now();
    const times = this.recent(key, now) ?? [];
    this.failures.delete(key);
    if (this.failures.size >= this.maxKeys) this.evict(now);
    times.push(now);
    if (times.length > this.opts.maxFailures) times.splice(0, times.length - this.opts.maxFailures);
    this.failures.set(key, times);
  }

  /** Keys currently tracked (for tests and metrics). */
  get size(): number {
    return this.failures.size;
  }

  /** `key`'s failures still inside the window (expired ones dropped), or undefined when none. */
  private recent(key: string, now: number): number[] | undefined {
    const times = this.failures.get(key);
    if (!times) return undefined;
    const from = now - this.opts.windowMs;
    let expired = 0;
    while (expired < times.length && times[expired]! <= from) expired += 1;
    if (expired === times.length) {
      this.failures.delete(key);
      return undefined;
    }
    if (expired > 0) times.splice(0, expired);
    return times;
  }

  /**
   * Makes room for one key. Keys are in the order they last failed, so the expired ones are at the front:
   * they go first, else the key that failed least recently. Amortised O(1), whatever the number of keys.
   */
  private evict(now: number): void {
    const from = now - this.opts.windowMs;
    for (const [key, times] of this.failures) {
      if (times[times.length - 1]! > from) break;
      this.failures.delete(key);
    }
    if (this.failures.size < this.maxKeys) return;
    const oldest = this.failures.keys().next();
    if (!oldest.done) this.failures.delete(oldest.value);
  }
}
