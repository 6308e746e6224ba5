// Storages, backup archives, backup jobs and vzdump on the simulator over HTTPS through the real proxmox-api client:
// pve-storage's listings (vzdump archives on `local`, snapshots on a Proxmox Backup Server storage), pve-manager's
// /cluster/backup and /nodes/{node}/vzdump, the 'backup' lock while a guest is backed up, and the control API that
// runs a job now. The demo cluster plus a PBS storage, archives and three jobs.
import { type ProxmoxEngineOptions, proxmoxApi } from 'proxmox-api';
import { fetch } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../adapters/clock';
import { demoSeed, restoreState, SimConfigError, type SimSeed, saveState } from '../../adapters/pve-sim';
import { createState } from '../../adapters/pve-sim/state';
import { START, startTestSim, type TestSim, TOKEN } from './helpers';

type ClientFetch = NonNullable<ProxmoxEngineOptions['fetch']>;
type Item = Record<string, unknown> & { volid: string; vmid?: number };

const HOUR = 3600;
const NOW = START / 1000;

function seed(): SimSeed {
  const s = demoSeed();
  s.storages = [{ storage: 'pbs', type: 'pbs', server: '10.0.0.50', datastore: 'lab' }];
  s.backupJobs = [
    { id: 'backup-daily', schedule: '21:00', storage: 'pbs', all: true, exclude: [113] },
    { id: 'backup-ci', schedule: 'sat 02:00', storage: 'local', vmids: [106, 107], enabled: false },
    { id: 'backup-lab1', schedule: 'mon..fri 01:30', storage: 'pbs', pool: 'lab1' },
  ];
  // This test's own archives only (the demo seed ships some of its own).
  for (const vm of s.vms) {
    vm.backups = undefined;
    if (vm.vmid === 100) vm.backups = [{ ageHours: 26 }, { storage: 'pbs', ageHours: 2, notes: 'web-01\nnightly' }];
    if (vm.vmid === 300) vm.backups = [{ storage: 'pbs', ageHours: 5 }];
  }
  return s;
}

