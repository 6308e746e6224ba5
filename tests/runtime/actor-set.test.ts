// ActorSet's own journal (actors/actor-set.ts): without an inspection observer, each actor's events are recorded as
// they are sent (its start as `xstate.init`, a wake from rest not at all); with one, XState's stream is left to it.

import { describe, expect, it } from 'vitest';
import type { EventFrom, InspectionEvent } from 'xstate';
import { fromCallback, fromPromise, setup } from 'xstate';
import { ActorSet } from '../../actors/actor-set';
import { stateName } from '../../actors/watch';
import { SimulatedClock } from '../../adapters/clock';
import type { Log } from '../../adapters/log';
import type { VmMachine } from '../../machines/vm.machine';
import { vmMachine } from '../../machines/vm.machine';
import { vmInfo } from '../machines/fixtures';

const log: Log = { stateChange() {}, info() {}, warn() {}, error() {} };

function vmSet(opts: { inspect?: (e: InspectionEvent) => void; passivate?: boolean } = {}) {
  const journaled: string[] = [];
  /** What the set handed on: `<key> <state> <changed>`. */
  const handed: string[] = [];
  const set = new ActorSet({
    kind: 'vm',
    logic: vmMachine,
    idOf: (key) => `vm:${key}`,
    clock: new SimulatedClock(0),
    log,
    passivate: opts.passivate ?? true,
    inspect: opts.inspect ? { next: opts.inspect } : undefined,
    journal: (id, type) => journaled.push(`${id} ${type}`),
    onSnapshot: (key, snapshot, changed) => handed.push(`${key} ${String(snapshot.value)} ${changed}`),
  });
  return { set, journaled, handed };
}

