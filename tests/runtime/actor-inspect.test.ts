// The actor inspector's reads on the core (actors/actor-queries.ts, actors/actor-journal.ts), on the PVE simulator:
// every addressed actor is listed with its state; one actor answers its machine's definition, its current state and
// the events it received, newest last, timed on the injected clock; an unknown id answers null.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ActorJournal } from '../../actors/actor-journal';
import { actorQueries } from '../../actors/actor-queries';
import { SimulatedClock } from '../../adapters/clock';
import type { Requester } from '../../machines/types';
import type { SimStack } from '../helpers/sim-stack';
import { createSimStack } from '../helpers/sim-stack';

const alice: Requester = { id: 'alice', role: 'admin', name: 'alice', person: 'alice' };

let stack: SimStack;
beforeEach(async () => {
  stack = await createSimStack();
  stack.overseer.start();
  await stack.settle();
});
afterEach(async () => {
  await stack?.cleanup();
});

const viewer = { id: 'obi', name: 'obi', role: 'observer' as const, person: 'obi' };
const q = () => actorQueries({ overseer: stack.overseer, journal: stack.overseer.journal });
const actors = async (p: Parameters<ReturnType<typeof q>['actors']>[0]) => q().actors(p, viewer);
const inspect = async (id: string) => q().actorInspect({ id }, viewer);

describe('actor inspector', () => {
  it('actors - the root, its loops, hosts and VMs are listed with their state; a kind and a page narrow it', async () => {
    const all = await actors({});
    expect(all.items.slice(0, 5).map((a) => a.id)).toEqual([
      'overseer',
      'loop:sync',
      'loop:monitor',
      'loop:health',
      'loop:execution',
    ]);
    const vms = await actors({ kind: 'vm', limit: 2, offset: 1 });
    expect(vms.total).toBe(stack.overseer.vms.size);
    expect(vms.items).toHaveLength(2);
    expect(vms.items[0]).toMatchObject({ kind: 'vm', id: expect.stringMatching(/^vm:lab\/\d+$/) });
    expect((await actors({ prefix: 'host:lab/pve1' })).items).toEqual([
      { id: 'host:lab/pve1', kind: 'host', state: 'online' },
    ]);
  });

  it('inspect - a VM answers its machine, its state and the events it received, the last one after a stop', async () => {
    const submitted = await stack.overseer.submit({
      action: 'stop',
      target: { cluster: 'lab', vmid: 101 },
      params: {},
      requester: alice,
    });
    expect(submitted.decision).toBe('approved');
    await stack.advanceUntil(() => stack.overseer.vms.get('lab/101')?.getSnapshot().value === 'stopped', 60_000);
    const vm = await inspect('vm:lab/101');
    expect(vm).toMatchObject({ id: 'vm:lab/101', kind: 'vm', state: 'stopped', status: 'active' });
    const machine = vm?.machine as { id: string; states: Record<string, unknown> };
    expect(machine.id).toBe('vm');
    expect(Object.keys(machine.states)).toEqual(expect.arrayContaining(['running', 'stopped', 'stopping']));
    // Eventless transitions are in the definition too, with their guards named.
    const discovered = machine.states.discovered as { always?: Array<{ target: string[]; guard?: { type: string } }> };
    expect(discovered.always?.[0]).toEqual({ target: ['#vm.locked'], eventType: '', guard: { type: 'isLocked' } });
    const types = vm?.events.map((e) => e.type) ?? [];
    // The stopped guest read back (OBSERVED) before its request ends (actors/guest-refresh.ts).
    expect(types).toEqual(['xstate.init', 'OPERATION_STARTED', 'OBSERVED', 'OPERATION_ENDED']);
    expect(vm?.events.at(-1)?.at).toBeLessThanOrEqual(stack.clock.now());
    // The request's own events: those sent to it, and those its children relayed (the gate's outcomes, the executor's).
    // Read by XState's internal relay, not its inspection stream, which no inspector asked for here.
    const request = () => stack.overseer.journal.events(`req:${submitted.requestId}`).map((e) => e.type);
    await stack.advanceUntil(() => request().includes('EXECUTION_SUCCEEDED'), 60_000);
    expect(request()).toEqual([
      'xstate.init',
      'xstate.done.actor.0.request.validating',
      'xstate.done.actor.0.request.gating',
      'QUEUED',
      'EXECUTE',
      'TASK_ISSUING',
      'TASK_STARTED',
      'EXECUTION_SUCCEEDED',
    ]);
  });

  it('inspect - the root answers its parallel machine; an unknown or malformed id answers null', async () => {
    expect(await inspect('overseer')).toMatchObject({ kind: 'overseer', status: 'active' });
    expect(await inspect('vm:lab/99999')).toBeNull();
    expect(await inspect('nothing')).toBeNull();
  });

  it('journal - keeps the newest events per actor and forgets the least recently active actor first', () => {
    const clock = new SimulatedClock(1_000);
    const journal = new ActorJournal(clock, { perActor: 2, maxActors: 2 });
    journal.record('vm:lab/1', 'A');
    journal.record('vm:lab/1', 'B');
    journal.record('vm:lab/1', 'C');
    journal.record('vm:lab/2', 'X');
    journal.record('vm:lab/1', 'D');
    journal.record('vm:lab/3', 'Y');
    journal.record('child-promise-7', 'Z');
    expect(journal.events('vm:lab/1').map((e) => e.type)).toEqual(['C', 'D']);
    expect(journal.events('vm:lab/2')).toEqual([]);
    expect(journal.events('vm:lab/3')).toEqual([{ type: 'Y', at: 1_000 }]);
    expect(journal.events('child-promise-7')).toEqual([]);
  });
});
