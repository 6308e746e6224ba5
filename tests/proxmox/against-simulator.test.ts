// End to end against the PVE simulator (adapters/pve-sim) over HTTPS: every Platform operation.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import { classifyPveFailure, PveApiError, TaskFailedError } from '../../adapters/platform/errors';
import type { Inventory } from '../../adapters/platform/types';
import { createProxmoxPlatform, type ProxmoxClusterConfig, type ProxmoxPlatform } from '../../adapters/proxmox';
import { demoSeed, type Simulator, startSimulator } from '../../adapters/pve-sim';
import { settleWithClock, TOKEN_ID, TOKEN_SECRET } from './helpers';
import { createTlsFixture, type TlsFixture } from './tls-fixture';

const PASSWORD = 'lab-password';

describe('against the simulator', () => {
  let tls: TlsFixture;
  let sim: Simulator;
  let platform: ProxmoxPlatform;
  const clock = new SimulatedClock(Date.UTC(2024, 4, 1));
  const log = createMemoryLog(clock);
  let config: ProxmoxClusterConfig;
  const settle = <T>(p: Promise<T>) => settleWithClock(p, clock, 250);
  const vmOf = (inv: Inventory, vmid: number) => inv.vms.find((v) => v.vmid === vmid);

  beforeAll(() => {
    tls = createTlsFixture();
  });
  beforeEach(async () => {
    await platform?.close();
    await sim?.stop();
    sim = await startSimulator({
      clock,
      tls: { cert: tls.cert, key: tls.key },
      seed: demoSeed(),
      tokens: [{ tokenid: TOKEN_ID, secret: TOKEN_SECRET }],
      users: [{ userid: 'root@pam', password: PASSWORD }],
    });
    config = {
      name: 'lab',
      host: '127.0.0.1',
      port: sim.port,
      auth: { type: 'token', tokenId: TOKEN_ID, secret: TOKEN_SECRET },
      tls: { ca: tls.ca },
    };
    platform = createProxmoxPlatform(config, { clock, log });
  });
  afterAll(async () => {
    await platform?.close();
    await sim?.stop();
    tls.cleanup();
  });

  it('simulator - inventory reads the demo cluster completely', async () => {
    const inv = await platform.inventory();
    expect(inv).toMatchObject({ cluster: 'lab', quorate: true, complete: true, unreachableNodes: [] });
    expect(inv.hosts.map((h) => h.node).sort()).toEqual(['pve1', 'pve2', 'pve3']);
    // 17 VMs and 4 containers (the demo seed's 300–302 and template 9100).
    expect(inv.vms).toHaveLength(21);
    expect(
      inv.vms
        .filter((v) => v.type === 'lxc')
        .map((v) => v.vmid)
        .sort((a, b) => a - b),
    ).toEqual([300, 301, 302, 9100]);
    expect(vmOf(inv, 302)).toMatchObject({ type: 'lxc', haManaged: true, haState: 'started' });
    expect(vmOf(inv, 301)?.pool).toBe('lab1');
    expect(vmOf(inv, 9000)).toMatchObject({ template: true, node: 'pve1', status: 'stopped' });
    expect(vmOf(inv, 105)).toMatchObject({ haManaged: true, haState: 'started', tags: ['infra'] });
    expect(vmOf(inv, 100)?.haState).toBeUndefined();
    expect(vmOf(inv, 114)).toMatchObject({ name: 'minecraft', status: 'running', tags: ['production', 'games'] });
  });

  it('simulator - nextId, clone and waitTask create a VM', async () => {
    const newid = await platform.nextId();
    expect(newid).toBeGreaterThanOrEqual(100);
    const task = await platform.clone('pve1', 9000, newid, { name: 'web-04', full: true });
    expect(task.node).toBe('pve1');
    const done = await settle(platform.waitTask(task, { timeoutMs: 120_000 }));
    expect(done).toMatchObject({ type: 'qmclone', exitstatus: 'OK' });
    expect(vmOf(await platform.inventory(), newid)).toMatchObject({ name: 'web-04', node: 'pve1', status: 'stopped' });
    const since = done.starttime - 5;
    const recent = await platform.recentTasks('pve1', 9000, since);
    expect(recent.map((t) => t.upid)).toContain(task.upid);
    // The simulator lists a finished token task as PVE does (user and tokenid apart); the adapter joins them.
    expect(recent.find((t) => t.upid === task.upid)?.user).toBe(TOKEN_ID);
  });

  it('simulator - power actions start and stop VMs', async () => {
    const start = await platform.power('pve3', 102, 'start');
    await settle(platform.waitTask(start, { timeoutMs: 60_000 }));
    expect(vmOf(await platform.inventory(), 102)?.status).toBe('running');
    const stop = await platform.power('pve3', 102, 'stop');
    await settle(platform.waitTask(stop, { timeoutMs: 60_000 }));
    expect(vmOf(await platform.inventory(), 102)?.status).toBe('stopped');
  });

  it('simulator - snapshot and destroy finish OK; the destroyed VM is gone', async () => {
    const snap = await platform.snapshot('pve1', 100, 'pre_change', 'before the change');
    await expect(settle(platform.waitTask(snap, { timeoutMs: 60_000 }))).resolves.toMatchObject({ exitstatus: 'OK' });
    const del = await platform.destroy('pve3', 113);
    await expect(settle(platform.waitTask(del, { timeoutMs: 60_000 }))).resolves.toMatchObject({ exitstatus: 'OK' });
    const inv = await platform.inventory();
    expect(inv.complete).toBe(true);
    expect(vmOf(inv, 113)).toBeUndefined();
  });

  it('simulator - a failing task is a TaskFailedError with its exitstatus', async () => {
    sim.faults.failTasks('qmstart', 1, 'start failed: QEMU exited with code 1');
    const task = await platform.power('pve3', 107, 'start');
    const err = await settle(platform.waitTask(task, { timeoutMs: 60_000 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    expect((err as TaskFailedError).exitstatus).toContain('QEMU exited with code 1');
  });

  it('simulator - a config lock not got in time fails the clone task (HTTP 200) as lock_timeout', async () => {
    // qemu-server takes the clone's config locks inside the qmclone worker: the call answers a UPID, the task fails.
    sim.faults.lockTimeout(9000, 1);
    const task = await settle(platform.clone('pve1', 9000, 130, { name: 'web-05', full: true }));
    const err = await settle(platform.waitTask(task, { timeoutMs: 120_000 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    expect(classifyPveFailure(err)).toMatchObject({
      kind: 'lock_timeout',
      file: '/var/lock/qemu-server/lock-9000.conf',
    });
    // It changed nothing: issued again, the clone is made.
    const again = await settle(platform.clone('pve1', 9000, 130, { name: 'web-05', full: true }));
    await expect(settle(platform.waitTask(again, { timeoutMs: 120_000 }))).resolves.toMatchObject({ exitstatus: 'OK' });
  });

  it('simulator - an offline node: its VMs are unknown, its API answers 596 (nodeUnreachable)', async () => {
    sim.faults.nodeOffline('pve3');
    const inv = await platform.inventory();
    expect(inv.complete).toBe(false);
    expect(inv.unreachableNodes).toEqual(['pve3']);
    expect(vmOf(inv, 106)?.status).toBe('unknown');
    expect(inv.vms).toHaveLength(21);
    const err = await platform.power('pve3', 106, 'stop').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PveApiError);
    expect(err).toMatchObject({ status: 596, nodeUnreachable: true });
  });

  it('simulator - quorum loss and an empty resources answer are reported, not read as "no VMs"', async () => {
    sim.faults.quorumLoss();
    expect((await platform.inventory()).quorate).toBe(false);
    sim.faults.quorumLoss(false);
    sim.faults.emptyResources(1);
    const inv = await platform.inventory();
    expect(inv.complete).toBe(false);
    sim.faults.httpError({ path: '^/cluster/resources$', status: 500, message: 'simulated failure' });
    await expect(platform.inventory()).rejects.toMatchObject({ name: 'PlatformUnavailableError' });
  });

  it('simulator - ticket auth logs in and works for reads and writes', async () => {
    const p = createProxmoxPlatform(
      { ...config, name: 'lab-ticket', auth: { type: 'ticket', username: 'root@pam', password: PASSWORD } },
      { clock, log },
    );
    try {
      expect((await p.inventory()).vms).toHaveLength(21);
      const task = await p.power('pve1', 108, 'start');
      await expect(settle(p.waitTask(task, { timeoutMs: 60_000 }))).resolves.toMatchObject({ exitstatus: 'OK' });
    } finally {
      await p.close();
    }
  });
});
