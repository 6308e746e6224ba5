// Time, injected. Nothing in Overseer reads the wall clock or sleeps except through a Clock,
// so every loop and delay can run on a SimulatedClock in tests.

export type TimerHandle = { readonly id: number } | ReturnType<typeof setTimeout>;

/** Compatible with XState's `clock` actor option (setTimeout/clearTimeout). */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Resolves after `ms`, or rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function sleepWith(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clock.clearTimeout(handle);
      reject(signal?.reason);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  }
  clearTimeout(handle: TimerHandle): void {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(this, ms, signal);
  }
}

interface SimTimer {
  id: number;
  at: number;
  fn: () => void;
}

/** A clock that moves only when told to. Timers fire in time order, ties in creation order. */
export class SimulatedClock implements Clock {
  private current: number;
  private seq = 0;
  private timers = new Map<number, SimTimer>();

  constructor(start = 0) {
    this.current = start;
  }
  now(): number {
    return this.current;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { id, at: this.current + Math.max(0, ms), fn });
    return { id };
  }
  clearTimeout(handle: TimerHandle): void {
    if (typeof handle === 'object' && handle !== null && 'id' in handle && typeof handle.id === 'number') {
      this.timers.delete(handle.id);
    }
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(this, ms, signal);
  }
  /** When the next timer is due, if any (scenario runners step from timer to timer). */
  nextTimerAt(): number | undefined {
    let at: number | undefined;
    for (const t of this.timers.values()) if (at === undefined || t.at < at) at = t.at;
    return at;
  }
  /** Pending timers (for tests). */
  get pending(): number {
    return this.timers.size;
  }
  /** Moves time forward by `ms`, firing every timer due on the way (including ones set while firing). */
  advance(ms: number): void {
    const until = this.current + ms;
    for (;;) {
      const next = this.nextDue(until);
      if (!next) break;
      this.timers.delete(next.id);
      this.current = next.at;
      next.fn();
    }
    this.current = until;
  }
  /**
   * Like advance, but lets promise callbacks run between timers, so async work started by a timer
   * (an invoked promise actor, an awaited sleep) settles before the next timer fires.
   */
  async advanceAsync(ms: number, step = 0): Promise<void> {
    const until = this.current + ms;
    await flushMicrotasks();
    for (;;) {
      const next = this.nextDue(until);
      if (!next) break;
      this.timers.delete(next.id);
      this.current = next.at;
      next.fn();
      await flushMicrotasks();
      if (step > 0) await new Promise((r) => setImmediate(r));
    }
    this.current = until;
    await flushMicrotasks();
  }
  private nextDue(until: number): SimTimer | undefined {
    let best: SimTimer | undefined;
    for (const t of this.timers.values()) {
      if (t.at <= until && (!best || t.at < best.at || (t.at === best.at && t.id < best.id))) best = t;
    }
    return best;
  }
}

/** Lets pending promise callbacks and I/O-free async chains settle. */
export async function flushMicrotasks(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}
