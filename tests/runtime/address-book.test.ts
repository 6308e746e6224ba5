import { afterEach, describe, expect, it } from 'vitest';
import { flushMicrotasks } from '../../adapters/clock';
import { BusRemoteError, createMemoryBus, subjects } from '../../adapters/nats';
import type { RuntimeHarness } from '../helpers/runtime';
import { createRuntime } from '../helpers/runtime';

let rt: RuntimeHarness | undefined;
afterEach(() => {
  rt?.close();
  rt = undefined;
});

describe('address book', () => {
  it('address - an actor is reached by its subject: a loop runs now when told over NATS', async () => {
    rt = createRuntime();
    rt.overseer.start();
    await flushMicrotasks();
    const bus = createMemoryBus({ clock: rt.clock });
    const stop = rt.overseer.addresses.serve(bus);
    const cycles = () =>
      (rt?.overseer.rootSnapshot?.children.sync?.getSnapshot() as { context: { cycles: number } }).context.cycles;
    const before = cycles();
    const reply = await bus.request(subjects.actor('loop:sync'), { type: 'RUN_NOW' });
    await flushMicrotasks();
    expect(reply).toEqual({ delivered: true, actorId: 'loop:sync', type: 'RUN_NOW' });
    expect(cycles()).toBe(before + 1);
    stop();
  });

  it('address - events that could bypass the gate are refused from the bus', async () => {
    rt = createRuntime();
    rt.overseer.start();
    const bus = createMemoryBus({ clock: rt.clock });
    const stop = rt.overseer.addresses.serve(bus);
    await expect(
      bus.request(subjects.actor('req:abc'), { type: 'APPROVE', by: { id: 'mallory', role: 'admin' } }),
    ).rejects.toBeInstanceOf(BusRemoteError);
    await expect(bus.request(subjects.actor('loop:sync'), 'not an object')).rejects.toThrow(/JSON object/);
    stop();
  });
});
