import { Map as ImmutableMap, List, OrderedMap } from 'immutable';
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { allWork, executionLoopMachine, planDispatch } from '../../machines';
import type { ExecutionLoopContext, QueuedWork } from '../../machines/loops/execution-loop.machine';

/** An execution loop with `perNodeLimit`, and the ids of the requests it started, in order. */
function loop(perNodeLimit: number) {
  const started: string[] = [];
  const actor = createActor(
    executionLoopMachine.provide({ actions: { startExecution: (_, w) => started.push(w.requestId) } }),
    { input: { perNodeLimit } },
  ).start();
  return { actor, started };
}

describe('execution loop', () => {
  it('execution - RESUME takes over executing and queued work as ENQUEUE one by one would after the executing', () => {
    const make = () => {
      const made = loop(2);
      // Work the loop already holds: two running, one waiting behind a full node.
      made.actor.send({ type: 'ENQUEUE', work: { requestId: 'old1', node: 'pve1' } });
      made.actor.send({ type: 'RESUME', running: [{ requestId: 'old2', node: 'pve1' }], queued: [] });
      made.actor.send({ type: 'ENQUEUE', work: { requestId: 'old3', node: 'pve1' } });
      return made;
    };
    const node = (i: number) => `pve${(i % 3) + 1}`;
    const running = [0, 1, 2, 3].map((i) => ({ requestId: `run${i}`, node: node(i) }));
    // Duplicates (of each other, of running work, of work the loop holds) are ignored either way.
    const queued = [
      ...Array.from({ length: 12 }, (_, i) => ({ requestId: `q${i}`, node: node(i) })),
      { requestId: 'q3', node: 'pve2' },
      { requestId: 'run1', node: 'pve2' },
      { requestId: 'old3', node: 'pve3' },
    ];
    const one = make();
    one.actor.send({ type: 'RESUME', running, queued: [] });
    for (const work of queued) one.actor.send({ type: 'ENQUEUE', work });
    const all = make();
    all.actor.send({ type: 'RESUME', running, queued });

    expect(all.started).toEqual(expect.arrayContaining(one.started));
    expect(all.started).toHaveLength(one.started.length);
    const sorted = (ctx: ExecutionLoopContext) => ({
      queued: allWork(ctx, 'queued').sort((a, b) => a.requestId.localeCompare(b.requestId)),
      running: allWork(ctx, 'running').sort((a, b) => a.requestId.localeCompare(b.requestId)),
      byNode: ctx.queued.map((queue) => queue.map((w) => w.requestId)).toJS(),
    });
    expect(sorted(all.actor.getSnapshot().context)).toEqual(sorted(one.actor.getSnapshot().context));
  });

  it('execution - starts work in queue order within the per-node limit', () => {
    const { actor, started } = loop(2);
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
    const { actor, started } = loop(1);
    actor.send({ type: 'RESUME', running: [{ requestId: 'x', node: 'pve1' }], queued: [] });
    actor.send({ type: 'ENQUEUE', work: { requestId: 'y', node: 'pve1' } });
    actor.send({ type: 'ENQUEUE', work: { requestId: 'y', node: 'pve1' } });
    expect(started).toEqual([]);
    actor.send({ type: 'FINISHED', requestId: 'x' });
    expect(started).toEqual(['y']);
    expect(actor.getSnapshot().context.queued.size).toBe(0);
    expect(allWork(actor.getSnapshot().context, 'running')).toEqual([{ requestId: 'y', node: 'pve1' }]);
  });

  it('execution - a queued request that ends frees no slot; a duplicate on another node is ignored', () => {
    const { actor, started } = loop(1);
    for (const [id, node] of [
      ['a', 'pve1'],
      ['b', 'pve1'],
      ['c', 'pve1'],
      ['b', 'pve2'],
      ['d', 'pve2'],
    ] as const) {
      actor.send({ type: 'ENQUEUE', work: { requestId: id, node } });
    }
    expect(started).toEqual(['a', 'd']);
    actor.send({ type: 'FINISHED', requestId: 'b' });
    expect(started).toEqual(['a', 'd']);
    actor.send({ type: 'FINISHED', requestId: 'nobody' });
    actor.send({ type: 'FINISHED', requestId: 'a' });
    expect(started).toEqual(['a', 'd', 'c']);
    actor.send({ type: 'FINISHED', requestId: 'd' });
    actor.send({ type: 'FINISHED', requestId: 'c' });
    const { queued, running, workById } = actor.getSnapshot().context;
    expect([queued.size, running.size, workById.size]).toEqual([0, 0, 0]);
  });

  it('execution - a long queue on one node: each enqueue starts nothing elsewhere, order is kept', () => {
    const { actor, started } = loop(2);
    for (let i = 0; i < 500; i++) actor.send({ type: 'ENQUEUE', work: { requestId: `r${i}`, node: `n${i % 5}` } });
    expect(started).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9']);
    actor.send({ type: 'FINISHED', requestId: 'r3' });
    expect(started.at(-1)).toBe('r13');
    expect(actor.getSnapshot().context.queued.get('n3')?.size).toBe(97);
  });

  it('execution - a backlog of 30,000 on one node starts in queue order, and earlier snapshots stay as they were', () => {
    const { actor, started } = loop(3);
    for (let i = 0; i < 30_000; i++) actor.send({ type: 'ENQUEUE', work: { requestId: `r${i}`, node: 'pve1' } });
    const before = actor.getSnapshot().context;
    expect(started).toEqual(['r0', 'r1', 'r2']);
    // Ended while waiting: no slot freed, and it never starts.
    actor.send({ type: 'FINISHED', requestId: 'r3' });
    for (let done = 0; done < started.length; done++)
      actor.send({ type: 'FINISHED', requestId: started[done] as string });
    expect(started).toHaveLength(29_999);
    expect(started.slice(0, 6)).toEqual(['r0', 'r1', 'r2', 'r4', 'r5', 'r6']);
    expect(started.at(-1)).toBe('r29999');
    expect(before.queued.get('pve1')?.size).toBe(29_997);
    expect([...(before.running.get('pve1')?.keys() ?? [])]).toEqual(['r0', 'r1', 'r2']);
    expect(actor.getSnapshot().context.workById.size).toBe(0);
  });

  it('execution - planDispatch is pure, keeps what does not fit queued and drops ended entries from the front', () => {
    const work = (id: string): QueuedWork => ({ requestId: id, node: 'n1' });
    const [a, b, c, x] = [work('a'), work('b'), work('c'), work('x')];
    const context: ExecutionLoopContext = {
      perNodeLimit: 1,
      queued: ImmutableMap([['n1', List([a, b, c])]]),
      running: ImmutableMap(),
      // `a` ended while it waited: only the index forgot it.
      workById: ImmutableMap([
        ['b', b],
        ['c', c],
      ]),
    };
    const plan = planDispatch(context, 'n1');
    expect(plan.start).toEqual([b]);
    expect(plan.queued.toArray()).toEqual([c]);
    expect(context.queued.get('n1')?.size).toBe(3);
    const full = { ...context, running: ImmutableMap([['n1', OrderedMap([['x', x]])]]) };
    expect(planDispatch(full, 'n1').start).toEqual([]);
    expect(planDispatch(full, 'n1').queued.toArray()).toEqual([b, c]);
    const none = planDispatch(context, 'n2');
    expect([none.start, none.queued.size]).toEqual([[], 0]);
  });
});
