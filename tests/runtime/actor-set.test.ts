// ActorSet's own journal (actors/actor-set.ts): without an inspection observer, each actor's events are recorded as
// they are sent (its start as `xstate.init`, a wake from rest not at all); with one, XState's stream is left to it.

import { describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { ActorSet } from '../../actors/actor-set';
import { SimulatedClock } from '../../adapters/clock';
import type { Log } from '../../adapters/log';
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
});
