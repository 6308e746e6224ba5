// Coalesces actor snapshot writes: the latest snapshot per actor, written in one transaction when the current
// burst of work (a sync cycle) ends. Requests never go through here: they are written at once.

export interface PendingWrite<T> {
  key: string;
  value: T;
}

export class WriteBatch<T> {
  private pending = new Map<string, T>();
  private scheduled = false;

  constructor(private readonly write: (rows: PendingWrite<T>[]) => void) {}

  put(key: string, value: T): void {
    this.pending.set(key, value);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  get size(): number {
    return this.pending.size;
  }

  /** Writes everything pending now. */
  flush(): void {
    this.scheduled = false;
    if (this.pending.size === 0) return;
    const rows = [...this.pending].map(([key, value]) => ({ key, value }));
    this.pending.clear();
    this.write(rows);
  }
}
