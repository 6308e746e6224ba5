// Maintenance in the runtime (the whole stack on the simulator): windows and silences stored before a start are on
// the live view once the Overseer has started (a restart keeps them), and the gate names them; ones that ran out are
// not loaded.
import { afterEach, describe, expect, it } from 'vitest';
import { createSimStack, type SimStack } from '../helpers/sim-stack';

let stack: SimStack | undefined;
afterEach(async () => {
  await stack?.cleanup();
  stack = undefined;
});

const base = { reason: 'disk swap', by: 'tok-olga', byName: 'olga', createdAt: 0 };

describe('runtime maintenance', () => {
  it('maintenance - windows stored before a start are in force after it; ones that ran out are not loaded', async () => {
    stack = await createSimStack({ start: 60_000 });
    const { store, overseer, clock } = stack;
    store.maintenance.windows.insert({
      ...base,
      id: 'm1',
      scope: 'guest',
      target: 'lab/101',
      from: 0,
      until: 7_200_000,
    });
    store.maintenance.windows.insert({ ...base, id: 'm0', scope: 'guest', target: 'lab/103', from: 0, until: 30_000 });
    store.maintenance.silences.insert({
      ...base,
      id: 's1',
      kind: 'vm-crash-loop',
      guest: 'lab/106',
      from: 0,
      until: 7_200_000,
    });
    overseer.start();
    await stack.settle();

    expect(overseer.view.maintenance.windows(clock.now()).map((w) => w.id)).toEqual(['m1']);
    expect(overseer.view.maintenance.silences(clock.now()).map((s) => s.id)).toEqual(['s1']);
    const requester = { id: 'alice', role: 'admin' as const };
    const stop = (vmid: number) =>
      overseer.submit({ action: 'stop', target: { cluster: 'lab', vmid }, params: {}, force: false, requester });
    const inMaintenance = await stop(101);
    expect(inMaintenance.decision).toBe('awaiting_approval');
    expect(inMaintenance.reasons).toEqual([
      "VM lab/101 (web-02) is in maintenance (guest lab/101 until 1970-01-01T02:00:00Z, by olga: disk swap (m1)): acting on it needs a second person's approval",
    ]);
    expect((await stop(103)).decision).toBe('approved');
  });
});
