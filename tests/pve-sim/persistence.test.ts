// The simulator's state on disk: what is kept, what a restart makes of a task that was running, and what a
// broken file does.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../adapters/clock';
import {
  decodeUpid,
  readSavedState,
  SimConfigError,
  type Simulator,
  StatePersister,
  saveState,
  startSimulator,
  UNEXPECTED_TASK_END,
} from '../../adapters/pve-sim';
import { START } from './helpers';

const sims: Simulator[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const sim of sims.splice(0)) await sim.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pve-sim-state-'));
  dirs.push(dir);
  return join(dir, 'state.json');
}

describe('pve-sim persistence', () => {
  it('persistence - a restarted simulator continues from the saved VMs, locks and tasks', async () => {
    const clock = new SimulatedClock(START);
    const path = tempFile();
    let persister: StatePersister | undefined;
    const sim = await startSimulator({ clock, tls: false, onChange: () => persister?.changed() });
    sims.push(sim);
    persister = new StatePersister({ path, state: sim.state, clock, debounceMs: 1_000 });

    sim.faults.lockVm(100, 'backup');
    sim.faults.crashVm(101);
    // Nothing written until the debounce has passed; then once.
    expect(() => readFileSync(path)).toThrow();
    await clock.advanceAsync(1_000);
    const written = JSON.parse(readFileSync(path, 'utf8'));
    expect(written).toMatchObject({ format: 1, cluster: 'lab', savedAt: START + 1_000 });

    const restored = readSavedState(path);
    expect(restored?.vms.get(100)?.lock).toBe('backup');
    expect(restored?.vms.get(101)?.status).toBe('stopped');
    expect([...(restored?.nodes.values() ?? [])].every((n) => n.online)).toBe(true);
    expect(restored?.quorate).toBe(true);
  });

  it('persistence - a task running when the state was saved comes back ended with "unexpected status"', async () => {
    const clock = new SimulatedClock(START);
    const sim = await startSimulator({ clock, tls: false });
    sims.push(sim);
    const state = sim.state;
    expect(state.tasks.size).toBe(0);
    // A start task, still running, as it would be when the process was killed.
    const path = tempFile();
    const upid = `UPID:pve3:0002A010:00000001:${Math.floor(START / 1000)
      .toString(16)
      .toUpperCase()
      .padStart(8, '0')}:qmstart:102:root@pam:`;
    const running = {
      upid,
      node: 'pve3',
      pid: 0x2a010,
      pstart: 1,
      starttime: Math.floor(START / 1000),
      type: 'qmstart',
      id: '102',
      user: 'root@pam',
      status: 'running' as const,
      log: [],
    };
    state.tasks.set(upid, running);
    state.tasksByNode.get('pve3')?.push(running);
    writeFileSync(path, JSON.stringify(saveState(state, START + 5_000)));

    const restored = readSavedState(path)!;
    expect(restored.tasks.get(upid)).toMatchObject({
      status: 'stopped',
      exitstatus: UNEXPECTED_TASK_END,
      endtime: Math.floor(START / 1000) + 5,
    });
    // A simulator on the restored state gives new workers pids after the saved ones.
    const again = await startSimulator({ clock, tls: false, state: restored });
    sims.push(again);
    const upidAfter = (await fetchOp(again, '/nodes/pve1/qemu/100/status/stop')) as string;
    expect(decodeUpid(upidAfter)?.pid).toBeGreaterThan(0x2a010);
  });

  it('persistence - a file of another format or with a malformed VM is refused, naming what is wrong', () => {
    const path = tempFile();
    writeFileSync(path, JSON.stringify({ format: 2 }));
    expect(() => readSavedState(path)).toThrow(SimConfigError);
    expect(() => readSavedState(path)).toThrow(/format 2, expected 1/);
    writeFileSync(
      path,
      JSON.stringify({
        format: 1,
        savedAt: 0,
        cluster: 'lab',
        version: '8.2.4',
        localNode: 'pve1',
        configVersion: 1,
        nodes: [{ name: 'pve1', maxmem: 1 }],
        vms: [{ vmid: 'x' }],
        tasks: [],
      }),
    );
    expect(() => readSavedState(path)).toThrow(/vms\[0\] is malformed/);
    expect(readSavedState(join(path, '..', 'absent.json'))).toBeUndefined();
  });
});

/** POST through the simulator's HTTP API with its generated token; returns the UPID. */
async function fetchOp(sim: Simulator, path: string): Promise<unknown> {
  const token = sim.tokens[0]!;
  const res = await fetch(`${sim.url}/api2/json${path}`, {
    method: 'POST',
    headers: { Authorization: `PVEAPIToken=${token.tokenid}=${token.secret}` },
  });
  return ((await res.json()) as { data: unknown }).data;
}
