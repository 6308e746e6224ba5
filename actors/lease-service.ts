// The lease service: which Proxmox clusters this core may act on (DESIGN §14, issue 15).
//
// Design. Each configured cluster has one record `cluster.<name>` in a replicated JetStream KV bucket (LeaseStore),
// and one lease actor here (machines/lease.machine.ts) that watches it, takes it when it is free or its holder has
// stopped renewing (a revision unchanged for a lease time by this core's clock), renews it by compare-and-set every
// leaseMs/3, and deletes it on a clean stop so another core takes it at once. JetStream (R3) decides every race: a
// write lands only on the revision its writer saw. No clocks are compared between cores: the owner counts its
// validity from the send time of its last stored renewal, `sentAt + leaseMs - marginMs`, and an observer waits a
// full lease time after it first *saw* that renewal, so the owner's validity always ends first (the proof is at the
// top of the machine). A core cut off from NATS cannot renew; its validity runs out on its own clock, without any
// message, before anyone can take its clusters.
//
// Use: `fence(cluster)` right before every mutating platform call (throws FencedError unless the lease is valid
// now, by the clock, not by the actor's state, so a late timer never extends it); `holds`/`owned` to decide what to
// run; `onChange` to start or stop a cluster's work; `leases()` for status and health. Events go to
// `overseer.evt.lease.<cluster>.<acquired|taken-over|lost|released>`. Optional fairness: with `fairness`, a core that
// is not the rendezvous-hash choice among the live cores (presence records `core.<id>`) waits one more lease time
// before taking a free or expired lease, so cores started together share the clusters.
//
// Timing: the store's call timeout should be at most leaseMs / 4, so that a renewal that gets no answer is retried
// before the validity runs out. The value's `epoch` grows with each acquisition a core saw; the record's revision
// (strictly increasing) is the one to use if a fencing token is ever sent along with a platform call.
import { type Actor, createActor, fromPromise, type Subscription } from 'xstate';
import { LeaseConflictError, LeaseValueError, leaseKey } from '../adapters/nats/lease-store';
import {
  type LeaseEmitted,
  type LeaseReadOutput,
  type LeaseReleaseInput,
  type LeaseReleaseOutput,
  type LeaseTiming,
  type LeaseWriteInput,
  type LeaseWriteOutput,
  leaseMachine,
} from '../machines/lease.machine';
import { subjects } from '../protocol';
import { EventPublisher } from './event-publisher';
import { LeasePresence } from './lease-presence';
import {
  FencedError,
  LEASE_TOKEN,
  type LeaseChange,
  LeaseConfigError,
  type LeaseServiceOptions,
  type LeaseStatus,
  leaseTimingOf,
} from './lease-types';

export * from './lease-types';

type LeaseActor = Actor<typeof leaseMachine>;

export class LeaseService {
  readonly core: string;
  readonly timing: LeaseTiming;
  private readonly actors = new Map<string, LeaseActor>();
  private readonly listeners = new Set<(change: LeaseChange) => void>();
  private readonly publisher: EventPublisher;
  private readonly presence: LeasePresence | undefined;
  private started = false;
  private stopped = false;

  constructor(private readonly opts: LeaseServiceOptions) {
    if (!LEASE_TOKEN.test(opts.core)) {
      throw new LeaseConfigError(`invalid core id '${opts.core}': 1 to 128 letters, digits, '-', '_' or '='`, 'core');
    }
    for (const cluster of opts.clusters) {
      if (!LEASE_TOKEN.test(cluster)) {
        throw new LeaseConfigError(`invalid cluster name '${cluster}' for a lease`, 'clusters');
      }
    }
    if (new Set(opts.clusters).size !== opts.clusters.length) {
      throw new LeaseConfigError(`cluster names repeat in ${opts.clusters.join(', ')}`, 'clusters');
    }
    this.core = opts.core;
    this.timing = leaseTimingOf(opts);
    this.publisher = new EventPublisher({ events: opts.events, log: opts.log, clock: opts.clock });
    this.presence = opts.fairness
      ? new LeasePresence({
          core: opts.core,
          store: opts.store,
          clock: opts.clock,
          log: opts.log,
          leaseMs: this.timing.leaseMs,
          beatMs: this.timing.renewMs,
        })
      : undefined;
  }

