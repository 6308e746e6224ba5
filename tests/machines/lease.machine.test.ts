import { describe, expect, it } from 'vitest';
import { createActor, fromPromise } from 'xstate';
import { SimulatedClock } from '../../adapters/clock';
import {
  type LeaseEmitted,
  type LeaseHolder,
  type LeaseMachineInput,
  type LeaseReadOutput,
  type LeaseReleaseInput,
  type LeaseReleaseOutput,
  type LeaseWriteInput,
  type LeaseWriteOutput,
  leaseMachine,
  preferredCore,
} from '../../machines/lease.machine';

const LEASE = 1_500;
const timing = { leaseMs: LEASE, marginMs: 150, renewMs: 500, pollMs: 250, retryMs: 100 };

/** An in-memory CAS store shared by the cores of a test, with per-core faults. */
class Backend {
  seq = 0;
  records = new Map<string, { revision: number; holder?: LeaseHolder | undefined }>();
  /** Cores cut off: their calls get no answer (nothing stored). */
  cut = new Set<string>();
  /** Cores whose next write is stored but its answer lost. */
  loseNextAnswer = new Set<string>();
  liveCores: string[] | undefined;
  /** How long a write travels before the store applies it. */
  writeDelayMs = 0;

  constructor(private readonly clock: SimulatedClock) {}

  put(key: string, holder: LeaseHolder | undefined): number {
    this.records.set(key, { revision: ++this.seq, holder });
    return this.seq;
  }

  actors(core: string) {
    const clock = this.clock;
    return {
      readLease: fromPromise<LeaseReadOutput, { key: string }>(async ({ input }) => {
        if (this.cut.has(core)) throw new Error('no answer');
        const record = this.records.get(input.key) ?? null;
        return { at: clock.now(), record, liveCores: this.liveCores };
      }),
      writeLease: fromPromise<LeaseWriteOutput, LeaseWriteInput>(async ({ input }) => {
        const sentAt = clock.now();
        if (this.writeDelayMs > 0) await clock.sleep(this.writeDelayMs);
        if (this.cut.has(core)) return { outcome: 'unknown', sentAt, at: clock.now(), error: 'no answer' };
        const current = this.records.get(input.key);
        const ok = input.mode === 'create' ? !current : current?.revision === input.revision;
        if (!ok) return { outcome: 'conflict', sentAt, at: clock.now() };
        const revision = this.put(input.key, input.value);
        if (this.loseNextAnswer.delete(core)) return { outcome: 'unknown', sentAt, at: clock.now(), error: 'lost' };
        return { outcome: 'written', revision, sentAt, at: clock.now() };
      }),
      releaseLease: fromPromise<LeaseReleaseOutput, LeaseReleaseInput>(async ({ input }) => {
        const current = this.records.get(input.key);
        const ours = current?.holder?.core === input.core && current.holder.epoch === input.epoch;
        if (this.cut.has(core) || !ours) return { deleted: false, at: clock.now() };
        this.records.delete(input.key);
        return { deleted: true, at: clock.now() };
      }),
    };
  }
}

function startCore(clock: SimulatedClock, backend: Backend, core: string, extra: Partial<LeaseMachineInput> = {}) {
  const input: LeaseMachineInput = { core, cluster: 'lab', key: 'cluster.lab', ...timing, ...extra };
  const actor = createActor(leaseMachine.provide({ actors: backend.actors(core) }), { input, clock });
  const events: (LeaseEmitted & { t: number })[] = [];
  for (const type of ['acquired', 'lost', 'released'] as const) {
    actor.on(type, (e) => events.push({ ...e, t: clock.now() }));
  }
  actor.start();
  const top = () => {
    const v = actor.getSnapshot().value;
    return typeof v === 'string' ? v : Object.keys(v)[0];
  };
  const valid = () => top() === 'owning' && clock.now() < actor.getSnapshot().context.validUntil;
  return { actor, events, top, valid, context: () => actor.getSnapshot().context };
}

function setup() {
  const clock = new SimulatedClock(10_000);
  return { clock, backend: new Backend(clock) };
}

