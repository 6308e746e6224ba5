import type { Proxmox } from 'proxmox-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestSim, type TestSim, untilClockTimer } from './helpers';

type Resource = Proxmox.clusterResourcesResources;

describe('pve-sim faults', () => {
  let t: TestSim;
  beforeEach(async () => {
    t = await startTestSim();
  });
  afterEach(() => t.close());

  const resources = () => t.get<Resource[]>('/cluster/resources');

  it('faults - an offline node answers 596, shows offline with its VMs unknown, and online 0 in /cluster/status', async () => {
    t.sim.faults.nodeOffline('pve2');
    const r = await t.api('GET', '/nodes/pve2/qemu/101/status/current');
    expect(r.status).toBe(596);
    expect(r.statusText).toBe('Connection timed out');
    expect(r.text).toBe('');
    expect((await t.api('POST', '/nodes/pve2/qemu/101/status/stop')).status).toBe(596);
    const all = await resources();
    expect(all.find((x) => x.id === 'node/pve2')?.status).toBe('offline');
    const onPve2 = all.filter((x) => x.type === 'qemu' && x.node === 'pve2');
    expect(onPve2.length).toBeGreaterThan(0);
    expect(onPve2.every((v) => v.status === 'unknown' && v.name)).toBe(true);
    expect(all.find((x) => x.vmid === 100)?.status).toBe('running');
    const st = await t.get<Array<{ name: string; online?: number; quorate?: number }>>('/cluster/status');
    expect(st.find((x) => x.name === 'pve2')?.online).toBe(0);
    expect(st[0]?.quorate).toBe(1);
    const nodes = await t.get<Array<{ node: string; status: string }>>('/nodes');
    expect(nodes.find((n) => n.node === 'pve2')?.status).toBe('offline');

    t.sim.faults.nodeOffline('pve2', false);
    expect((await t.api('GET', '/nodes/pve2/qemu/101/status/current')).status).toBe(200);
  });

  it('faults - tasks of an offline node answer 596', async () => {
    const upid = await t.op('POST', '/nodes/pve2/qemu/104/status/start');
    t.sim.faults.nodeOffline('pve2');
    expect((await t.api('GET', `/nodes/pve2/tasks/${upid}/status`)).status).toBe(596);
  });

  it('faults - a crashed VM is stopped with no task, and the oplog records the crash', async () => {
    t.sim.faults.crashVm(114);
    const vm = (await resources()).find((x) => x.vmid === 114);
    expect(vm).toMatchObject({ status: 'stopped', uptime: 0 });
    expect(t.sim.state.tasks.size).toBe(0);
    expect(t.sim.oplog).toEqual([{ at: t.clock.now(), op: 'crash', node: 'pve1', vmid: 114, result: 'crashed' }]);
  });

  it('faults - slow tasks take longer (all types, or one type)', async () => {
    t.sim.faults.slowTasks(4);
    expect(t.sim.taskDuration('qmstart')).toBe(8_000);
    t.sim.faults.slowTasks(2, 'start');
    expect(t.sim.taskDuration('qmstart')).toBe(16_000);
    const upid = await t.op('POST', '/nodes/pve3/qemu/102/status/start');
    await t.clock.advanceAsync(15_999);
    expect((await t.taskStatus(upid)).status).toBe('running');
    await t.clock.advanceAsync(1);
    expect((await t.taskStatus(upid)).exitstatus).toBe('OK');
  });

  it('faults - the next N tasks of a type fail with the message and have no effect', async () => {
    t.sim.faults.failTasks('qmclone', 1, 'clone failed: storage full');
    const first = await t.op('POST', '/nodes/pve1/qemu/9000/clone', { newid: 120 });
    await t.clock.advanceAsync(t.sim.taskDuration('qmclone'));
    expect((await t.taskStatus(first)).exitstatus).toBe('clone failed: storage full');
    expect((await resources()).some((x) => x.vmid === 120)).toBe(false);
    expect(t.sim.oplog.at(-1)).toMatchObject({ op: 'clone', result: 'clone failed: storage full', upid: first });
    const second = await t.op('POST', '/nodes/pve1/qemu/9000/clone', { newid: 120 });
    await t.clock.advanceAsync(t.sim.taskDuration('qmclone'));
    expect((await t.taskStatus(second)).exitstatus).toBe('OK');
  });

  it('faults - lock timeout: the next N operations on a VM fail with the lock-timeout text', async () => {
    t.sim.faults.lockTimeout(102, 1);
    const upid = await t.op('POST', '/nodes/pve3/qemu/102/status/start');
    await t.clock.advanceAsync(9_999);
    expect((await t.taskStatus(upid)).status).toBe('running');
    await t.clock.advanceAsync(1);
    expect((await t.taskStatus(upid)).exitstatus).toBe(
      "can't lock file '/var/lock/qemu-server/lock-102.conf' - got timeout",
    );
    // Clone forks first and takes its locks in the worker (1 s wait): the task fails.
    t.sim.faults.lockTimeout(9000, 1);
    const clone = await t.op('POST', '/nodes/pve1/qemu/9000/clone', { newid: 120 });
    await t.clock.advanceAsync(1_000);
    expect((await t.taskStatus(clone)).exitstatus).toBe(
      "can't lock file '/var/lock/qemu-server/lock-9000.conf' - got timeout",
    );
    const retry = await t.op('POST', '/nodes/pve3/qemu/102/status/start');
    await t.clock.advanceAsync(t.sim.taskDuration('qmstart'));
    expect((await t.taskStatus(retry)).exitstatus).toBe('OK');
  });

  it('faults - quorum loss shows quorate 0 and refuses operations with 500', async () => {
    t.sim.faults.quorumLoss();
    const st = await t.get<Array<{ type: string; quorate?: number }>>('/cluster/status');
    expect(st[0]).toMatchObject({ type: 'cluster', quorate: 0 });
    const r = await t.api('POST', '/nodes/pve1/qemu/100/status/stop');
    expect(r.status).toBe(500);
    expect(r.statusText).toBe('cluster not ready - no quorum?');
    expect((await resources()).length).toBeGreaterThan(0);
  });

  it('faults - added latency holds answers until the clock advances', async () => {
    t.sim.faults.addLatency(3_000);
    let answered = false;
    const pending = t.api('GET', '/version').then((r) => {
      answered = true;
      return r;
    });
    await untilClockTimer(t.clock);
    await t.clock.advanceAsync(2_999, 1);
    expect(answered).toBe(false);
    await t.clock.advanceAsync(1, 1);
    expect((await pending).status).toBe(200);
  });

  it('faults - 500s on a path pattern for the next N requests', async () => {
    t.sim.faults.httpError({ path: '^/cluster/resources', count: 2, message: 'proxy loop detected' });
    for (let i = 0; i < 2; i++) {
      const r = await t.api('GET', '/cluster/resources');
      expect(r.status).toBe(500);
      expect(r.statusText).toBe('proxy loop detected');
    }
    expect((await t.api('GET', '/cluster/resources')).status).toBe(200);
  });

  it('faults - an empty /cluster/resources answer', async () => {
    t.sim.faults.emptyResources(1);
    expect(await resources()).toEqual([]);
    expect((await resources()).length).toBeGreaterThan(0);
  });

  it('faults - the control API does the same over HTTP and reports the oplog', async () => {
    const post = (name: string, json: Record<string, unknown>) =>
      t.api('POST', `/_sim/faults/${name}`, { json, auth: false });
    expect((await post('node-offline', { node: 'pve3' })).status).toBe(200);
    expect((await post('quorum-loss', {})).body).toMatchObject({ offlineNodes: ['pve3'], quorate: false });
    expect((await post('crash', { vmid: 999 })).status).toBe(400);
    await post('reset', {});
    await post('crash', { vmid: 100 });
    const faults = await t.api<unknown>('GET', '/_sim/faults', { auth: false });
    expect(faults.text).toContain('"offlineNodes":[]');
    const oplog = await t.api('GET', '/_sim/oplog', { auth: false });
    expect(JSON.parse(oplog.text)).toEqual([expect.objectContaining({ op: 'crash', vmid: 100, result: 'crashed' })]);
    expect((await post('vm-lock', { vmid: 102, lock: 'backup' })).status).toBe(200);
    expect(t.sim.state.vms.get(102)?.lock).toBe('backup');
    expect((await t.api('POST', '/_sim/faults/nope', { json: {}, auth: false })).status).toBe(404);
  });
});