describe('actor set', () => {
  it('actor set - without inspect, the journal gets the start and every event sent; a wake from rest adds nothing', () => {
    const { set, journaled } = vmSet();
    set.create('lab/101', { info: vmInfo(), at: 1 });
    set.get('lab/101')?.send({ type: 'OBSERVED', info: vmInfo({ status: 'stopped' }), at: 2 });
    expect(set.passivateIdle()).toBe(1);
    set.get('lab/101')?.send({ type: 'MISSING', at: 3 });
    set.restore('lab/102', set.get('lab/101')?.getPersistedSnapshot());
    expect(journaled).toEqual([
      'vm:lab/101 xstate.init',
      'vm:lab/101 OBSERVED',
      'vm:lab/101 MISSING',
      'vm:lab/102 xstate.init',
    ]);
    expect(set.peek('lab/101')?.value).toBe('stopped');
  });

  it('actor set - with inspect, the journal option is not used (the inspection stream carries the events)', () => {
    const seen: string[] = [];
    const { set, journaled } = vmSet({
      inspect: (e) => {
        if (e.type === '@xstate.event') seen.push(e.event.type);
      },
    });
    set.create('lab/101', { info: vmInfo(), at: 1 });
    set.get('lab/101')?.send({ type: 'OBSERVED', info: vmInfo({ status: 'stopped' }), at: 2 });
    expect(journaled).toEqual([]);
    expect(seen).toEqual(['xstate.init', 'OBSERVED']);
  });

  it('actor set - createResting starts no actor, yet logs, hands on and journals the start as create does', () => {
    const lines: string[] = [];
    const made = (resting: boolean, inspect?: (e: InspectionEvent) => void) => {
      const seen: string[] = [];
      const set = new ActorSet({
        kind: 'vm',
        logic: vmMachine,
        idOf: (key) => `vm:${key}`,
        clock: new SimulatedClock(0),
        log: { ...log, stateChange: (id, from, to) => lines.push(`${id} ${from} -> ${to}`) },
        passivate: true,
        inspect: inspect ? { next: inspect } : undefined,
        journal: (id, type) => seen.push(`journal ${id} ${type}`),
        onNew: (key) => seen.push(`new ${key}`),
        onStateChange: (key, c) => seen.push(`change ${key} ${c.from} -> ${c.to}`),
        onSnapshot: (key, snap, changed) => seen.push(`snapshot ${key} ${String(snap.value)} ${changed}`),
      });
      const input = { info: vmInfo({ status: 'stopped' }), at: 1 };
      if (resting) set.createResting('lab/101', input);
      else set.create('lab/101', input);
      return { set, seen };
    };
    const atRest = made(true);
    expect(atRest.set.liveCount).toBe(0);
    expect(atRest.set.size).toBe(1);
    expect(atRest.seen).toEqual([
      'new lab/101',
      'journal vm:lab/101 xstate.init',
      'change lab/101 none -> stopped',
      'snapshot lab/101 stopped true',
    ]);
    const live = made(false);
    expect(live.seen).toEqual(atRest.seen);
    expect(lines).toEqual(['vm:lab/101 none -> stopped', 'vm:lab/101 none -> stopped']);
    // Woken, it is the same machine in the same state, and goes on from there.
    const woken = atRest.set.get('lab/101');
    expect(woken?.getPersistedSnapshot()).toEqual(live.set.get('lab/101')?.getPersistedSnapshot());
    woken?.send({ type: 'OBSERVED', info: vmInfo({ status: 'running' }), at: 2 });
    expect(atRest.set.peek('lab/101')?.value).toBe('running');
    expect(atRest.seen.at(-1)).toBe('snapshot lab/101 running true');
    // Under an inspection observer the actor is started (the observer sees it start), then put to rest.
    const inspected: string[] = [];
    const withInspect = made(true, (e) => {
      if (e.type === '@xstate.event') inspected.push(e.event.type);
    });
    expect(inspected).toEqual(['xstate.init']);
    expect(withInspect.set.liveCount).toBe(0);
    expect(withInspect.set.peek('lab/101')?.value).toBe('stopped');
  });

  it('actor set - a restored actor does not hand on the stored snapshot it starts in; what it does next it does', () => {
    const { set, handed } = vmSet({ passivate: false });
    set.create('lab/101', { info: vmInfo(), at: 1 });
    const stored = set.get('lab/101')?.getPersistedSnapshot();
    handed.length = 0;
    set.restore('lab/102', stored);
    expect(handed).toEqual([]);
    set.get('lab/102')?.send({ type: 'OBSERVED', info: vmInfo({ status: 'stopped' }), at: 2 });
    expect(handed).toEqual(['lab/102 stopped true']);
  });

  it('actor set - a deferred restore is readable at once and starts as restore starts it when asked for', () => {
    const restored = vmSet({ passivate: false });
    const deferred = vmSet({ passivate: false });
    const source = vmSet({ passivate: false });
    source.set.create('lab/101', { info: vmInfo(), at: 1 });
    const stored = source.set.get('lab/101')?.getPersistedSnapshot();

    restored.set.restore('lab/102', stored);
    const snapshot = deferred.set.restoreDeferred('lab/102', stored);
    // Readable without starting: the same state and context, listed, and nothing journaled or handed on yet.
    expect(snapshot?.value).toBe(restored.set.peek('lab/102')?.value);
    expect(snapshot?.context).toEqual(restored.set.peek('lab/102')?.context);
    expect([...deferred.set.keys()]).toEqual(['lab/102']);
    expect(deferred.set.has('lab/102')).toBe(true);
    expect(deferred.set.liveCount).toBe(0);
    expect(deferred.journaled).toEqual([]);

    // Asked for (here by an event): started from the stored snapshot, then the event, exactly as the restored one.
    const observed = { type: 'OBSERVED' as const, info: vmInfo({ status: 'stopped' }), at: 2 };
    expect(deferred.set.send('lab/102', observed)).toBe('live');
    restored.set.get('lab/102')?.send(observed);
    expect(deferred.set.liveCount).toBe(1);
    expect(deferred.journaled).toEqual(restored.journaled);
    expect(deferred.handed).toEqual(restored.handed);
    expect(deferred.set.get('lab/102')?.getPersistedSnapshot()).toEqual(
      restored.set.get('lab/102')?.getPersistedSnapshot(),
    );
    // A finished actor is not brought back.
    expect(deferred.set.restoreDeferred('lab/103', { ...(stored as object), status: 'done' })).toBeUndefined();
  });

  it('actor set - keyArray lists the running and the resting actors, as keys() does', () => {
    const { set } = vmSet();
    set.create('lab/101', { info: vmInfo(), at: 1 });
    set.create('lab/102', { info: vmInfo({ vmid: 102 }), at: 1 });
    set.createResting('lab/103', { info: vmInfo({ vmid: 103 }), at: 1 });
    expect(set.passivateIdle(['lab/102'])).toBe(1);
    expect(set.keyArray()).toEqual([...set.keys()]);
    expect(set.keyArray().sort()).toEqual(['lab/101', 'lab/102', 'lab/103']);
    expect(set.liveCount).toBe(1);
  });

  it('actor set - startDeferred starts every deferred actor, in slices after turns of the event loop', async () => {
    const { set, journaled } = vmSet({ passivate: true });
    const source = vmSet({ passivate: false });
    source.set.create('lab/100', { info: vmInfo(), at: 1 });
    const stored = source.set.get('lab/100')?.getPersistedSnapshot();
    for (let vmid = 101; vmid <= 220; vmid++) set.restoreDeferred(`lab/${vmid}`, stored);
    // An event for one of them in a set that passivates is not handled at rest: the actor starts from its stored
    // snapshot first.
    expect(set.send('lab/101', { type: 'OBSERVED', info: vmInfo({ status: 'stopped' }), at: 2 })).toBe('live');
    const started = set.startDeferred(50);
    expect(set.liveCount).toBe(1);
    await started;
    expect(set.liveCount).toBe(120);
    expect(journaled.filter((j) => j.endsWith('xstate.init'))).toHaveLength(120);
    expect(set.peek('lab/101')?.value).toBe('stopped');
    expect(set.peek('lab/220')?.value).toBe(set.peek('lab/102')?.value);
  });
});

