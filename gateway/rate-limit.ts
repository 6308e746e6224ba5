// Per-token rate limit: a token bucket per API token, refilled continuously on the injected clock.
import type { GatewayClock, RateLimitOptions } from './deps';

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