  /** Starts one lease actor per cluster (with fairness, after the presence records were read twice). */
  async start(): Promise<this> {
    if (this.started) return this;
    this.started = true;
    if (this.presence) {
      // Two heartbeats a renewal interval apart: cores started together see each other before any takes a lease.
      await this.presence.start();
      await this.opts.clock.sleep(this.timing.renewMs);
      await this.presence.beat();
    }
    if (this.stopped) return this;
    for (const cluster of this.opts.clusters) this.actors.set(cluster, this.startActor(cluster));
    return this;
  }

  /**
   * Stops. With `release` (default), owned leases are deleted so other cores take them at once (bounded by
   * `timeoutMs`); without it the leases are left to expire, as when the process dies.
   */
  async stop(opts: { release?: boolean; timeoutMs?: number } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const release = opts.release ?? true;
    const actors = [...this.actors.values()];
    if (release) {
      for (const actor of actors) actor.send({ type: 'RELEASE' });
      const limit = opts.timeoutMs ?? this.timing.leaseMs;
      await Promise.all(actors.map((actor) => this.whenDone(actor, limit)));
    }
    for (const actor of actors) actor.stop();
    await this.presence?.stop(release);
  }

  /** The clusters this core may act on right now. */
  owned(): string[] {
    return this.opts.clusters.filter((cluster) => this.holds(cluster));
  }

  holds(cluster: string): boolean {
    return this.check(cluster) === undefined;
  }

  /** Throws FencedError unless this core's lease on `cluster` is valid now. Call right before each mutating call. */
  fence(cluster: string): void {
    const refusal = this.check(cluster);
    if (refusal) throw refusal;
  }

  leases(): LeaseStatus[] {
    const now = this.opts.clock.now();
    return this.opts.clusters.map((cluster) => {
      const snap = this.actors.get(cluster)?.getSnapshot();
      const context = snap?.context;
      const ownedByMe = this.holds(cluster);
      if (!context) return { cluster, ownedByMe, ageMs: 0, validForMs: 0 };
      if (snap.matches('owning') || snap.matches('releasing')) {
        const lastSent = context.validUntil - context.leaseMs + context.marginMs;
        return {
          cluster,
          owner: this.core,
          ownedByMe,
          ageMs: context.validUntil > 0 ? Math.max(0, now - lastSent) : 0,
          validForMs: ownedByMe ? context.validUntil - now : 0,
        };
      }
      const seen = context.seen;
      return {
        cluster,
        owner: seen?.holder ?? undefined,
        ownedByMe,
        ageMs: seen ? Math.max(0, now - seen.firstSeenAt) : 0,
        validForMs: 0,
      };
    });
  }