describe('pve-sim backups', () => {
  let t: TestSim;
  beforeEach(async () => {
    t = await startTestSim({ seed: seed() });
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
  const content = async (node: string, storage: string, vmid?: number) =>
    (await px()
      .nodes.$(node)
      .storage.$(storage)
      .content.$get(vmid === undefined ? { content: 'backup' } : { content: 'backup', vmid })) as unknown as Item[];
  const resource = async (vmid: number) =>
    (await px().cluster.resources.$get({ type: 'vm' })).find((r) => r.vmid === vmid);
  const action = (name: string, json: Record<string, unknown>) =>
    t.api<never>('POST', `/_sim/actions/${name}`, { json });

  it('backups - GET /storage lists local, local-zfs and the backup server with their content types', async () => {
    const list = await px().storage.$get();
    expect(list.map((s) => [s.storage, s.type, s.content])).toEqual([
      ['local', 'dir', 'backup,iso,vztmpl'],
      ['local-zfs', 'zfspool', 'images,rootdir'],
      ['pbs', 'pbs', 'backup'],
    ]);
    expect(list[2]).toMatchObject({ server: '10.0.0.50', datastore: 'lab' });
    expect(await px().storage.$get({ type: 'pbs' })).toHaveLength(1);
  });

  it('backups - GET /nodes/{node}/storage?content=backup names the backup storages and their use', async () => {
    const list = await px().nodes.$('pve1').storage.$get({ content: 'backup' });
    expect(list.map((s) => [s.storage, s.shared, s.active])).toEqual([
      ['local', 0, 1],
      ['pbs', 1, 1],
    ]);
    expect(list[1]?.total).toBe(4 * 1024 ** 4);
    expect(list[1]?.used).toBeGreaterThan(0);
    expect((await px().nodes.$('pve1').storage.$get({ content: 'images' })).map((s) => s.storage)).toEqual([
      'local-zfs',
    ]);
  });

  it("backups - `local` lists the node's own vzdump archives with volid, vmid, ctime, format and size", async () => {
    const items = await content('pve1', 'local');
    expect(items).toEqual([
      {
        volid: 'local:backup/vzdump-qemu-100-2025_01_05-07_00_00.vma.zst',
        content: 'backup',
        format: 'vma.zst',
        size: Math.round((32 * 1024 ** 3) / 5),
        ctime: NOW - 26 * HOUR,
        subtype: 'qemu',
        vmid: 100,
      },
    ]);
    expect(await content('pve2', 'local')).toEqual([]);
  });

  it('backups - a Proxmox Backup Server storage lists pbs-vm and pbs-ct snapshots from any node', async () => {
    const items = await content('pve3', 'pbs');
    expect(items.map((i) => [i.volid, i.format, i.subtype, i.vmid, i.ctime])).toEqual([
      ['pbs:backup/ct/300/2025-01-06T04:00:00Z', 'pbs-ct', 'lxc', 300, NOW - 5 * HOUR],
      ['pbs:backup/vm/100/2025-01-06T07:00:00Z', 'pbs-vm', 'qemu', 100, NOW - 2 * HOUR],
    ]);
    expect(items[1]?.notes).toBe('web-01');
    expect((await content('pve3', 'pbs', 300)).map((i) => i.vmid)).toEqual([300]);
    const missing = await t.api('GET', '/nodes/pve1/storage/nfs1/content');
    expect(missing.status).toBe(500);
    expect(missing.statusText).toBe("storage 'nfs1' does not exist");
  });

  it('backups - GET /cluster/backup lists the jobs: schedule, storage, enabled, all / vmid / pool, next run', async () => {
    const jobs = await px().cluster.backup.$get();
    expect(jobs).toEqual([
      expect.objectContaining({
        id: 'backup-daily',
        type: 'vzdump',
        schedule: '21:00',
        storage: 'pbs',
        enabled: 1,
        all: 1,
        exclude: '113',
        'next-run': NOW + 12 * HOUR,
      }),
      expect.objectContaining({ id: 'backup-ci', enabled: 0, vmid: '106,107', storage: 'local' }),
      // 2025-01-06 is a Monday: the next weekday 01:30 is Tuesday's.
      expect.objectContaining({ id: 'backup-lab1', pool: 'lab1', 'next-run': NOW + 16 * HOUR + 30 * 60 }),
    ]);
    expect(await px().cluster.backup.$('backup-ci').$get()).toMatchObject({ id: 'backup-ci', vmid: '106,107' });
    const none = await t.api('GET', '/cluster/backup/nope');
    expect(none.status).toBe(400);
    expect(none.body?.errors).toEqual({ id: "No such job 'nope'" });
  });

  it('backups - vzdump holds lock backup on the guest while it runs; operations meanwhile are refused', async () => {
    const upid = await px().nodes.$('pve3').vzdump.$post({ vmid: '102', storage: 'local', compress: 'zstd' });
    expect(upid).toMatch(/:vzdump:102:root@pam!overseer:$/);
    await t.clock.advanceAsync(1);
    expect((await resource(102))?.lock).toBe('backup');
    const start = await t.op('POST', '/nodes/pve3/qemu/102/status/start');
    await t.clock.advanceAsync(1);
    expect((await t.taskStatus(start)).exitstatus).toBe('VM is locked (backup)');
    const move = await t.api('POST', '/nodes/pve3/qemu/102/migrate', { form: { target: 'pve1' } });
    expect(move.statusText).toBe('VM is locked (backup)');
    await t.clock.advanceAsync(t.sim.taskDuration('vzdump'));
    expect(await t.taskStatus(upid)).toMatchObject({ status: 'stopped', exitstatus: 'OK' });
    expect((await resource(102))?.lock).toBeUndefined();
    expect((await content('pve3', 'local', 102)).map((i) => [i.volid, i.ctime])).toEqual([
      ['local:backup/vzdump-qemu-102-2025_01_06-09_00_00.vma.zst', NOW],
    ]);
    const log = (await px().nodes.$('pve3').tasks.$(upid).log.$get()).map((l) => l.t);
    expect(log).toContain('INFO: Starting Backup of VM 102 (qemu)');
    expect(log).toContain(
      "INFO: creating vzdump archive '/var/lib/vz/dump/vzdump-qemu-102-2025_01_06-09_00_00.vma.zst'",
    );
    expect(log.at(-2)).toBe('INFO: Backup job finished successfully');
  });

  it('backups - running a job now starts one vzdump per node as root@pam and adds the archives', async () => {
    const r = await action('backup-job', { job: 'backup-lab1' });
    expect(r.status).toBe(200);
    const upids = (r.body as unknown as { upids: string[] }).upids;
    expect(upids.map((u) => u.split(':').slice(1, 2).concat(u.split(':').slice(5, 8)))).toEqual([
      ['pve1', 'vzdump', '108', 'root@pam'],
      ['pve2', 'vzdump', '109', 'root@pam'],
      ['pve3', 'vzdump', '', 'root@pam'],
    ]);
    await t.clock.advanceAsync(3 * t.sim.taskDuration('vzdump'));
    for (const u of upids) expect((await t.taskStatus(u)).exitstatus).toBe('OK');
    // sorted by volid: pbs:backup/ct/... before pbs:backup/vm/...
    expect((await content('pve1', 'pbs')).map((i) => i.vmid)).toEqual([300, 301, 100, 106, 107, 108, 109]);
  });

  it('backups - a guest that cannot be locked fails its backup: the task ends "job errors"', async () => {
    t.sim.faults.lockVm(102, 'migrate');
    const upid = await t.op('POST', '/nodes/pve3/vzdump', { vmid: '102,113', storage: 'local' });
    expect(upid).toContain(':vzdump::');
    await t.clock.advanceAsync(2 * t.sim.taskDuration('vzdump'));
    expect((await t.taskStatus(upid)).exitstatus).toBe('job errors');
    const log = (await t.get<Array<{ t: string }>>(`/nodes/pve3/tasks/${upid}/log?limit=100`)).map((l) => l.t);
    expect(log).toContain('ERROR: Backup of VM 102 failed - VM is locked (migrate)');
    expect(log).toContain('INFO: Backup job finished with errors');
    expect((await content('pve3', 'local')).map((i) => i.vmid)).toEqual([113]);
  });

  it('backups - an unreachable backup server: its listing fails, its status is inactive, vzdump to it fails', async () => {
    expect((await action('storage-offline', { storage: 'pbs' })).status).toBe(200);
    const r = await t.api('GET', '/nodes/pve1/storage/pbs/content?content=backup');
    expect(r.status).toBe(500);
    expect(r.statusText).toBe(
      "pbs: error fetching datastores - 500 Can't connect to 10.0.0.50:8007 (Connection refused)",
    );
    const st = await px().nodes.$('pve1').storage.$get({ storage: 'pbs' });
    expect(st[0]).toMatchObject({ storage: 'pbs', active: 0 });
    const upid = await t.op('POST', '/nodes/pve1/vzdump', { vmid: '100', storage: 'pbs' });
    expect((await t.taskStatus(upid)).exitstatus).toBe(
      "could not activate storage 'pbs': pbs: error fetching datastores - 500 Can't connect to 10.0.0.50:8007 (Connection refused)",
    );
    await action('storage-offline', { storage: 'pbs', offline: false });
    expect(await content('pve1', 'pbs')).toHaveLength(2);
  });

  it('backups - vzdump parameters as PVE checks them; guests on other nodes answer OK without a task', async () => {
    const both = await t.api('POST', '/nodes/pve1/vzdump', { form: { vmid: '100', all: 1 } });
    expect(both.status).toBe(400);
    expect(both.body?.errors).toEqual({ all: "option conflicts with option 'vmid'" });
    const none = await t.api('POST', '/nodes/pve1/vzdump', { form: { storage: 'local' } });
    expect(none.body?.errors).toEqual({ vmid: 'property is missing' });
    expect(await t.op('POST', '/nodes/pve1/vzdump', { vmid: '101' })).toBe('OK');
    const wrong = await t.op('POST', '/nodes/pve1/vzdump', { vmid: '100', storage: 'local-zfs' });
    expect((await t.taskStatus(wrong)).exitstatus).toBe(
      "could not get storage information for 'local-zfs': can't use storage 'local-zfs' for backups - wrong content type",
    );
  });

  it('backups - destroy with purge takes the guest out of the backup jobs', async () => {
    const upid = await t.op('DELETE', '/nodes/pve3/qemu/107?purge=1');
    await t.clock.advanceAsync(t.sim.taskDuration('qmdestroy'));
    expect((await t.taskStatus(upid)).exitstatus).toBe('OK');
    expect(await px().cluster.backup.$('backup-ci').$get()).toMatchObject({ vmid: '106' });
  });

  it('backups - storages, archives and jobs survive saving and restoring the state', () => {
    const state = createState(seed(), new SimulatedClock(START));
    state.storages.find((x) => x.storage === 'pbs')!.online = false;
    const back = restoreState(JSON.parse(JSON.stringify(saveState(state, START))));
    expect(back.backups).toEqual(state.backups);
    expect(back.backupJobs).toEqual(state.backupJobs);
    // A restart brings a backup server that was made unreachable back, as it clears the other faults.
    expect(back.storages.map((x) => [x.storage, x.online])).toEqual([
      ['local', true],
      ['local-zfs', true],
      ['pbs', true],
    ]);
  });

  it('backups - a seed naming a storage that does not exist is refused', () => {
    const s = seed();
    s.vms[1]!.backups = [{ storage: 'nfs9' }];
    expect(() => createState(s, new SimulatedClock(START))).toThrow(SimConfigError);
    expect(() => createState(s, new SimulatedClock(START))).toThrow("backup of VM 100: no storage 'nfs9'");
  });
});
