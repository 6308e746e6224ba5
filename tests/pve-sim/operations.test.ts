import type { Proxmox } from 'proxmox-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestSim, type TestSim } from './helpers';

type Resource = Proxmox.clusterResourcesResources;

describe('pve-sim operations', () => {
  let t: TestSim;
  beforeEach(async () => {
    t = await startTestSim();
  });
  afterEach(() => t.close());

  const vmEntry = async (vmid: number) =>
    (await t.get<Resource[]>('/cluster/resources?type=vm')).find((r) => r.vmid === vmid);

  it('clone - runs as a task; the new VM is reserved with lock clone, then exists with exitstatus OK and oplog entries', async () => {
    const upid = await t.op('POST', '/nodes/pve1/qemu/9000/clone', { newid: 120, name: 'web-09', full: 1 });
    expect(upid).toMatch(/^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:qmclone:9000:root@pam!overseer:$/);

    expect(await t.taskStatus(upid)).toMatchObject({ status: 'running', type: 'qmclone', id: '9000' });
    expect(await vmEntry(120)).toMatchObject({ name: 'web-09', lock: 'clone', status: 'stopped', node: 'pve1' });
    expect(await t.get<string>('/cluster/nextid')).toBe('116');

    await t.clock.advanceAsync(t.sim.taskDuration('qmclone'));
    const done = await t.taskStatus(upid);
    expect(done).toMatchObject({ status: 'stopped', exitstatus: 'OK' });
    const vm = await vmEntry(120);
    expect(vm).toMatchObject({ name: 'web-09', template: 0, status: 'stopped' });
    expect(vm?.lock).toBeUndefined();
    expect(t.sim.oplog.map((e) => [e.op, e.vmid, e.result])).toEqual([
      ['clone', 9000, 'started'],
      ['clone', 9000, 'OK'],
    ]);
    expect(t.sim.oplog[1]).toMatchObject({ upid, node: 'pve1', detail: { newid: 120, full: true } });
    const log = await t.get<Array<{ n: number; t: string }>>(`/nodes/pve1/tasks/${upid}/log`);
    expect(log.at(0)?.t).toBe('create full clone of drive scsi0 (local-zfs:base-9000-disk-0)');
    expect(log.at(-1)).toEqual({ n: log.length, t: 'TASK OK' });
  });

  it('clone - to a target node lands there; a template clones linked by default', async () => {
    const upid = await t.op('POST', '/nodes/pve1/qemu/9000/clone', { newid: 121, name: 'lab-a', target: 'pve3' });
    await t.clock.advanceAsync(t.sim.taskDuration('qmclone'));
    expect((await t.taskStatus(upid)).exitstatus).toBe('OK');
    expect(await vmEntry(121)).toMatchObject({ node: 'pve3' });
    const cfg = await t.get<{ scsi0: string }>('/nodes/pve3/qemu/121/config');
    expect(cfg.scsi0).toMatch(/^local-zfs:base-9000-disk-0\/vm-121-disk-0,/);
  });

  it('clone - on a VMID taken on the same node answers 500 "config file already exists" and starts no task', async () => {
    const r = await t.api('POST', '/nodes/pve1/qemu/9000/clone', { form: { newid: 103 } });
    expect(r.status).toBe(500);
    expect(r.statusText).toBe('unable to create VM 103: config file already exists');
    expect(t.sim.oplog).toEqual([]);
  });

  it('clone - parallel clones of one template both succeed (shared lock on the source)', async () => {
    const a = await t.op('POST', '/nodes/pve1/qemu/9000/clone', { newid: 140, name: 'a' });
    const b = await t.op('POST', '/nodes/pve1/qemu/9000/clone', { newid: 141, name: 'b' });
    await t.clock.advanceAsync(t.sim.taskDuration('qmclone'));
    expect((await t.taskStatus(a)).exitstatus).toBe('OK');
    expect((await t.taskStatus(b)).exitstatus).toBe('OK');
  });

  it('clone - a linked clone of a non-template is refused', async () => {
    const r = await t.api('POST', '/nodes/pve1/qemu/100/clone', { form: { newid: 150, full: 0 } });
    expect(r.status).toBe(500);
    expect(r.statusText).toBe("Linked clone feature is not supported for 'local-zfs:vm-100-disk-0' (scsi0)");
  });

  it('destroy - of a running VM answers 500 "VM 100 is running - destroy failed"', async () => {
    const r = await t.api('DELETE', '/nodes/pve1/qemu/100?purge=1');
    expect(r.status).toBe(500);
    expect(r.statusText).toBe('VM 100 is running - destroy failed');
    expect(r.body).toEqual({ data: null, message: 'VM 100 is running - destroy failed\n' });
  });

  it('destroy - of a stopped VM holds lock destroy, then the VM disappears', async () => {
    const upid = await t.op('DELETE', '/nodes/pve3/qemu/113?purge=1&destroy-unreferenced-disks=1');
    expect(upid).toContain(':qmdestroy:113:');
    await t.clock.advanceAsync(1);
    expect(await vmEntry(113)).toMatchObject({ lock: 'destroy' });
    await t.clock.advanceAsync(t.sim.taskDuration('qmdestroy'));
    expect((await t.taskStatus(upid)).exitstatus).toBe('OK');
    expect(await vmEntry(113)).toBeUndefined();
    const gone = await t.api('GET', '/nodes/pve3/qemu/113/status/current');
    expect(gone.status).toBe(500);
  });

  it('destroy - an HA-managed VM needs purge', async () => {
    await t.op('POST', '/nodes/pve2/qemu/105/status/stop');
    await t.clock.advanceAsync(t.sim.taskDuration('hastop'));
    const r = await t.api('DELETE', '/nodes/pve2/qemu/105');
    expect(r.statusText).toBe('unable to remove VM 105 - used in HA resources and purge parameter not set.');
  });

  it('start - of a running VM fails the task with "VM 100 already running"', async () => {
    const upid = await t.op('POST', '/nodes/pve1/qemu/100/status/start');
    await t.clock.advanceAsync(0);
    expect(await t.taskStatus(upid)).toMatchObject({ status: 'stopped', exitstatus: 'VM 100 already running' });
    const log = await t.get<Array<{ t: string }>>(`/nodes/pve1/tasks/${upid}/log`);
    expect(log.at(-1)?.t).toBe('TASK ERROR: VM 100 already running');
  });

  it('start/stop - status changes only when the task ends', async () => {
    const upid = await t.op('POST', '/nodes/pve1/qemu/108/status/start');
    await t.clock.advanceAsync(t.sim.taskDuration('qmstart') - 1);
    expect((await vmEntry(108))?.status).toBe('stopped');
    expect((await t.taskStatus(upid)).status).toBe('running');
    await t.clock.advanceAsync(1);
    expect((await vmEntry(108))?.status).toBe('running');
    const stop = await t.op('POST', '/nodes/pve1/qemu/108/status/stop');
    await t.clock.advanceAsync(t.sim.taskDuration('qmstop'));
    expect((await t.taskStatus(stop)).exitstatus).toBe('OK');
    expect((await vmEntry(108))?.status).toBe('stopped');
  });

  it('power - shutdown, reboot, suspend and resume follow PVE rules', async () => {
    expect((await t.api('POST', '/nodes/pve3/qemu/102/status/reboot')).statusText).toBe('VM 102 not running');
    expect((await t.api('POST', '/nodes/pve3/qemu/110/status/shutdown')).statusText).toBe(
      'VM is paused - cannot shutdown',
    );
    const resume = await t.op('POST', '/nodes/pve3/qemu/110/status/resume');
    await t.clock.advanceAsync(t.sim.taskDuration('qmresume'));
    expect((await t.taskStatus(resume)).exitstatus).toBe('OK');
    expect((await vmEntry(110))?.status).toBe('running');
    const suspend = await t.op('POST', '/nodes/pve3/qemu/110/status/suspend');
    await t.clock.advanceAsync(t.sim.taskDuration('qmsuspend'));
    expect((await t.taskStatus(suspend)).exitstatus).toBe('OK');
    expect((await vmEntry(110))?.status).toBe('paused');
    const before = (await vmEntry(114))?.uptime ?? 0;
    expect(before).toBeGreaterThan(60);
    const reboot = await t.op('POST', '/nodes/pve1/qemu/114/status/reboot');
    await t.clock.advanceAsync(t.sim.taskDuration('qmreboot'));
    expect((await t.taskStatus(reboot)).exitstatus).toBe('OK');
    expect((await vmEntry(114))?.uptime).toBe(0);
  });

  it('power - an HA-managed VM starts and stops through hastart/hastop tasks', async () => {
    const stop = await t.op('POST', '/nodes/pve2/qemu/105/status/shutdown');
    expect(stop).toContain(':hastop:105:');
    await t.clock.advanceAsync(t.sim.taskDuration('hastop'));
    expect(await vmEntry(105)).toMatchObject({ status: 'stopped', hastate: 'stopped' });
    const start = await t.op('POST', '/nodes/pve2/qemu/105/status/start');
    expect(start).toContain(':hastart:105:');
    await t.clock.advanceAsync(t.sim.taskDuration('hastart'));
    expect(await vmEntry(105)).toMatchObject({ status: 'running', hastate: 'started' });
  });

  it('snapshot - holds lock snapshot while it runs, then lists the snapshot; a duplicate name fails the task', async () => {
    const upid = await t.op('POST', '/nodes/pve1/qemu/114/snapshot', { snapname: 'pre_update', description: 'x' });
    expect(upid).toContain(':qmsnapshot:114:');
    await t.clock.advanceAsync(1);
    expect((await vmEntry(114))?.lock).toBe('snapshot');
    await t.clock.advanceAsync(t.sim.taskDuration('qmsnapshot'));
    expect((await t.taskStatus(upid)).exitstatus).toBe('OK');
    expect((await vmEntry(114))?.lock).toBeUndefined();
    const list = await t.get<Array<{ name: string; parent?: string; description: string }>>(
      '/nodes/pve1/qemu/114/snapshot',
    );
    expect(list.map((s) => s.name)).toEqual(['pre_update', 'current']);
    expect(list[1]).toMatchObject({ name: 'current', parent: 'pre_update', description: 'You are here!' });

    const again = await t.op('POST', '/nodes/pve1/qemu/114/snapshot', { snapname: 'pre_update' });
    await t.clock.advanceAsync(0);
    expect((await t.taskStatus(again)).exitstatus).toBe("snapshot name 'pre_update' already used");
    const bad = await t.api('POST', '/nodes/pve1/qemu/114/snapshot', { form: { snapname: '1bad' } });
    expect(bad.status).toBe(400);
    expect(bad.body?.errors).toEqual({ snapname: "invalid format - invalid configuration ID '1bad'\n" });
  });
});

