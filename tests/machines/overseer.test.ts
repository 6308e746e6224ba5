import { describe, expect, it } from 'vitest';
import { createActor, fromPromise } from 'xstate';
import { SimulatedClock } from '../../adapters/clock';
import { executionLoopMachine, overseerMachine, periodicLoopMachine } from '../../machines';

function setupOverseer(options: { failSync?: boolean } = {}) {
  const clock = new SimulatedClock(1_000_000);
  const cycles: string[] = [];
  let crashNext = options.failSync ?? false;
  const loop = (name: string) =>
    periodicLoopMachine.provide({
      actors: {
        work: fromPromise(async () => {
          cycles.push(name);
        }),
      },
    });
  // A sync loop whose machine itself crashes (a bug in one of its actions), not merely a failed cycle.
  const crashingSync = periodicLoopMachine.provide({
    actors: { work: fromPromise(async () => {}) },
    actions: {
      reportCycle: () => {
        if (crashNext) throw new Error('boom');
      },
    },
  });
  const machine = overseerMachine.provide({
    actors: {
      syncLoop: options.failSync ? crashingSync : loop('sync'),
      monitorLoop: loop('monitor'),
      healthLoop: loop('health'),
      executionLoop: executionLoopMachine.provide({ actions: { startExecution: () => {} } }),
    },
  });
  const actor = createActor(machine, {
    clock,
    input: {
      supervision: { maxRestarts: 3, withinMs: 60_000 },
      intervals: { syncMs: 10_000, monitorMs: 5_000, healthMs: 30_000 },
      perNodeLimit: 2,
      now: () => clock.now(),
    },
  });
  const emitted: string[] = [];
  actor.on('*', (e) => emitted.push(`${e.type}:${e.loop}`));
  return {
    actor,
    clock,
    cycles,
    emitted,
    stopCrashing: () => {
      crashNext = false;
    },
  };
}

describe('overseer', () => {
  it('overseer - spawns the four loops and the periodic ones run on the simulated clock', async () => {
    const { actor, clock, cycles } = setupOverseer();
    actor.start();
    expect(Object.keys(actor.getSnapshot().children).sort()).toEqual(['execution', 'health', 'monitor', 'sync']);
    await clock.advanceAsync(0);
    expect(cycles.sort()).toEqual(['health', 'monitor', 'sync']);
    await clock.advanceAsync(10_000);
    expect(cycles.filter((c) => c === 'monitor')).toHaveLength(3);
    expect(cycles.filter((c) => c === 'sync')).toHaveLength(2);
    actor.stop();
  });

  it('overseer - restarts a crashed loop within the restart intensity, then escalates to degraded', async () => {
    const { actor, clock, emitted } = setupOverseer({ failSync: true });
    actor.start();
    await clock.advanceAsync(0);
    // The sync loop crashes on start; each restart crashes again: 3 restarts allowed, the 4th escalates.
    expect(emitted).toEqual(['loopRestarted:sync', 'loopRestarted:sync', 'loopRestarted:sync', 'escalated:sync']);
    expect(actor.getSnapshot().value).toBe('degraded');
    expect(actor.getSnapshot().context.escalated).toEqual(['sync']);
    expect(actor.getSnapshot().children.monitor).toBeDefined();
    actor.stop();
  });

  it('overseer - restarts older than the window do not count toward the intensity', async () => {
    const { actor, clock, emitted } = setupOverseer();
    actor.start();
    for (let i = 0; i < 5; i++) {
      actor.send({ type: 'LOOP_STALLED', loop: 'monitor' });
      await clock.advanceAsync(30_000);
    }
    expect(emitted.filter((e) => e.startsWith('escalated'))).toEqual([]);
    expect(emitted.filter((e) => e === 'loopRestarted:monitor')).toHaveLength(5);
    expect(actor.getSnapshot().value).toBe('running');
    actor.stop();
  });

  it('overseer - an operator can recover an escalated loop', async () => {
    const { actor, clock, emitted, stopCrashing } = setupOverseer({ failSync: true });
    actor.start();
    await clock.advanceAsync(0);
    expect(actor.getSnapshot().value).toBe('degraded');
    stopCrashing();
    actor.send({ type: 'RECOVER', loop: 'sync' });
    expect(actor.getSnapshot().value).toBe('running');
    expect(actor.getSnapshot().children.sync?.getSnapshot().status).toBe('active');
    expect(emitted.at(-1)).toBe('escalated:sync');
    actor.stop();
  });
});
