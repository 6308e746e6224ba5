// Issue 10, item 2: `npm start`'s simulator keeps its state in the data dir. A VM destroyed through the gate on the
// embedded simulator stays destroyed when the simulator (and Overseer) start again from the same data dir.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../actors/config';
import type { EmbeddedSimulator } from '../../actors/embedded-sim';
import { simStatePath, startEmbeddedSimulator } from '../../actors/embedded-sim';
import { Overseer } from '../../actors/overseer';
import { platformsFromConfig } from '../../actors/platforms';
import { SystemClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import { closePlatforms } from '../../adapters/proxmox';
import { TERMINAL_REQUEST_STATUSES } from '../../machines/types';
import { StateStore } from '../../state';
import { ADMIN, until } from './helpers';

const clock = new SystemClock();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The embedded simulator and an Overseer on it, both on `dir`, as `overseer serve` runs them. */
async function startOn(dir: string) {
  const embedded: EmbeddedSimulator = await startEmbeddedSimulator(dir, clock);
  const log = createMemoryLog(clock);
  const config = parseConfig({
    clusters: [{ ...embedded.cluster, taskPollMs: 100 }],
    loops: { syncIntervalSeconds: 1, monitorIntervalSeconds: 1, healthIntervalSeconds: 30 },
  });
  const store = StateStore.open(join(dir, 'overseer.db'));
  const platforms = platformsFromConfig(config.clusters, { clock, log });
  const overseer = new Overseer({ clock, log, config, store, platforms });
  overseer.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    overseer.stop();
    store.close();
    await closePlatforms(platforms.values());
    await embedded.sim.stop();
  };
  cleanups.push(stop);
  await until(
    () => overseer.vms.size >= embedded.sim.state.vms.size,
    10_000,
    () => 'the first sync',
  );
  return { embedded, overseer, store, log, stop };
}

describe('embedded simulator state', () => {
  it('embedded sim - a VM destroyed through the gate stays gone after the simulator starts again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'overseer-embedded-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));

    const first = await startOn(dir);
    expect(first.embedded.restored).toBe(false);
    expect(existsSync(simStatePath(dir))).toBe(true);
    const result = await first.overseer.submit({
      action: 'destroy',
      target: { cluster: 'lab', vmid: 113 },
      params: {},
      force: false,
      requester: ADMIN,
    });
    expect(result.decision, result.reasons.join('; ')).toBe('approved');
    await until(
      () => TERMINAL_REQUEST_STATUSES.has(first.store.requests.get(result.requestId)?.status ?? 'received'),
      15_000,
      () => 'the destroy to end',
    );
    const record = first.store.requests.get(result.requestId);
    expect(record?.status, record?.error).toBe('completed');
    const destroyTask = record?.taskIds.at(-1)?.upid;
    expect(first.embedded.sim.state.vms.has(113)).toBe(false);
    await first.stop();

    const second = await startOn(dir);
    expect(second.embedded.restored).toBe(true);
    expect(second.embedded.sim.state.vms.has(113)).toBe(false);
    expect(second.embedded.sim.state.vms.size).toBe(first.embedded.sim.state.vms.size);
    // Its task log came back too: the destroy's task is still known by its UPID.
    expect(destroyTask && second.embedded.sim.state.tasks.get(destroyTask)).toMatchObject({
      type: 'qmdestroy',
      status: 'stopped',
      exitstatus: 'OK',
    });
    // Overseer agrees: 113 is not in the inventory, and nothing is reported missing.
    await second.overseer.syncAll();
    expect(second.overseer.view.vms.has('lab/113')).toBe(false);
    expect(second.overseer.lastSyncReports[0]).toMatchObject({ ok: true, missing: 0 });
    const start = await second.overseer.submit({
      action: 'start',
      target: { cluster: 'lab', vmid: 113 },
      params: {},
      force: false,
      requester: ADMIN,
    });
    expect(start.decision).toBe('denied');
  }, 60_000);

  it('embedded sim - deleting the state file starts again from the demo seed; a broken one stops start-up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'overseer-embedded-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const first = await startEmbeddedSimulator(dir, clock);
    first.sim.state.vms.delete(113);
    first.sim.faults.lockVm(100, 'backup');
    await first.sim.stop();

    const again = await startEmbeddedSimulator(dir, clock);
    cleanups.push(() => again.sim.stop());
    expect(again.restored).toBe(true);
    expect(again.sim.state.vms.has(113)).toBe(false);
    expect(again.sim.state.vms.get(100)?.lock).toBe('backup');
    await again.sim.stop();

    rmSync(simStatePath(dir));
    const fresh = await startEmbeddedSimulator(dir, clock);
    cleanups.push(() => fresh.sim.stop());
    expect(fresh.restored).toBe(false);
    expect(fresh.sim.state.vms.has(113)).toBe(true);
    await fresh.sim.stop();

    writeFileSync(simStatePath(dir), '{"format": 1, "cluster": "lab"');
    await expect(startEmbeddedSimulator(dir, clock)).rejects.toThrow(/not JSON.*delete .*state\.json/s);
  }, 60_000);
});