describe('pve-sim locks', () => {
  let t: TestSim;
  beforeEach(async () => {
    t = await startTestSim();
  });
  afterEach(() => t.close());

  it('locks - a VM locked by a backup fails start with "VM is locked (backup)" and refuses clone with 500', async () => {
    t.sim.faults.lockVm(102, 'backup');
    const r = await t.get<Resource[]>('/cluster/resources?type=vm');
    expect(r.find((v) => v.vmid === 102)?.lock).toBe('backup');
    const upid = await t.op('POST', '/nodes/pve3/qemu/102/status/start');
    await t.clock.advanceAsync(0);
    expect((await t.taskStatus(upid)).exitstatus).toBe('VM is locked (backup)');
    const c = await t.api('POST', '/nodes/pve3/qemu/102/clone', { form: { newid: 160 } });
    expect(c.status).toBe(500);
    expect(c.statusText).toBe('VM is locked (backup)');
  });

  it('locks - the VM being cloned into shows lock clone, and starting it times out on its config file lock', async () => {
    t.sim.faults.slowTasks(3, 'clone');
    await t.op('POST', '/nodes/pve1/qemu/9000/clone', { newid: 120, name: 'x' });
    expect(t.sim.state.vms.get(120)?.lock).toBe('clone');
    const start = await t.op('POST', '/nodes/pve1/qemu/120/status/start');
    await t.clock.advanceAsync(10_000);
    expect(await t.taskStatus(start)).toMatchObject({
      status: 'stopped',
      exitstatus: "can't lock file '/var/lock/qemu-server/lock-120.conf' - got timeout",
    });
  });

  it('locks - a second operation waits for the config file lock and runs after the first', async () => {
    const start = await t.op('POST', '/nodes/pve1/qemu/108/status/start');
    const stop = await t.op('POST', '/nodes/pve1/qemu/108/status/stop');
    await t.clock.advanceAsync(t.sim.taskDuration('qmstart'));
    expect((await t.taskStatus(start)).exitstatus).toBe('OK');
    expect((await t.taskStatus(stop)).status).toBe('running');
    await t.clock.advanceAsync(t.sim.taskDuration('qmstop'));
    expect((await t.taskStatus(stop)).exitstatus).toBe('OK');
  });

  it('locks - waiting longer than 10 s fails with "can\'t lock file ... got timeout"', async () => {
    t.sim.faults.slowTasks(10, 'qmstart');
    const start = await t.op('POST', '/nodes/pve1/qemu/108/status/start');
    const destroy = await t.op('DELETE', '/nodes/pve1/qemu/108');
    await t.clock.advanceAsync(10_000);
    expect(await t.taskStatus(destroy)).toMatchObject({
      status: 'stopped',
      exitstatus: "can't lock file '/var/lock/qemu-server/lock-108.conf' - got timeout",
    });
    expect((await t.taskStatus(start)).status).toBe('running');
  });

  it('locks - destroying a template while it is being cloned times out on its lock', async () => {
    t.sim.faults.slowTasks(3, 'qmclone');
    await t.op('POST', '/nodes/pve1/qemu/9000/clone', { newid: 120, name: 'x' });
    const destroy = await t.op('DELETE', '/nodes/pve1/qemu/9000');
    await t.clock.advanceAsync(10_000);
    expect((await t.taskStatus(destroy)).exitstatus).toBe(
      "can't lock file '/var/lock/qemu-server/lock-9000.conf' - got timeout",
    );
  });
});
