// A token bucket on the injected clock: bursts up to `perMinute`, refilled continuously at `perMinute`/min.
import type { Clock } from '../clock';

export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly clock: Clock,
    private readonly perMinute: number,
  ) {
    this.tokens = perMinute;
    this.last = clock.now();
  }
  /** Takes one token if there is one. */
  take(): boolean {
    const now = this.clock.now();
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    this.tokens = Math.min(this.perMinute, this.tokens + (elapsed * this.perMinute) / 60_000);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