  /** Calls `listener` on every acquired / taken-over / lost / released; returns the unsubscribe function. */
  onChange(listener: (change: LeaseChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private check(cluster: string): FencedError | undefined {
    const actor = this.actors.get(cluster);
    const who = `core ${this.core}`;
    if (!actor || this.stopped) {
      const why = this.opts.clusters.includes(cluster) ? 'stopped' : 'unknown-cluster';
      const what = why === 'stopped' ? 'its lease service is not running' : 'the cluster is not among its clusters';
      return new FencedError(`${who} may not act on cluster ${cluster}: ${what}`, cluster, this.core, why);
    }
    const snap = actor.getSnapshot();
    const context = snap.context;
    const cause = context.lastError ? new Error(context.lastError) : undefined;
    if (!snap.matches('owning')) {
      const holder = context.seen?.holder;
      const held = holder && holder !== this.core ? ` (held by ${holder})` : '';
      return new FencedError(
        `${who} does not hold the lease on cluster ${cluster}${held}`,
        cluster,
        this.core,
        'not-owner',
        { cause },
      );
    }
    const now = this.opts.clock.now();
    if (now >= context.validUntil) {
      return new FencedError(
        `${who}'s lease on cluster ${cluster} ran out ${now - context.validUntil} ms ago (not renewed in time)`,
        cluster,
        this.core,
        'expired',
        { cause },
      );
    }
    return undefined;
  }

  private whenDone(actor: LeaseActor, limitMs: number): Promise<void> {
    return new Promise((resolve) => {
      if (actor.getSnapshot().status !== 'active') return resolve();
      let sub: Subscription | undefined;
      const finish = () => {
        this.opts.clock.clearTimeout(timer);
        sub?.unsubscribe();
        resolve();
      };
      const timer = this.opts.clock.setTimeout(finish, limitMs);
      sub = actor.subscribe({ complete: finish, error: finish });
    });
  }

  private startActor(cluster: string): LeaseActor {
    const { store, clock, log } = this.opts;
    const key = leaseKey(cluster);
    const logic = leaseMachine.provide({
      actors: {
        readLease: fromPromise<LeaseReadOutput, { key: string }>(async ({ input }) => {
          let record: LeaseReadOutput['record'];
          try {
            const entry = await store.get(input.key);
            record = entry && { revision: entry.revision, holder: entry.value };
          } catch (error) {
            if (!(error instanceof LeaseValueError)) throw error;
            log.warn(`${error.message}: taken for a lease held by nobody alive once unchanged for a lease time`);
            record = { revision: error.revision };
          }
          return { at: clock.now(), record, liveCores: this.presence?.live() };
        }),
        writeLease: fromPromise<LeaseWriteOutput, LeaseWriteInput>(async ({ input }) => {
          const sentAt = clock.now();
          try {
            const revision =
              input.mode === 'create'
                ? await store.create(input.key, input.value)
                : await store.update(input.key, input.value, input.revision);
            return { outcome: 'written', revision, sentAt, at: clock.now() };
          } catch (error) {
            if (error instanceof LeaseConflictError) return { outcome: 'conflict', sentAt, at: clock.now() };
            return { outcome: 'unknown', sentAt, at: clock.now(), error: (error as Error).message };
          }
        }),
        releaseLease: fromPromise<LeaseReleaseOutput, LeaseReleaseInput>(async ({ input }) => {
          try {
            try {
              await store.delete(input.key, input.revision);
            } catch (error) {
              if (!(error instanceof LeaseConflictError)) throw error;
              // A renewal in flight was stored after all: delete at its revision if the record is still ours.
              const now = await store.get(input.key);
              if (now?.value.core !== input.core || now.value.epoch !== input.epoch) throw error;
              await store.delete(input.key, now.revision);
            }
            return { deleted: true, at: clock.now() };
          } catch (error) {
            log.warn(`releasing the lease on cluster ${cluster}: ${(error as Error).message}`);
            return { deleted: false, at: clock.now() };
          }
        }),
      },
    });
    const actorId = `lease:${cluster}`;
    const actor = createActor(logic, {
      id: actorId,
      clock,
      input: { core: this.core, cluster, key, ...this.timing },
    });
    // One line per change of the top-level state (renewals move between owning's inner states: not logged).
    let current = 'none';
    actor.subscribe({
      next: (snap) => {
        const value = snap.value;
        const to = typeof value === 'string' ? value : (Object.keys(value)[0] ?? 'unknown');
        if (to === current) return;
        log.stateChange(actorId, current, to);
        current = to;
      },
      error: (error: unknown) => log.error(`${actorId}: actor failed`, error),
    });
    actor.on('*', (emitted) => this.report(emitted as LeaseEmitted));
    actor.start();
    return actor;
  }

  private report(emitted: LeaseEmitted): void {
    const at = this.opts.clock.now();
    let change: LeaseChange;
    if (emitted.type === 'acquired') {
      const taken = emitted.previousOwner !== undefined && emitted.previousOwner !== this.core;
      change = {
        cluster: emitted.cluster,
        core: this.core,
        event: taken ? 'taken-over' : 'acquired',
        at,
        epoch: emitted.epoch,
        acquiredAt: emitted.acquiredAt,
        validUntil: emitted.validUntil,
        ...(taken ? { previousOwner: emitted.previousOwner } : {}),
      };
    } else if (emitted.type === 'lost') {
      change = {
        cluster: emitted.cluster,
        core: this.core,
        event: 'lost',
        at,
        epoch: emitted.epoch,
        validUntil: emitted.validUntil,
      };
      this.opts.log.warn(`core ${this.core} lost its lease on cluster ${emitted.cluster} (${emitted.reason})`);
    } else {
      change = {
        cluster: emitted.cluster,
        core: this.core,
        event: 'released',
        at,
        epoch: emitted.epoch,
        deleted: emitted.deleted,
      };
    }
    this.publisher.publish(() => subjects.evtLease(change.cluster, change.event), change);
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.opts.log.error('a lease change listener failed', error);
      }
    }
  }
}

/** Creates and starts a lease service. */
export function startLeaseService(opts: LeaseServiceOptions): Promise<LeaseService> {
  return new LeaseService(opts).start();
}
