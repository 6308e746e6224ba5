// Snapshot rollback and delete on the simulator over HTTPS through the real proxmox-api client: PVE forks at once
// (every refusal is the task's exitstatus), the locks 'rollback' and 'snapshot-delete' while the tasks run, ZFS's
// most-recent-snapshot rule, parent links, and the same for containers. Demo cluster: VM 111 (running, snapshot
// before_upgrade), VM 113 (stopped, pve3), CT 301 (stopped, pve3).
import { type ProxmoxEngineOptions, proxmoxApi } from 'proxmox-api';
import { fetch } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestSim, type TestSim, TOKEN } from './helpers';

type ClientFetch = NonNullable<ProxmoxEngineOptions['fetch']>;
type Snap = { name: string; parent?: string; vmstate?: number; running?: number };

describe('pve-sim snapshot rollback and delete', () => {
  let t: TestSim;
  beforeEach(async () => {
    t = await startTestSim();
  });
  afterEach(() => t.close());

  const px = () =>
    proxmoxApi({
      host: '127.0.0.1',
      port: t.sim.port,
      tokenID: TOKEN.tokenid,
      tokenSecret: TOKEN.secret,
      fetch: ((url: string | URL, init?: object) => fetch(url, { ...init, dispatcher: t.agent })) as ClientFetch,
    });
  const vm = (node: string, vmid: number) => px().nodes.$(node).qemu.$(vmid);
  const resource = async (vmid: number) =>
    (await px().cluster.resources.$get({ type: 'vm' })).find((r) => r.vmid === vmid);
  const finish = async (upid: string, type: string) => {
    await t.clock.advanceAsync(t.sim.taskDuration(type));
    return t.taskStatus(upid);
  };
  const snapshots = (path: string) => t.get<Snap[]>(`${path}/snapshot`);
  const take = async (path: string, snapname: string, type = 'qmsnapshot', extra: Record<string, number> = {}) => {
    const upid = await t.op('POST', `${path}/snapshot`, { snapname, ...extra });
    expect((await finish(upid, type)).exitstatus).toBe('OK');
  };

  it('rollback - qmrollback holds lock rollback, stops the running VM, then current descends from the snapshot', async () => {
    await take('/nodes/pve1/qemu/111', 'after_upgrade');
    const del = await vm('pve1', 111).snapshot.$('after_upgrade').$delete();
    expect((await finish(del, 'qmdelsnapshot')).exitstatus).toBe('OK');
    const upid = await vm('pve1', 111).snapshot.$('before_upgrade').rollback.$post();
    expect(upid).toMatch(/:qmrollback:111:root@pam!overseer:$/);
    await t.clock.advanceAsync(1);
    expect(await resource(111)).toMatchObject({ lock: 'rollback', status: 'stopped' });
    expect(await finish(upid, 'qmrollback')).toMatchObject({ status: 'stopped', exitstatus: 'OK' });
    const after = await resource(111);
    expect(after?.lock).toBeUndefined();
    expect(after?.status).toBe('stopped');
    expect((await snapshots('/nodes/pve1/qemu/111')).at(-1)).toMatchObject({
      name: 'current',
      parent: 'before_upgrade',
    });
  });

  it('rollback - start=1 starts the VM afterwards with its own qmstart task', async () => {
    const upid = await vm('pve1', 111).snapshot.$('before_upgrade').rollback.$post({ start: true });
    expect((await finish(upid, 'qmrollback')).exitstatus).toBe('OK');
    const [start] = await px().nodes.$('pve1').tasks.$get({ typefilter: 'qmstart', source: 'all' });
    expect(start?.upid).toMatch(/:qmstart:111:root@pam!overseer:$/);
    expect((await finish(start!.upid, 'qmstart')).exitstatus).toBe('OK');
    expect((await resource(111))?.status).toBe('running');
  });

  it('rollback - a snapshot with RAM brings the VM back running', async () => {
    await take('/nodes/pve1/qemu/100', 'live', 'qmsnapshot', { vmstate: 1 });
    await t.op('POST', '/nodes/pve1/qemu/100/status/stop');
    await t.clock.advanceAsync(t.sim.taskDuration('qmstop'));
    expect((await resource(100))?.status).toBe('stopped');
    const upid = await vm('pve1', 100).snapshot.$('live').rollback.$post();
    expect((await finish(upid, 'qmrollback')).exitstatus).toBe('OK');
    expect((await resource(100))?.status).toBe('running');
  });

  it('rollback - PVE forks first: an unknown snapshot, an older snapshot on ZFS and a template fail the task', async () => {
    const unknown = await vm('pve1', 111).snapshot.$('nope').rollback.$post();
    expect(await t.taskStatus(unknown)).toMatchObject({
      status: 'stopped',
      exitstatus: "snapshot 'nope' does not exist",
    });
    await take('/nodes/pve1/qemu/111', 'second');
    const older = await vm('pve1', 111).snapshot.$('before_upgrade').rollback.$post();
    expect((await t.taskStatus(older)).exitstatus).toBe(
      "can't rollback, 'before_upgrade' is not most recent snapshot on 'local-zfs:vm-111-disk-0'",
    );
    const template = await vm('pve1', 9000).snapshot.$('xx').rollback.$post();
    expect((await t.taskStatus(template)).exitstatus).toBe("you can't rollback if vm is a template");
    const missing = await vm('pve1', 102).snapshot.$('xx').rollback.$post();
    expect((await t.taskStatus(missing)).exitstatus).toBe(
      "Configuration file 'nodes/pve1/qemu-server/102.conf' does not exist",
    );
  });

  it('delsnapshot - holds lock snapshot-delete, then the snapshot is gone and its children hang on its parent', async () => {
    for (const name of ['s1', 's2', 's3']) await take('/nodes/pve3/qemu/113', name);
    expect((await snapshots('/nodes/pve3/qemu/113')).map((s) => [s.name, s.parent])).toEqual([
      ['s1', undefined],
      ['s2', 's1'],
      ['s3', 's2'],
      ['current', 's3'],
    ]);
    const upid = await vm('pve3', 113).snapshot.$('s2').$delete();
    expect(upid).toMatch(/:qmdelsnapshot:113:root@pam!overseer:$/);
    await t.clock.advanceAsync(1);
    expect((await resource(113))?.lock).toBe('snapshot-delete');
    expect((await finish(upid, 'qmdelsnapshot')).exitstatus).toBe('OK');
    expect((await resource(113))?.lock).toBeUndefined();
    const del = await vm('pve3', 113).snapshot.$('s3').$delete();
    expect((await finish(del, 'qmdelsnapshot')).exitstatus).toBe('OK');
    expect((await snapshots('/nodes/pve3/qemu/113')).map((s) => [s.name, s.parent])).toEqual([
      ['s1', undefined],
      ['current', 's1'],
    ]);
  });

  it('delsnapshot - an unknown snapshot fails the task "snapshot \'nope\' does not exist" and leaves no lock', async () => {
    const upid = await vm('pve3', 113).snapshot.$('nope').$delete();
    expect((await t.taskStatus(upid)).exitstatus).toBe("snapshot 'nope' does not exist");
    expect((await resource(113))?.lock).toBeUndefined();
  });

  it('delsnapshot - a failure while removing the disk snapshot leaves lock snapshot-delete; force goes on', async () => {
    await take('/nodes/pve3/qemu/113', 's1');
    t.sim.faults.failTasks('qmdelsnapshot', 1, 'zfs error: could not find any snapshots to destroy');
    const failed = await vm('pve3', 113).snapshot.$('s1').$delete();
    expect((await finish(failed, 'qmdelsnapshot')).exitstatus).toBe(
      'zfs error: could not find any snapshots to destroy',
    );
    expect((await resource(113))?.lock).toBe('snapshot-delete');
    const again = await vm('pve3', 113).snapshot.$('s1').$delete();
    expect((await t.taskStatus(again)).exitstatus).toBe('VM is locked (snapshot-delete)');
    t.sim.faults.lockVm(113, null);
    t.sim.faults.failTasks('qmdelsnapshot', 1, 'zfs error: could not find any snapshots to destroy');
    const forced = await vm('pve3', 113).snapshot.$('s1').$delete({ force: true });
    expect((await finish(forced, 'qmdelsnapshot')).exitstatus).toBe('OK');
    expect((await snapshots('/nodes/pve3/qemu/113')).map((s) => s.name)).toEqual(['current']);
  });

  it('snapshots - containers: vzrollback and vzdelsnapshot; a VMID of the other type does not exist there', async () => {
    await take('/nodes/pve3/lxc/301', 'base', 'vzsnapshot');
    const rb = await px().nodes.$('pve3').lxc.$(301).snapshot.$('base').rollback.$post();
    expect(rb).toMatch(/:vzrollback:301:/);
    await t.clock.advanceAsync(1);
    expect((await resource(301))?.lock).toBe('rollback');
    expect((await finish(rb, 'vzrollback')).exitstatus).toBe('OK');
    const wrong = await vm('pve3', 301).snapshot.$('base').$delete();
    expect((await t.taskStatus(wrong)).exitstatus).toBe(
      "Configuration file 'nodes/pve3/qemu-server/301.conf' does not exist",
    );
    const del = await px().nodes.$('pve3').lxc.$(301).snapshot.$('base').$delete();
    expect(del).toMatch(/:vzdelsnapshot:301:/);
    expect((await finish(del, 'vzdelsnapshot')).exitstatus).toBe('OK');
    expect((await snapshots('/nodes/pve3/lxc/301')).map((s) => s.name)).toEqual(['current']);
    t.sim.faults.lockVm(301, 'backup');
    const locked = await px().nodes.$('pve3').lxc.$(301).snapshot.$('nope').rollback.$post();
    expect((await t.taskStatus(locked)).exitstatus).toBe("snapshot 'nope' does not exist");
    await take('/nodes/pve3/qemu/113', 's1');
    t.sim.faults.lockVm(113, 'backup');
    const vmLocked = await vm('pve3', 113).snapshot.$('s1').rollback.$post();
    expect((await t.taskStatus(vmLocked)).exitstatus).toBe('VM is locked (backup)');
  });

  it('snapshots - a snapshot name with a dash is a valid pve-configid; GET .../snapshot/{snapname} lists its commands', async () => {
    await take('/nodes/pve3/qemu/113', 'pre-upgrade');
    expect(await t.get('/nodes/pve3/qemu/113/snapshot/pre-upgrade')).toEqual([{ cmd: 'rollback' }, { cmd: 'config' }]);
    const bad = await t.api('POST', '/nodes/pve3/qemu/113/snapshot/1bad/rollback');
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body?.errors ?? {})).toEqual(['snapname']);
  });
});
