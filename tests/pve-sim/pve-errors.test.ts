// PVE's exact failures on the simulator, over HTTPS through the real proxmox-api client (raw requests where the
// status line matters): /cluster/nextid reserves nothing and racing clones, protection, HA purge, the config lock
// text for every lock kind, lock timeouts as HTTP 200 with a failed task, and quorum loss.
import { type ProxmoxEngineOptions, proxmoxApi } from 'proxmox-api';
import { fetch } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { demoSeed } from '../../adapters/pve-sim';
import { startTestSim, type TestSim, TOKEN } from './helpers';

type ClientFetch = NonNullable<ProxmoxEngineOptions['fetch']>;

/** qemu-server's config lock kinds. */
const LOCKS = [
  'backup',
  'clone',
  'create',
  'migrate',
  'rollback',
  'snapshot',
  'snapshot-delete',
  'suspending',
  'suspended',
];

describe('pve-sim PVE failures', () => {
  let t: TestSim;
  beforeEach(async () => {
    const seed = demoSeed();
    for (const vm of seed.vms) if (vm.vmid === 112) vm.protection = true;
    t = await startTestSim({ seed });
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
  const exitOf = async (upid: string, ms = 0) => {
    await t.clock.advanceAsync(ms);
    return (await t.taskStatus(upid)).exitstatus;
  };
  const logOf = async (upid: string) =>
    (await t.get<Array<{ t: string }>>(`/nodes/${upid.split(':')[1]}/tasks/${upid}/log?limit=500`)).map((l) => l.t);

  it('nextid - reserves nothing: two callers get the same id, and their clones race for it', async () => {
    const [a, b] = await Promise.all([px().cluster.nextid.$get(), px().cluster.nextid.$get()]);
    expect(a).toBe(b);
    const newid = Number(a);
    const clone = () => px().nodes.$('pve1').qemu.$(9000).clone.$post({ newid, name: 'deploy' });
    const results = await Promise.allSettled([clone(), clone()]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(String(refused[0]!.reason)).toMatch(`500 unable to create VM ${newid}: config file already exists`);
    await t.clock.advanceAsync(t.sim.taskDuration('qmclone'));
    expect(await t.taskStatus((ok[0] as PromiseFulfilledResult<string>).value)).toMatchObject({ exitstatus: 'OK' });
    expect(Number(await px().cluster.nextid.$get())).toBe(newid + 1);
  });

  it('clone - a VMID taken on another node passes the early check; the task fails as pmxcfs refuses the config', async () => {
    const first = await t.op('POST', '/nodes/pve1/qemu/9000/clone', { newid: 150 });
    expect(await exitOf(first, t.sim.taskDuration('qmclone'))).toBe('OK');
    const second = await t.op('POST', '/nodes/pve2/qemu/104/clone', { newid: 150 });
    expect(await exitOf(second)).toBe(
      "close (rename) atomic file '/etc/pve/nodes/pve2/qemu-server/150.conf' failed: File exists",
    );
    expect(t.sim.state.vms.get(150)?.node).toBe('pve1');
  });

  it('clone - a source flock not had in 1 s is HTTP 200 and a failed task', async () => {
    // A start holds VM 108's config flock while it runs; the clone's worker waits 1 s for it.
    t.sim.faults.slowTasks(5, 'qmstart');
    const start = await t.op('POST', '/nodes/pve1/qemu/108/status/start');
    const clone = await px().nodes.$('pve1').qemu.$(108).clone.$post({ newid: 151 });
    expect(await exitOf(clone, 1_000)).toBe("can't lock file '/var/lock/qemu-server/lock-108.conf' - got timeout");
    expect(t.sim.state.vms.has(151)).toBe(false);
    expect(await exitOf(start, 5 * t.sim.taskDuration('qmstart'))).toBe('OK');
  });

  it('destroy - protection: 1 refuses with "can\'t remove VM 112 - protection mode enabled"', async () => {
    const r = await t.api('DELETE', '/nodes/pve2/qemu/112?purge=1');
    expect(r.status).toBe(500);
    expect(r.statusText).toBe("can't remove VM 112 - protection mode enabled");
    expect(t.sim.state.vms.has(112)).toBe(true);
  });

  it('destroy - an HA guest needs purge; with it the guest leaves the HA resources', async () => {
    const stop = await t.op('POST', '/nodes/pve2/qemu/105/status/stop');
    expect(await exitOf(stop, t.sim.taskDuration('hastop'))).toBe('OK');
    const r = await t.api('DELETE', '/nodes/pve2/qemu/105');
    expect(r.statusText).toBe('unable to remove VM 105 - used in HA resources and purge parameter not set.');
    const upid = await px().nodes.$('pve2').qemu.$(105).$delete({ purge: true });
    expect(await exitOf(upid, t.sim.taskDuration('qmdestroy'))).toBe('OK');
    expect(await logOf(upid)).toContain('NOTE: removed VM 105 from HA resource configuration.');
    const ha = await t.get<Array<{ sid: string }>>('/cluster/ha/resources');
    expect(ha.map((x) => x.sid)).toEqual(['ct:302']);
  });

  it.each(LOCKS)('locks - "VM is locked (%s)" from every operation that checks the config lock', async (lock) => {
    t.sim.faults.lockVm(102, lock);
    t.sim.faults.lockVm(111, lock);
    const text = `VM is locked (${lock})`;
    // refused before forking (HTTP 500)
    for (const [path, form] of [
      ['/nodes/pve3/qemu/102/migrate', { target: 'pve1' }],
      ['/nodes/pve3/qemu/102/clone', { newid: 160 }],
    ] as const) {
      const r = await t.api('POST', path, { form });
      expect([r.status, r.statusText]).toEqual([500, text]);
    }
    // refused by the worker (HTTP 200, the task's exitstatus)
    const tasks = [
      await t.op('POST', '/nodes/pve3/qemu/102/snapshot', { snapname: 'snap1' }),
      await t.op('POST', '/nodes/pve1/qemu/111/snapshot/before_upgrade/rollback'),
      await t.op('DELETE', '/nodes/pve1/qemu/111/snapshot/before_upgrade'),
      await t.op('DELETE', '/nodes/pve3/qemu/102'),
    ];
    if (lock !== 'suspended') tasks.push(await t.op('POST', '/nodes/pve3/qemu/102/status/start'));
    await t.clock.advanceAsync(1);
    for (const upid of tasks) expect((await t.taskStatus(upid)).exitstatus).toBe(text);
    const backup = await t.op('POST', '/nodes/pve3/vzdump', { vmid: '102' });
    expect(await exitOf(backup, 1)).toBe('job errors');
    expect(await logOf(backup)).toContain(`ERROR: Backup of VM 102 failed - ${text}`);
    // a container says CT
    t.sim.faults.lockVm(301, lock);
    const ct = await t.op('POST', '/nodes/pve3/lxc/301/migrate', { target: 'pve1' });
    expect(await exitOf(ct, 1)).toBe('migration aborted');
    expect(
      (await logOf(ct)).some((l) => l.endsWith(`ERROR: migration aborted (duration 00:00:00): CT is locked (${lock})`)),
    ).toBe(true);
  });

  it('locks - suspend to disk holds lock suspending while the state is saved, then suspended; start resumes', async () => {
    const upid = await t.op('POST', '/nodes/pve1/qemu/100/status/suspend', { todisk: 1 });
    await t.clock.advanceAsync(1);
    expect(t.sim.state.vms.get(100)?.lock).toBe('suspending');
    expect(await exitOf(upid, t.sim.taskDuration('qmsuspend'))).toBe('OK');
    expect(t.sim.state.vms.get(100)).toMatchObject({ lock: 'suspended', status: 'stopped' });
    const start = await t.op('POST', '/nodes/pve1/qemu/100/status/start');
    expect(await exitOf(start, t.sim.taskDuration('qmstart'))).toBe('OK');
    expect(t.sim.state.vms.get(100)).toMatchObject({ lock: undefined, status: 'running' });
  });

  it('lock timeouts - HTTP 200 and a task whose exitstatus is the timeout, for the config and the migration lock', async () => {
    t.sim.faults.lockTimeout(111, 1);
    const rb = await px().nodes.$('pve1').qemu.$(111).snapshot.$('before_upgrade').rollback.$post();
    expect(await exitOf(rb, 10_000)).toBe("can't lock file '/var/lock/qemu-server/lock-111.conf' - got timeout");
    t.sim.faults.lockTimeout(301, 1);
    const snap = await t.op('POST', '/nodes/pve3/lxc/301/snapshot', { snapname: 'snap1' });
    expect(await exitOf(snap, 10_000)).toBe("can't lock file '/run/lock/lxc/pve-config-301.lock' - got timeout");
    // A migration holds the guest migration lock: a rollback meanwhile gives up after 10 s, a snapshot delete
    // says why.
    t.sim.faults.slowTasks(3, 'qmigrate');
    const move = await t.op('POST', '/nodes/pve1/qemu/111/migrate', {
      target: 'pve2',
      online: 1,
      'with-local-disks': 1,
    });
    const during = await t.op('POST', '/nodes/pve1/qemu/111/snapshot/before_upgrade/rollback');
    const del = await t.op('DELETE', '/nodes/pve1/qemu/111/snapshot/before_upgrade');
    await t.clock.advanceAsync(10_000);
    expect((await t.taskStatus(during)).exitstatus).toBe(
      "can't lock file '/var/lock/pve-manager/pve-migrate-111' - got timeout",
    );
    expect((await t.taskStatus(del)).exitstatus).toBe('Failed to obtain guest migration lock - replication running?');
    expect(await exitOf(move, 3 * t.sim.taskDuration('qmigrate'))).toBe('OK');
  });

  it('quorum - without quorum mutating calls answer "cluster not ready - no quorum?" or fail writing the config', async () => {
    t.sim.faults.quorumLoss();
    for (const [path, form] of [
      ['/nodes/pve3/qemu/102/migrate', { target: 'pve1' }],
      ['/nodes/pve1/qemu/9000/clone', { newid: 170 }],
      ['/nodes/pve3/lxc/301/migrate', { target: 'pve1' }],
    ] as const) {
      const r = await t.api('POST', path, { form });
      expect([r.status, r.statusText]).toEqual([500, 'cluster not ready - no quorum?']);
    }
    // Rollback and snapshot delete fork at once; /etc/pve is read-only without quorum.
    const rb = await t.op('POST', '/nodes/pve1/qemu/111/snapshot/before_upgrade/rollback');
    expect(await exitOf(rb, 1)).toMatch(
      /^unable to open file '\/etc\/pve\/nodes\/pve1\/qemu-server\/111\.conf\.tmp\.\d+' - Permission denied$/,
    );
    const backup = await t.op('POST', '/nodes/pve3/vzdump', { vmid: '102' });
    expect(await exitOf(backup, 1)).toBe('job errors');
    expect(t.sim.state.vms.get(111)?.lock).toBeUndefined();
  });
});
