// Remembers which keys were sent, for a window on the injected clock. Bounded: the oldest keys go first.
import type { Clock } from '../clock';

export const MAX_DEDUPE_KEYS = 10_000;

export class Deduper {
  /** key → when it was let through; insertion order is time order. */
  private readonly sent = new Map<string, number>();
  constructor(
    private readonly clock: Clock,
    private readonly windowMs: number,
    private readonly maxKeys = MAX_DEDUPE_KEYS,
  ) {}

  /** True when `key` was let through less than the window ago (a repeat); otherwise records it. */
  isRepeat(key: string): boolean {
    if (this.windowMs <= 0) return false;
    const now = this.clock.now();
    for (const [k, at] of this.sent) {
      if (now - at < this.windowMs) break;
      this.sent.delete(k);
    }
    const at = this.sent.get(key);
    if (at !== undefined && now - at < this.windowMs) return true;
    this.sent.delete(key);
    this.sent.set(key, now);
    if (this.sent.size > this.maxKeys) {
      const oldest = this.sent.keys().next().value;
      if (oldest !== undefined) this.sent.delete(oldest);
    }
    return false;
  }
}