// An event for an actor at rest is handled at rest (ActorSet.send, actors/actor-at-rest.ts): the same snapshots, log
// lines, hooks and emitted events, in the same order, as the running actor the event used to wake.
type VmEvent = EventFrom<VmMachine>;
const KEY = 'lab/101';

/** A VM set that records, in one list, everything it does: journal, log lines, hooks, emitted events. */
function recordingSet(
  opts: { logic?: VmMachine; inspect?: boolean; onEmitted?: (set: ActorSet<VmMachine>) => void } = {},
) {
  const seen: string[] = [];
  const set: ActorSet<VmMachine> = new ActorSet({
    kind: 'vm',
    logic: opts.logic ?? vmMachine,
    idOf: (key) => `vm:${key}`,
    clock: new SimulatedClock(0),
    log: {
      stateChange: (id, from, to) => seen.push(`log ${id}: state changed from '${from}' to '${to}'`),
      info: (m) => seen.push(`info ${m}`),
      warn: (m) => seen.push(`warn ${m}`),
      error: (m, cause) => seen.push(`error ${m}: ${String(cause)}`),
    },
    passivate: true,
    inspect: opts.inspect ? { next: () => {} } : undefined,
    journal: (id, type) => seen.push(`journal ${id} ${type}`),
    onStateChange: (key, c) => seen.push(`change ${key} ${c.from} -> ${c.to} (${stateName(c.snapshot.value)})`),
    onSnapshot: (key, snap, changed) =>
      seen.push(`snapshot ${key} ${snap.status} ${changed} ${JSON.stringify(vmMachine.getPersistedSnapshot(snap))}`),
    onEmitted: (key, e) => {
      seen.push(`emitted ${key} ${JSON.stringify(e)}`);
      opts.onEmitted?.(set);
    },
  });
  return { set, seen };
}

const running = (over: Parameters<typeof vmInfo>[0] = {}) => vmInfo({ status: 'running', ...over });
const stopped = (over: Parameters<typeof vmInfo>[0] = {}) => vmInfo({ status: 'stopped', uptime: 0, ...over });

/**
 * Runs `events` on one VM both ways: made at rest and sent each through `send`, and made running and sent each
 * through the actor. Returns both records, how each event was handled at rest, and the persisted snapshots after
 * each event.
 */
function bothWays(events: VmEvent[], opts: Parameters<typeof recordingSet>[0] = {}) {
  const input = { info: running(), at: 1 };
  const rest = recordingSet(opts);
  rest.set.createResting(KEY, input);
  const live = recordingSet(opts);
  live.set.create(KEY, input);
  const how: (string | undefined)[] = [];
  const restSnaps: string[] = [];
  const liveSnaps: string[] = [];
  for (const event of events) {
    how.push(rest.set.send(KEY, event));
    live.set.get(KEY)?.send(event);
    const atRest = rest.set.peek(KEY);
    restSnaps.push(JSON.stringify(atRest && vmMachine.getPersistedSnapshot(atRest)));
    liveSnaps.push(JSON.stringify(live.set.get(KEY)?.getPersistedSnapshot()));
  }
  return { rest, live, how, restSnaps, liveSnaps };
}

