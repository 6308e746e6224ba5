import { describe, expect, it } from 'vitest';
import { createActor, fromPromise } from 'xstate';
import { SimulatedClock } from '../../adapters/clock';
import { periodicLoopMachine } from '../../machines';

/** A loop whose cycles end when the test says so. */
function controlledLoop() {
  const clock = new SimulatedClock(1_000_000);
  const ends: (() => void)[] = [];
  const started: number[] = [];
  const loop = periodicLoopMachine.provide({
    actors: {
      work: fromPromise<void, { loop: string; cycle: number }>(
        ({ input }) =>
          new Promise<void>((resolve) => {
            started.push(input.cycle);
            ends.push(resolve);
          }),
      ),
    },
  });
  const actor = createActor(loop, { clock, input: { name: 'sync', intervalMs: 10_000 } });
  const endCycle = async () => {
    ends.shift()?.();
    await clock.advanceAsync(0);
  };
  return { actor, clock, started, endCycle };
}

describe('periodic loop', () => {
  it('loop - RUN_NOW while idle starts a cycle at once', async () => {
    const { actor, clock, started, endCycle } = controlledLoop();
    actor.start();
    await endCycle();
    expect(actor.getSnapshot().value).toBe('idle');
    actor.send({ type: 'RUN_NOW' });
    await clock.advanceAsync(0);
    expect(started).toEqual([1, 2]);
    actor.stop();
  });

  it('loop - RUN_NOW while a cycle works starts one more right after it, however many came', async () => {
    const { actor, clock, started, endCycle } = controlledLoop();
    actor.start();
    expect(started).toEqual([1]);
    actor.send({ type: 'RUN_NOW' });
    actor.send({ type: 'RUN_NOW' });
    actor.send({ type: 'RUN_NOW' });
    expect(started).toEqual([1]);
    await endCycle();
    expect(started).toEqual([1, 2]);
    expect(actor.getSnapshot().value).toBe('working');
    await endCycle();
    expect(actor.getSnapshot().value).toBe('idle');
    expect(actor.getSnapshot().context.cycles).toBe(2);
    // Then the interval again, from the end of the last cycle.
    await clock.advanceAsync(9_999);
    expect(started).toEqual([1, 2]);
    await clock.advanceAsync(1);
    expect(started).toEqual([1, 2, 3]);
    actor.stop();
  });

  it('loop - a cycle asked for while one works follows a failed cycle too', async () => {
    const clock = new SimulatedClock(1_000_000);
    let calls = 0;
    const loop = periodicLoopMachine.provide({
      actors: {
        work: fromPromise(async () => {
          calls++;
          if (calls === 1) throw new Error('platform down');
        }),
      },
    });
    const actor = createActor(loop, { clock, input: { name: 'sync', intervalMs: 10_000 } });
    actor.start();
    actor.send({ type: 'RUN_NOW' });
    await clock.advanceAsync(0);
    expect(calls).toBe(2);
    expect(actor.getSnapshot().context).toMatchObject({ cycles: 2, failures: 0 });
    actor.stop();
  });
});
