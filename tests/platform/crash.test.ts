// Issue 3 acceptance: an Overseer process SIGKILLed during a clone finishes it after a restart without cloning
// twice. The simulator runs here; the Overseer runs as a real child process (node + tsx) against it over HTTPS.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OpLogEntry } from '../../adapters/pve-sim';
import { runTs } from '../helpers/child';
import type { PlatformSim } from './helpers';
import { startPlatformSim, writeConfig } from './helpers';

const CHILD = join(import.meta.dirname, 'runtime-child.ts');

interface Issued {
  id: string;
  status: string;
  tasks?: { upid: string; node: string }[];
  error?: string;
}
interface Done {
  restored: { vms: number; hosts: number; requests: number };
  requests: { id: string; status: string; error?: string; parent?: string }[];
  vmid?: number;
}

let platform: PlatformSim;
let dir: string;
let configPath: string;
let dbPath: string;

beforeEach(async () => {
  platform = await startPlatformSim({ taskDurations: { qmclone: 3_000, qmsnapshot: 3_000 } });
  dir = mkdtempSync(join(tmpdir(), 'overseer-platform-crash-'));
  configPath = writeConfig(dir, platform.clusterConfig);
  dbPath = join(dir, 'overseer.db');
});
afterEach(async () => {
  await platform?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const clonesStarted = () => platform.sim.oplog.filter((e) => e.op === 'clone' && e.result === 'started');

/** Restarts the Overseer on the same database; resolves with its DONE answer and its log. */
async function resume(): Promise<{ done: Done; log: string }> {
  const resumer = runTs(CHILD, ['resume', configPath, dbPath]);
  const done = await resumer.line<Done>('DONE', 18_000);
  expect(await resumer.exited).toBe(0);
  return { done, log: resumer.stderr() };
}

/** The request was restored and completed; the platform ran one clone, and its VM is there and is a VM actor. */
function expectOneClone(done: Done, requestId: string): void {
  expect(done.restored.requests).toBe(1);
  expect(done.requests.find((r) => r.id === requestId)).toMatchObject({ status: 'completed' });
  const clones = clonesStarted();
  expect(clones).toHaveLength(1);
  expect(platform.sim.oplog.filter((e) => e.op === 'clone' && e.result === 'OK')).toHaveLength(1);
  const newid = clones[0]?.detail?.newid as number;
  expect(platform.sim.state.vms.get(newid)).toMatchObject({ name: 'survivor', node: 'pve3', lock: undefined });
  expect(done.vmid).toBe(newid);
}

describe('platform crash', () => {
  it('platform - SIGKILL while a clone runs: the restart polls the recorded task, one clone, request completed', async () => {
    const child = runTs(CHILD, ['deploy', configPath, dbPath]);
    const cloning = await child.line<Issued>('TASK', 15_000);
    expect(cloning.status, cloning.error).toBe('executing');
    expect(cloning.tasks).toHaveLength(1);
    // Somewhere in the 3 s clone.
    await new Promise((r) => setTimeout(r, 100 + Math.floor(Math.random() * 1_000)));
    child.proc.kill('SIGKILL');
    expect(await child.exited).toBeNull();
    const clone = platform.sim.state.tasks.get(cloning.tasks?.[0]?.upid ?? '');
    expect(clone?.status).toBe('running');

    const { done, log } = await resume();
    expect(log).toMatch(/waiting for clone lab\/9000 as survivor/);
    expect(log).not.toMatch(/adopting/);
    expectOneClone(done, cloning.id);
  }, 20_000);

  it('platform - SIGKILL while the members of a bulk request run: the restart resumes them, each member task once', async () => {
    const child = runTs(CHILD, ['bulk', configPath, dbPath]);
    const running = await child.line<Issued>('TASK', 15_000);
    expect(running.status, running.error).toBe('executing');
    await new Promise((r) => setTimeout(r, 100 + Math.floor(Math.random() * 1_000)));
    child.proc.kill('SIGKILL');
    expect(await child.exited).toBeNull();

    const { done } = await resume();
    const parent = done.requests.find((r) => r.id === running.id);
    expect(parent, JSON.stringify(done.requests)).toMatchObject({ status: 'completed' });
    const members = done.requests.filter((r) => r.parent === running.id);
    expect(members.map((m) => [m.id, m.status]).sort()).toEqual([
      [`${running.id}-m103`, 'completed'],
      [`${running.id}-m104`, 'completed'],
    ]);
    const snapshots = (result: string) =>
      platform.sim.oplog
        .filter((e) => e.op === 'snapshot' && e.result === result)
        .map((e) => e.vmid)
        .sort();
    expect(snapshots('started')).toEqual([103, 104]);
    expect(snapshots('OK')).toEqual([103, 104]);
  }, 30_000);

  it('platform - SIGKILL the instant PVE accepted the clone (UPID never recorded): the restart finds its VM, no second clone', async () => {
    const child = runTs(CHILD, ['deploy', configPath, dbPath]);
    // Kill the child while the simulator is still handling the clone call: the intent is recorded, the UPID is not.
    const oplog = platform.sim.oplog;
    const push = oplog.push.bind(oplog);
    oplog.push = (...entries: OpLogEntry[]) => {
      if (entries.some((e) => e.op === 'clone' && e.result === 'started')) child.proc.kill('SIGKILL');
      return push(...entries);
    };
    expect(await child.exited).toBeNull();
    oplog.push = push;
    expect(clonesStarted()).toHaveLength(1);

    const { done, log } = await resume();
    expect(done.requests).toHaveLength(1);
    // A clone task names only its template: the restart knows its clone by the name of the guest at its VMID.
    expect(log).toMatch(/was made before a restart \(\d+\); not issued again/);
    expectOneClone(done, done.requests[0]?.id ?? '');
  }, 20_000);

  it('platform - SIGKILL as PVE accepts the re-issue of a lock-timed-out stop: the restart adopts it, no third stop', async () => {
    platform.sim.faults.lockTimeout(101, 1);
    const child = runTs(CHILD, ['stop', configPath, dbPath]);
    const oplog = platform.sim.oplog;
    const push = oplog.push.bind(oplog);
    oplog.push = (...entries: OpLogEntry[]) => {
      const before = oplog.filter((e) => e.op === 'stop' && e.result === 'started').length;
      if (before === 1 && entries.some((e) => e.op === 'stop' && e.result === 'started')) child.proc.kill('SIGKILL');
      return push(...entries);
    };
    expect(await child.exited).toBeNull();
    oplog.push = push;

    const { done, log } = await resume();
    expect(done.requests[0]).toMatchObject({ status: 'completed' });
    expect(log).toMatch(/adopting UPID:pve2:[0-9A-F:]+:qmstop:101:/);
    const stops = oplog.filter((e) => e.op === 'stop' && e.vmid === 101);
    expect(stops.filter((e) => e.result === 'started')).toHaveLength(2);
    expect(stops.filter((e) => e.result !== 'started').map((e) => e.result)).toEqual([
      "can't lock file '/var/lock/qemu-server/lock-101.conf' - got timeout",
      'OK',
    ]);
    expect(platform.sim.state.vms.get(101)?.status).toBe('stopped');
  }, 20_000);
});
