// The sync loop's own sync of a large cluster, on the PVE simulator (tests/helpers/sim-stack.ts, one simulated
// clock): the answer is read and applied in slices with the event loop turning between them, and it ends as one
// applied at once would; a VM gone from the platform is still counted missing, an empty answer still removes nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { MIN_TIMED_UNITS, SLICE_UNITS, sliceDone } from '../../actors/sync';
import { SimulatedClock } from '../../adapters/clock';
import { largeSeed } from '../../adapters/pve-sim';
import type { SimStack } from '../helpers/sim-stack';
import { createSimStack } from '../helpers/sim-stack';

const VMS = 3_000;

let stack: SimStack | undefined;
afterEach(async () => {
  await stack?.cleanup();
  stack = undefined;
});

/** Runs `work` while counting the event loop's turns (one immediate after another). */
async function countingTurns<T>(work: () => Promise<T>): Promise<{ result: T; turns: number }> {
  let turns = 0;
  let running = true;
  const tick = () => {
    turns++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  try {
    return { result: await work(), turns };
  } finally {
    running = false;
  }
}

describe('sync in slices', () => {
  it('sync - a 3,000-VM cluster is read and applied in slices, the event loop turning; nothing changed, nothing sent', async () => {
    stack = await createSimStack({ seed: largeSeed({ vms: VMS, nodes: 4, cluster: 'big' }) });
    const { overseer } = stack;
    const first = await countingTurns(() => overseer.syncAll());
    const [report] = overseer.lastSyncReports;
    expect(report).toMatchObject({ ok: true, complete: true, vms: VMS, created: VMS, changed: 0, missing: 0 });
    expect(overseer.vms.size).toBe(VMS);
    expect(overseer.view.vms.size).toBe(VMS);
    // On the simulated clock a slice is counted: 3,000 new actors are about 25 slices of 4,096 units.
    expect(first.turns).toBeGreaterThan(20);
    expect(overseer.vms.get('big/100')?.getSnapshot().value).toBe('running');
    expect(overseer.vms.get('big/102')?.getSnapshot().value).toBe('stopped');
    expect(overseer.view.vms.get('big/101')?.tags).toEqual(['db']);

    const lines = stack.lines.length;
    await overseer.syncAll();
    expect(overseer.lastSyncReports[0]).toMatchObject({ ok: true, vms: VMS, created: 0, changed: 0, missing: 0 });
    expect(stack.lines.slice(lines).filter((l) => l.includes('state changed'))).toEqual([]);
  });

  it('sync - a VM gone from the platform is counted missing twice, then gone; an empty answer removes nothing', async () => {
    stack = await createSimStack({ seed: largeSeed({ vms: VMS, nodes: 4, cluster: 'big' }) });
    const { overseer, sim } = stack;
    await overseer.syncAll();
    sim.state.vms.delete(1_234);
    await overseer.syncAll();
    expect(overseer.lastSyncReports[0]).toMatchObject({ ok: true, vms: VMS - 1, missing: 1 });
    expect(overseer.vms.get('big/1234')?.getSnapshot().status).toBe('active');

    sim.faults.emptyResources(1);
    await overseer.syncAll();
    expect(overseer.lastSyncReports[0]).toMatchObject({ ok: true, vms: 0, missing: 0 });
    expect(overseer.view.vms.size).toBe(VMS);

    await overseer.syncAll();
    expect(overseer.lastSyncReports[0]).toMatchObject({ ok: true, vms: VMS - 1, missing: 1 });
    expect(overseer.view.vms.has('big/1234')).toBe(false);
    expect(overseer.view.vms.size).toBe(VMS - 1);
    expect(stack.lines).toContainEqual(expect.stringContaining("vm:big/1234: state changed from 'running' to"));
  });
});

describe('sync slice budget', () => {
  it('sync - a slice ends once its work and its commit, at the pace the last slice measured, fill the budget', () => {
    // 1 ms of work: not yet the 3 ms budget without a commit to count.
    const clock = new SimulatedClock(1_000);
    clock.advance(1);
    expect(sliceDone(MIN_TIMED_UNITS, 1_000, clock, { commitPerUnit: 0 })).toBe(false);
    // The last commit took 4 µs a unit: 512 units will take about 2 ms more to commit.
    expect(sliceDone(MIN_TIMED_UNITS, 1_000, clock, { commitPerUnit: 0.004 })).toBe(true);
    // Never before MIN_TIMED_UNITS (work goes on however slow the commits), always at SLICE_UNITS.
    expect(sliceDone(MIN_TIMED_UNITS - 1, 1_000, clock, { commitPerUnit: 1 })).toBe(false);
    expect(sliceDone(SLICE_UNITS, 1_000, clock, { commitPerUnit: 0 })).toBe(true);
  });
});