describe('actor set - events at rest', () => {
  it('an unexplained stop: the issue is emitted before the state change is logged and handed on, as a running actor does', () => {
    const unknown = { by: 'unknown' as const, error: 'task log unreadable' };
    const events: VmEvent[] = [
      // Not yet explained: the actor stays running (the same state: the snapshot is handed on, unchanged state).
      { type: 'OBSERVED', info: stopped(), at: 2, stop: unknown },
      { type: 'OBSERVED', info: stopped(), at: 3, stop: unknown },
      // The third one is taken as an issue; a stop with no cause at all is one at once.
      { type: 'OBSERVED', info: stopped(), at: 4, stop: unknown },
      { type: 'OBSERVED', info: running(), at: 5 },
      { type: 'OBSERVED', info: stopped(), at: 6 },
      // Nothing changes (the same observation): the snapshot is handed on all the same.
      { type: 'OBSERVED', info: stopped(), at: 6 },
    ];
    const { rest, live, how, restSnaps, liveSnaps } = bothWays(events);
    expect(how).toEqual(events.map(() => 'rest'));
    expect(rest.set.liveCount).toBe(0);
    expect(restSnaps).toEqual(liveSnaps);
    expect(rest.seen).toEqual(live.seen);
    const order = rest.seen
      .slice(rest.seen.indexOf('journal vm:lab/101 OBSERVED'))
      .map((line) => line.split(' ').slice(0, 2).join(' '));
    expect(order.slice(0, 6)).toEqual([
      'journal vm:lab/101',
      'snapshot lab/101',
      'journal vm:lab/101',
      'snapshot lab/101',
      'journal vm:lab/101',
      'emitted lab/101',
    ]);
    expect(
      rest.seen.filter((l) => l.startsWith('emitted')).map((l) => JSON.parse(l.split(' ').slice(2).join(' ')).kind),
    ).toEqual(['unexpected-stop', 'unexpected-stop']);
  });

  it("an operator's stop, an operation and an unreachable node: the same at rest as running", () => {
    const task = { by: 'task' as const, upid: 'UPID:pve1:1', type: 'qmstop', user: 'root@pam', at: 3 };
    const events: VmEvent[] = [
      { type: 'OBSERVED', info: stopped(), at: 4, stop: task },
      { type: 'OPERATION_STARTED', requestId: 'r1', action: 'start' },
      { type: 'OBSERVED', info: running(), at: 5 },
      { type: 'OPERATION_ENDED', requestId: 'other', ok: true },
      { type: 'OPERATION_ENDED', requestId: 'r1', ok: true },
      { type: 'UNREACHABLE', at: 6 },
      { type: 'OBSERVED', info: running(), at: 7 },
    ];
    const { rest, live, how, restSnaps, liveSnaps } = bothWays(events);
    expect(how).toEqual(events.map(() => 'rest'));
    expect(rest.set.liveCount).toBe(0);
    expect(restSnaps).toEqual(liveSnaps);
    expect(rest.seen).toEqual(live.seen);
    expect(rest.seen.filter((l) => l.startsWith('emitted'))).toHaveLength(1);
    expect(rest.seen.some((l) => l.includes('"by":"operator"'))).toBe(true);
    expect(rest.seen.filter((l) => l.startsWith('log'))).toEqual([
      "log vm:lab/101: state changed from 'none' to 'running'",
      "log vm:lab/101: state changed from 'running' to 'stopped'",
      "log vm:lab/101: state changed from 'stopped' to 'starting'",
      "log vm:lab/101: state changed from 'starting' to 'running'",
      "log vm:lab/101: state changed from 'running' to 'unknown'",
      "log vm:lab/101: state changed from 'unknown' to 'running'",
    ]);
  });

  it('missing up to the limit: the last one (final state) is left to a running actor, which ends as it always did', () => {
    const events: VmEvent[] = [
      { type: 'MISSING', at: 2 },
      { type: 'MISSING', at: 3 },
    ];
    const { rest, live, how, restSnaps, liveSnaps } = bothWays(events);
    expect(how).toEqual(['rest', 'live']);
    expect(restSnaps).toEqual(liveSnaps);
    expect(rest.seen).toEqual(live.seen);
    expect(rest.set.peek(KEY)?.status).toBe('done');
    // As the running one: a finished actor stays (not at rest), and takes no more events.
    expect(rest.set.liveCount).toBe(1);
    expect(rest.set.passivateIdle()).toBe(0);
    expect(rest.seen.at(-1)).toMatch(/^snapshot lab\/101 done true/);
    expect(rest.seen).toContain("log vm:lab/101: state changed from 'running' to 'destroyed'");
    expect(rest.seen.filter((l) => l.startsWith('journal'))).toEqual([
      'journal vm:lab/101 xstate.init',
      'journal vm:lab/101 MISSING',
      'journal vm:lab/101 MISSING',
    ]);
  });

  it('a transition that throws is left to a running actor: it fails and reports as it always did', () => {
    const failing = vmMachine.provide({
      guards: {
        missingLimitReached: () => {
          throw new Error('boom');
        },
      },
    });
    const { rest, live, how } = bothWays([{ type: 'MISSING', at: 2 }], { logic: failing });
    expect(how).toEqual(['live']);
    expect(rest.seen).toEqual(live.seen);
    expect(rest.seen.at(-1)).toMatch(/^error vm:lab\/101: actor failed/);
    expect(rest.set.peek(KEY)?.status).toBe('error');
    expect(live.set.peek(KEY)?.status).toBe('error');
  });

  it("an event sent to the actor by a hook while it handles one waits, as in a running actor's mailbox", () => {
    // Each set, told of the issue, sends the VM its next observation at once (once).
    const sent = new Set<ActorSet<VmMachine>>();
    const onEmitted = (set: ActorSet<VmMachine>) => {
      if (sent.has(set)) return;
      sent.add(set);
      set.send(KEY, { type: 'OBSERVED', info: running(), at: 9 });
    };
    const { rest, live, how } = bothWays([{ type: 'OBSERVED', info: stopped(), at: 2 }], { onEmitted });
    expect(how).toEqual(['rest']);
    expect(sent.size).toBe(2);
    expect(rest.seen).toEqual(live.seen);
    expect(rest.set.peek(KEY)?.value).toBe('running');
    expect(rest.set.liveCount).toBe(0);
    const changes = rest.seen.filter((l) => l.startsWith('log'));
    expect(changes).toEqual([
      "log vm:lab/101: state changed from 'none' to 'running'",
      "log vm:lab/101: state changed from 'running' to 'stopped'",
      "log vm:lab/101: state changed from 'stopped' to 'running'",
    ]);
  });

  it('under an inspection observer an actor at rest is woken for the event (the observer must see it)', () => {
    const { set } = recordingSet({ inspect: true });
    set.createResting(KEY, { info: running(), at: 1 });
    expect(set.liveCount).toBe(0);
    expect(set.send(KEY, { type: 'OBSERVED', info: stopped(), at: 2 })).toBe('live');
    expect(set.liveCount).toBe(1);
    expect(set.send('lab/999', { type: 'MISSING', at: 2 })).toBeUndefined();
  });
});

