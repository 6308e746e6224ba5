import { afterEach, describe, expect, it } from 'vitest';
import { flushMicrotasks } from '../../adapters/clock';
import type { RuntimeHarness } from '../helpers/runtime';
import { createRuntime } from '../helpers/runtime';

let rt: RuntimeHarness | undefined;
afterEach(() => {
  rt?.close();
  rt = undefined;
});

describe('address book', () => {
  it('address - an actor is reached by its id: a loop runs now when sent RUN_NOW', async () => {
    rt = createRuntime();
    rt.overseer.start();
    await flushMicrotasks();
    const cycles = () =>
      (rt?.overseer.rootSnapshot?.children.sync?.getSnapshot() as { context: { cycles: number } }).context.cycles;
    const before = cycles();
    expect(rt.overseer.addresses.send('loop:sync', { type: 'RUN_NOW' })).toBe(true);
    await flushMicrotasks();
    expect(cycles()).toBe(before + 1);
  });

  it('address - an id with no actor in this process is not delivered', () => {
    rt = createRuntime();
    rt.overseer.start();
    expect(rt.overseer.addresses.send('req:abc', { type: 'CANCEL' })).toBe(false);
    expect(rt.overseer.addresses.send('vm:lab/999', { type: 'RUN_NOW' })).toBe(false);
    expect(rt.overseer.addresses.send('nobody', { type: 'RUN_NOW' })).toBe(false);
  });
});