describe('lease machine', () => {
  it('lease - takes a free lease at once and renews it every leaseMs/3', async () => {
    const { clock, backend } = setup();
    const a = startCore(clock, backend, 'a');
    await clock.advanceAsync(0);
    expect(a.top()).toBe('owning');
    expect(a.context()).toMatchObject({ epoch: 1, seq: 0, validUntil: 10_000 + LEASE - 150 });
    expect(a.events.map((e) => e.type)).toEqual(['acquired']);
    await clock.advanceAsync(3 * LEASE);
    expect(a.top()).toBe('owning');
    expect(a.context().seq).toBeGreaterThanOrEqual(8);
    expect(backend.records.get('cluster.lab')?.holder).toMatchObject({ core: 'a', epoch: 1 });
    expect(a.context().validUntil).toBeGreaterThan(clock.now());
    expect(a.events.map((e) => e.type)).toEqual(['acquired']);
  });

  it('lease - does not take a lease whose revision keeps changing', async () => {
    const { clock, backend } = setup();
    const a = startCore(clock, backend, 'a');
    await clock.advanceAsync(0);
    const b = startCore(clock, backend, 'b');
    await clock.advanceAsync(10 * LEASE, 1);
    expect(a.top()).toBe('owning');
    expect(b.top()).toBe('observing');
    expect(b.events).toEqual([]);
  });

  it('lease - an expired lease passes to an observer after a full lease time unchanged on its clock', async () => {
    const { clock, backend } = setup();
    const a = startCore(clock, backend, 'a');
    await clock.advanceAsync(0);
    const b = startCore(clock, backend, 'b');
    await clock.advanceAsync(200);
    a.actor.stop(); // a crash: no release
    const stoppedAt = clock.now();
    const revision = backend.records.get('cluster.lab')?.revision;
    await clock.advanceAsync(LEASE - 300, 1);
    expect(b.top()).toBe('observing');
    await clock.advanceAsync(1_000, 1);
    expect(b.top()).toBe('owning');
    const acquired = b.events.find((e) => e.type === 'acquired');
    expect(acquired).toMatchObject({ previousOwner: 'a', epoch: 2 });
    expect(acquired?.t).toBeLessThanOrEqual(stoppedAt + LEASE + 1_000);
    expect(backend.records.get('cluster.lab')?.revision).toBeGreaterThan(revision ?? 0);
  });

  it('lease - a core cut off stops being valid before another core can take its lease', async () => {
    const { clock, backend } = setup();
    const a = startCore(clock, backend, 'a');
    await clock.advanceAsync(0);
    const b = startCore(clock, backend, 'b');
    await clock.advanceAsync(700, 1);
    backend.cut.add('a');
    // Step in small increments and look at both cores at every step.
    let aLastValid = 0;
    let bFirstValid = 0;
    for (let i = 0; i < 400 && !bFirstValid; i++) {
      await clock.advanceAsync(10);
      if (a.valid()) aLastValid = clock.now();
      if (b.valid()) bFirstValid = clock.now();
    }
    expect(bFirstValid).toBeGreaterThan(0);
    expect(aLastValid).toBeLessThan(bFirstValid);
    const lost = a.events.find((e) => e.type === 'lost');
    const acquired = b.events.find((e) => e.type === 'acquired');
    expect(lost).toMatchObject({ reason: 'expired' });
    expect(lost?.type === 'lost' && lost.validUntil).toBeGreaterThan(0);
    expect(lost && acquired && lost.validUntil < (acquired as { acquiredAt: number }).acquiredAt).toBe(true);
    expect(a.top()).toBe('observing');
    // Back in touch: a sees b's lease and keeps off it.
    backend.cut.delete('a');
    await clock.advanceAsync(5 * LEASE, 1);
    expect(a.top()).toBe('observing');
    expect(b.top()).toBe('owning');
  });

  it('lease - a renewal stored but unanswered is adopted, the lease is kept', async () => {
    const { clock, backend } = setup();
    const a = startCore(clock, backend, 'a');
    const states = new Set<string>();
    a.actor.subscribe((snap) => states.add(JSON.stringify(snap.value)));
    await clock.advanceAsync(0);
    backend.loseNextAnswer.add('a');
    await clock.advanceAsync(3 * LEASE, 1);
    expect(a.top()).toBe('owning');
    expect(a.events.map((e) => e.type)).toEqual(['acquired']);
    expect(a.context().validUntil).toBeGreaterThan(clock.now());
    expect(a.context().revision).toBe(backend.records.get('cluster.lab')?.revision);
    // The retry was refused (the lost write had moved the revision) and the read showed that write: adopted.
    expect(states).toContain(JSON.stringify({ owning: 'verifying' }));
  });

  it('lease - an acquiring write stored but unanswered is adopted on the next read', async () => {
    const { clock, backend } = setup();
    backend.loseNextAnswer.add('a');
    const a = startCore(clock, backend, 'a');
    await clock.advanceAsync(0);
    // The write went unanswered: the core reads again at once, sees its own write and owns the lease from its send.
    expect(a.top()).toBe('owning');
    expect(a.context()).toMatchObject({ epoch: 1, seq: 0, revision: backend.records.get('cluster.lab')?.revision });
    expect(a.context().validUntil).toBe(10_000 + LEASE - 150);
    expect(a.events.map((e) => e.type)).toEqual(['acquired']);
  });

  it('lease - release deletes the record and another core takes it at once', async () => {
    const { clock, backend } = setup();
    const a = startCore(clock, backend, 'a');
    await clock.advanceAsync(0);
    const b = startCore(clock, backend, 'b');
    await clock.advanceAsync(600, 1);
    a.actor.send({ type: 'RELEASE' });
    expect(a.valid()).toBe(false);
    await clock.advanceAsync(0);
    expect(a.actor.getSnapshot().status).toBe('done');
    expect(a.events.at(-1)).toMatchObject({ type: 'released', deleted: true });
    expect(backend.records.has('cluster.lab')).toBe(false);
    await clock.advanceAsync(timing.pollMs, 1);
    expect(b.top()).toBe('owning');
    expect(b.events[0]).toMatchObject({ type: 'acquired', previousOwner: undefined });
  });

  it('lease - RELEASE while a renewal is in flight still deletes the record, and the renewal cannot bring it back', async () => {
    const { clock, backend } = setup();
    backend.writeDelayMs = 100;
    const a = startCore(clock, backend, 'a');
    await clock.advanceAsync(100, 1);
    expect(a.top()).toBe('owning');
    await clock.advanceAsync(timing.renewMs + 50, 1); // the renewal is on its way
    expect(a.actor.getSnapshot().value).toEqual({ owning: 'renewing' });
    a.actor.send({ type: 'RELEASE' });
    await clock.advanceAsync(200, 1);
    expect(a.events.at(-1)).toMatchObject({ type: 'released', deleted: true });
    expect(backend.records.has('cluster.lab')).toBe(false);
  });

  it('lease - a record that is not a lease value is held by nobody alive: taken after a lease time', async () => {
    const { clock, backend } = setup();
    backend.put('cluster.lab', undefined);
    const a = startCore(clock, backend, 'a');
    await clock.advanceAsync(LEASE - 100, 1);
    expect(a.top()).toBe('observing');
    await clock.advanceAsync(500, 1);
    expect(a.top()).toBe('owning');
    expect(a.events[0]).toMatchObject({ previousOwner: '(unreadable)' });
  });

  it('lease - fairness: a core that is not preferred waits one more lease time for a free lease', async () => {
    const { clock, backend } = setup();
    const cores = ['core-a', 'core-b'];
    const preferred = preferredCore(cores, 'lab');
    const other = cores.find((c) => c !== preferred) as string;
    backend.liveCores = cores;
    const second = startCore(clock, backend, other);
    await clock.advanceAsync(LEASE - 100, 1);
    expect(second.top()).toBe('observing');
    await clock.advanceAsync(400, 1);
    expect(second.top()).toBe('owning');
    // The preferred core takes a free lease at once.
    const clock2 = new SimulatedClock(0);
    const backend2 = new Backend(clock2);
    backend2.liveCores = cores;
    const first = startCore(clock2, backend2, preferred as string);
    await clock2.advanceAsync(0);
    expect(first.top()).toBe('owning');
  });

  it('lease - preferredCore is stable and spreads clusters over cores', () => {
    const cores = ['core-a', 'core-b', 'core-c'];
    expect(preferredCore(cores, 'lab')).toBe(preferredCore([...cores].reverse(), 'lab'));
    expect(preferredCore([], 'lab')).toBeUndefined();
    const owners = new Set(Array.from({ length: 30 }, (_, i) => preferredCore(cores, `cluster-${i}`)));
    expect(owners.size).toBe(3);
  });

  it('lease - RELEASE while observing stops without writing', async () => {
    const { clock, backend } = setup();
    const a = startCore(clock, backend, 'a');
    await clock.advanceAsync(0);
    const b = startCore(clock, backend, 'b');
    await clock.advanceAsync(100);
    b.actor.send({ type: 'RELEASE' });
    expect(b.actor.getSnapshot().status).toBe('done');
    expect(b.events).toEqual([]);
    expect(a.top()).toBe('owning');
  });
});