// A parent whose children relay to it: a promise's outcome, a callback's event, and a delayed event of its own.
const relaying = setup({
  actors: {
    work: fromPromise(async () => 7),
    ticker: fromCallback(({ sendBack }) => {
      sendBack({ type: 'TICK' });
    }),
  },
}).createMachine({
  id: 'relaying',
  initial: 'working',
  states: {
    working: { invoke: { src: 'work', onDone: 'ticking' } },
    ticking: { invoke: { src: 'ticker' }, on: { TICK: 'waiting' } },
    waiting: { after: { 10: 'done' } },
    done: { on: { GO: 'done' } },
  },
});

function relayingSet(opts: { inspect?: (e: InspectionEvent) => void }) {
  const clock = new SimulatedClock(0);
  const journaled: string[] = [];
  const set = new ActorSet({
    kind: 'request',
    logic: relaying,
    idOf: (key) => `req:${key}`,
    clock,
    log,
    inspect: opts.inspect ? { next: opts.inspect } : undefined,
    journal: (id, type) => journaled.push(`${id} ${type}`),
  });
  return { set, clock, journaled };
}

describe('actor set - children', () => {
  it('actor set - without inspect, what children relay and delayed events are journaled as the inspection stream reports them', async () => {
    const run = async (opts: { inspect?: (e: InspectionEvent) => void }) => {
      const { set, clock, journaled } = relayingSet(opts);
      set.create('r1', {});
      await new Promise((r) => setImmediate(r));
      clock.advance(10);
      set.get('r1')?.send({ type: 'GO' });
      expect(set.peek('r1')?.value).toBe('done');
      return journaled;
    };
    const inspected: string[] = [];
    const viaInspect = await run({
      inspect: (e) => {
        if (e.type === '@xstate.event' && (e.actorRef as { id?: string }).id === 'req:r1')
          inspected.push(`req:r1 ${e.event.type}`);
      },
    });
    expect(viaInspect).toEqual([]);
    const direct = await run({});
    expect(direct).toEqual(inspected);
    expect(direct.map((d) => d.split(' ')[1])).toEqual([
      'xstate.init',
      expect.stringMatching(/^xstate\.done\.actor\./),
      'TICK',
      expect.stringMatching(/^xstate\.after\./),
      'GO',
    ]);
  });
});
