// Which cores are alive, for the lease service's fairness (DESIGN §14): each core keeps a presence record
// `core.<id>` in the lease bucket, rewritten every heartbeat; a core whose record has not changed for a lease time
// by our own clock is taken for gone. Advisory only: it decides who waits longer before taking a free lease, never
// who may act (that is the lease's CAS and its validity).
import { createActor, type EventObject, fromCallback } from 'xstate';
import type { Clock, TimerHandle } from '../adapters/clock';
import type { Log } from '../adapters/log';
import { LeaseConflictError, type LeaseStore, presenceKey, presencePrefix } from '../adapters/nats/lease-store';

export interface LeasePresenceOptions {
  core: string;
  store: LeaseStore;
  clock: Clock;
  log: Log;
  leaseMs: number;
  /** Heartbeat interval (the lease service's renewal interval). */
  beatMs: number;
}

/** Runs `tick` now and then every `intervalMs` after the previous one ended. */
const heartbeat = fromCallback<EventObject, { clock: Clock; intervalMs: number; tick: () => Promise<unknown> }>(
  ({ input }) => {
    let handle: TimerHandle | undefined;
    let stopped = false;
    const run = () => {
      handle = undefined;
      void input.tick().finally(() => {
        if (!stopped) handle = input.clock.setTimeout(run, input.intervalMs);
      });
    };
    run();
    return () => {
      stopped = true;
      if (handle !== undefined) input.clock.clearTimeout(handle);
    };
  },
);

export class LeasePresence {
  private revision: number | undefined;
  private seq = 0;
  private readonly seen = new Map<string, { revision: number; firstSeenAt: number }>();
  private actor: { stop(): void } | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private warned = false;

  constructor(private readonly opts: LeasePresenceOptions) {}

  /** Writes this core's presence and reads the others' once; then keeps doing so every heartbeat. */
  async start(): Promise<void> {
    await this.beat();
    if (this.actor) return;
    const actor = createActor(heartbeat, {
      id: `lease-presence:${this.opts.core}`,
      input: { clock: this.opts.clock, intervalMs: this.opts.beatMs, tick: () => this.beat() },
    });
    this.actor = actor;
    actor.start();
  }

  /** Stops the heartbeat; with `leave`, deletes this core's presence so the others count it gone at once. */
  async stop(leave: boolean): Promise<void> {
    this.actor?.stop();
    this.actor = undefined;
    await this.running.catch(() => undefined);
    if (leave && this.revision !== undefined) {
      await this.opts.store.delete(presenceKey(this.opts.core), this.revision).catch(() => undefined);
    }
  }

  /** The cores seen alive (this one always among them), sorted. */
  live(): string[] {
    const now = this.opts.clock.now();
    const alive = [...this.seen].filter(([, s]) => now - s.firstSeenAt < this.opts.leaseMs).map(([core]) => core);
    return [...new Set([...alive, this.opts.core])].sort();
  }

  /** One heartbeat: rewrite our record, then read everyone's. Failures are logged once per streak. */
  beat(): Promise<void> {
    const run = this.running.catch(() => undefined).then(() => this.beatOnce());
    this.running = run;
    return run.then(
      () => {
        this.warned = false;
      },
      (error: unknown) => {
        if (!this.warned) this.opts.log.warn(`lease presence of ${this.opts.core}: ${(error as Error).message}`);
        this.warned = true;
      },
    );
  }

  private async beatOnce(): Promise<void> {
    const { store, core, clock } = this.opts;
    const key = presenceKey(core);
    const value = { core, epoch: 0, seq: ++this.seq };
    try {
      this.revision =
        this.revision === undefined ? await store.create(key, value) : await store.update(key, value, this.revision);
    } catch (error) {
      if (!(error instanceof LeaseConflictError)) throw error;
      // Our last write's answer was lost, or an earlier run of this core left its record: write over what is there.
      const current = await store.get(key);
      this.revision = current ? await store.update(key, value, current.revision) : await store.create(key, value);
    }
    const entries = await store.list(presencePrefix);
    const at = clock.now();
    const present = new Set<string>();
    for (const entry of entries) {
      const other = entry.value.core;
      present.add(other);
      const before = this.seen.get(other);
      if (before?.revision !== entry.revision) this.seen.set(other, { revision: entry.revision, firstSeenAt: at });
    }
    for (const other of this.seen.keys()) if (!present.has(other)) this.seen.delete(other);
  }
}
