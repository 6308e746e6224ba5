import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { executionLoopMachine, planDispatch } from '../../machines';

describe('execution loop', () => {
  it('execution - starts work in queue order within the per-node limit', () => {
    const started: string[] = [];
    const actor = createActor(
      executionLoopMachine.provide({ actions: { startExecution: (_, w) => started.push(w.requestId) } }),
      { input: { perNodeLimit: 2 } },
    ).start();
    for (const [id, node] of [
      ['a', 'pve1'],
      ['b', 'pve1'],
      ['c', 'pve1'],
      ['d', 'pve2'],
    ] as const) {
      actor.send({ type: 'ENQUEUE', work: { requestId: id, node } });
    }
    expect(started).toEqual(['a', 'b', 'd']);
    actor.send({ type: 'FINISHED', requestId: 'a' });
    expect(started).toEqual(['a', 'b', 'd', 'c']);
  });

  it('execution - adopted running work holds its slot and duplicates are ignored', () => {
    const started: string[] = [];
    const actor = createActor(
      executionLoopMachine.provide({ actions: { startExecution: (_, w) => started.push(w.requestId) } }),
      { input: { perNodeLimit: 1 } },
    ).start();
    actor.send({ type: 'ADOPT_RUNNING', work: { requestId: 'x', node: 'pve1' } });
    actor.send({ type: 'ENQUEUE', work: { requestId: 'y', node: 'pve1' } });
    actor.send({ type: 'ENQUEUE', work: { requestId: 'y', node: 'pve1' } });
    expect(started).toEqual([]);
    actor.send({ type: 'FINISHED', requestId: 'x' });
    expect(started).toEqual(['y']);
    expect(actor.getSnapshot().context.queue).toEqual([]);
  });

  it('execution - planDispatch is pure and keeps what does not fit queued', () => {
    const plan = planDispatch({
      perNodeLimit: 1,
      queue: [
        { requestId: 'a', node: 'n1' },
        { requestId: 'b', node: 'n1' },
      ],
      running: [],
    });
    expect(plan.start.map((w) => w.requestId)).toEqual(['a']);
    expect(plan.queue.map((w) => w.requestId)).toEqual(['b']);
  });
});
