// Migration on the simulator over HTTPS through the real proxmox-api client (raw requests where the status line
// matters): qemu-server's and pve-container's checks, the qmigrate/vzmigrate tasks, and the HA hand-off (hamigrate,
// then the HA manager's own migration task on the source node as root@pam). Demo cluster: VMs 100 (running, pve1),
// 102 (stopped, pve3), 105 (running, HA, pve2), 108 (linked clone, pve1); CTs 300 (running, pve1), 301 (stopped,
// pve3), 302 (running, HA, pve2).
import { type ProxmoxEngineOptions, proxmoxApi } from 'proxmox-api';
import { fetch } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { demoSeed, HA_DISPATCH_MS } from '../../adapters/pve-sim';
import { startTestSim, type TestSim, TOKEN } from './helpers';

type ClientFetch = NonNullable<ProxmoxEngineOptions['fetch']>;

describe('pve-sim migration', () => {
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
  const resource = async (vmid: number) =>
    (await px().cluster.resources.$get({ type: 'vm' })).find((r) => r.vmid === vmid);
  const logOf = async (upid: string) =>
    (await px().nodes.$(upid.split(':')[1]!).tasks.$(upid).log.$get({ limit: 500 })).map((l) => l.t);
  const finish = async (upid: string, type: string) => {
    await t.clock.advanceAsync(t.sim.taskDuration(type));
    return t.taskStatus(upid);
  };

  it('migrate - a stopped VM moves offline: qmigrate holds lock migrate, then the VM is on the target', async () => {
    const upid = await px().nodes.$('pve3').qemu.$(102).migrate.$post({ target: 'pve1' });
    expect(upid).toMatch(/^UPID:pve3:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:qmigrate:102:root@pam!overseer:$/);
    await t.clock.advanceAsync(1);
    expect(await resource(102)).toMatchObject({ node: 'pve3', lock: 'migrate' });
    expect(await finish(upid, 'qmigrate')).toMatchObject({ status: 'stopped', exitstatus: 'OK' });
    const vm = await resource(102);
    expect(vm).toMatchObject({ node: 'pve1', status: 'stopped' });
    expect(vm?.lock).toBeUndefined();
    expect((await px().nodes.$('pve1').qemu.$(102).config.$get()).name).toBe('web-03');
    const gone = await t.api('GET', '/nodes/pve3/qemu/102/config');
    expect(gone.statusText).toBe("Configuration file 'nodes/pve3/qemu-server/102.conf' does not exist");
    const log = await logOf(upid);
    expect(log[0]).toBe("2025-01-06 09:00:00 starting migration of VM 102 to node 'pve1' (10.0.0.11)");
    expect(log).toContain("2025-01-06 09:00:00 found local disk 'local-zfs:vm-102-disk-0' (attached)");
    expect(log.at(-2)).toBe('2025-01-06 09:00:08 migration finished successfully (duration 00:00:08)');
    expect(log.at(-1)).toBe('TASK OK');
  });

  it('migrate - a running VM without online is refused before any task', async () => {
    const r = await t.api('POST', '/nodes/pve1/qemu/100/migrate', { form: { target: 'pve2' } });
    expect(r.status).toBe(500);
    expect(r.statusText).toBe("can't migrate running VM without --online");
    expect(t.sim.oplog).toEqual([]);
  });

  it('migrate - online without with-local-disks aborts: exitstatus "migration aborted", the reason in the log', async () => {
    const upid = await px().nodes.$('pve1').qemu.$(100).migrate.$post({ target: 'pve2', online: true });
    const st = await t.taskStatus(upid);
    expect(st).toMatchObject({ status: 'stopped', exitstatus: 'migration aborted' });
    const log = await logOf(upid);
    expect(log).toContain(
      "2025-01-06 09:00:00 can't migrate local disk 'local-zfs:vm-100-disk-0': can't live migrate attached local disks without with-local-disks option",
    );
    expect(log).toContain(
      "2025-01-06 09:00:00 ERROR: migration aborted (duration 00:00:00): can't migrate VM - check log",
    );
    const vm = await resource(100);
    expect(vm).toMatchObject({ node: 'pve1', status: 'running' });
    expect(vm?.lock).toBeUndefined();
  });

  it('migrate - online with local disks moves a running VM, which keeps running', async () => {
    const upid = await px()
      .nodes.$('pve1')
      .qemu.$(100)
      .migrate.$post({ target: 'pve2', online: true, 'with-local-disks': true });
    expect(await finish(upid, 'qmigrate')).toMatchObject({ exitstatus: 'OK' });
    expect(await resource(100)).toMatchObject({ node: 'pve2', status: 'running' });
    expect(await logOf(upid)).toContain(
      '2025-01-06 09:00:08 starting online/live migration on unix:/run/qemu-server/100.migrate',
    );
  });

  it('migrate - bad targets: its own node (400), an unknown node (500), an offline node (the task aborts)', async () => {
    const own = await t.api('POST', '/nodes/pve3/qemu/102/migrate', { form: { target: 'pve3' } });
    expect(own.status).toBe(400);
    expect(own.body?.errors).toEqual({ target: 'target is local node.' });
    const unknown = await t.api('POST', '/nodes/pve3/qemu/102/migrate', { form: { target: 'pve9' } });
    expect(unknown.status).toBe(500);
    expect(unknown.statusText).toBe("no such cluster node 'pve9'");
    t.sim.faults.nodeOffline('pve1');
    const upid = await px().nodes.$('pve3').qemu.$(102).migrate.$post({ target: 'pve1' });
    expect((await t.taskStatus(upid)).exitstatus).toBe('migration aborted');
    expect(await logOf(upid)).toContain(
      "2025-01-06 09:00:00 ERROR: migration aborted (duration 00:00:00): Can't connect to destination address using public key",
    );
    expect((await resource(102))?.node).toBe('pve3');
  });

  it('migrate - a linked clone on local storage cannot move', async () => {
    const upid = await px().nodes.$('pve1').qemu.$(108).migrate.$post({ target: 'pve2' });
    expect((await t.taskStatus(upid)).exitstatus).toBe('migration aborted');
    expect((await logOf(upid)).some((l) => l.endsWith("as it's a clone of 'base-9000-disk-0'"))).toBe(true);
  });

  it('migrate - GET .../migrate answers the preconditions', async () => {
    const pre = await px().nodes.$('pve1').qemu.$(100).migrate.$get();
    expect(pre).toMatchObject({
      running: 1,
      allowed_nodes: ['pve2', 'pve3'],
      not_allowed_nodes: {},
      local_disks: [{ volid: 'local-zfs:vm-100-disk-0', size: 32 * 1024 ** 3 }],
      local_resources: [],
    });
    // pve-container answers this only from PVE 9 on
    const ct = await t.api('GET', '/nodes/pve1/lxc/300/migrate');
    expect([ct.status, ct.statusText]).toEqual([501, "Method 'GET /nodes/pve1/lxc/300/migrate' not implemented"]);
  });

  it('migrate - PVE 9 answers the container preconditions and names HA dependencies', async () => {
    const seed = demoSeed();
    seed.version = '9.0.3';
    const nine = await startTestSim({ seed });
    try {
      const ct = await nine.get<Record<string, unknown>>('/nodes/pve2/lxc/302/migrate');
      expect(ct).toEqual({
        running: 1,
        'allowed-nodes': ['pve1', 'pve3'],
        'not-allowed-nodes': {},
        'dependent-ha-resources': [],
      });
      expect(await nine.get('/nodes/pve1/qemu/100/migrate')).toMatchObject({ 'has-dbus-vmstate': 1 });
    } finally {
      await nine.close();
    }
  });

  it('migrate - containers: refused running without restart, live migration not implemented, restart mode moves it', async () => {
    const r = await t.api('POST', '/nodes/pve1/lxc/300/migrate', { form: { target: 'pve2' } });
    expect(r.statusText).toBe("can't migrate running container without --online or --restart");
    const live = await px().nodes.$('pve1').lxc.$(300).migrate.$post({ target: 'pve2', online: true });
    expect(live).toContain(':vzmigrate:300:');
    expect((await t.taskStatus(live)).exitstatus).toBe('migration aborted');
    expect(await logOf(live)).toContain(
      '2025-01-06 09:00:00 ERROR: migration aborted (duration 00:00:00): lxc live migration is currently not implemented',
    );
    const upid = await px().nodes.$('pve1').lxc.$(300).migrate.$post({ target: 'pve2', restart: true });
    await t.clock.advanceAsync(1);
    expect(await resource(300)).toMatchObject({ node: 'pve1', status: 'stopped', lock: 'migrate' });
    expect(await finish(upid, 'vzmigrate')).toMatchObject({ exitstatus: 'OK' });
    expect(await resource(300)).toMatchObject({ node: 'pve2', status: 'running' });
    const log = await logOf(upid);
    expect(log).toContain('2025-01-06 09:00:00 shutdown CT 300');
    expect(log).toContain('2025-01-06 09:00:06 start container on target node');
  });

  it('migrate - a VM with a config lock is refused before forking: "VM is locked (backup)"', async () => {
    t.sim.faults.lockVm(102, 'backup');
    const r = await t.api('POST', '/nodes/pve3/qemu/102/migrate', { form: { target: 'pve1' } });
    expect(r.status).toBe(500);
    expect(r.statusText).toBe('VM is locked (backup)');
  });
});

describe('pve-sim HA migration', () => {
  let t: TestSim;
  beforeEach(async () => {
    t = await startTestSim();
  });
  afterEach(() => t.close());

  const tasksOf = (node: string, type: string) =>
    t.get<Array<{ upid: string; user: string; status?: string }>>(`/nodes/${node}/tasks?source=all&typefilter=${type}`);
  const resource = async (vmid: number) =>
    (
      await t.get<Array<{ vmid?: number; node?: string; hastate?: string; status?: string }>>(
        '/cluster/resources?type=vm',
      )
    ).find((r) => r.vmid === vmid);

  it('ha - migrating an HA VM answers hamigrate; the HA manager then runs qmigrate on the source as root@pam', async () => {
    const upid = await t.op('POST', '/nodes/pve2/qemu/105/migrate', { target: 'pve3', online: 1 });
    expect(upid).toContain(':hamigrate:105:root@pam!overseer:');
    await t.clock.advanceAsync(t.sim.taskDuration('hamigrate'));
    expect(await t.taskStatus(upid)).toMatchObject({ status: 'stopped', exitstatus: 'OK' });
    const log = await t.get<Array<{ t: string }>>(`/nodes/pve2/tasks/${upid}/log`);
    expect(log[0]?.t).toBe('Requesting HA migration for VM 105 to node pve3');
    expect(await tasksOf('pve2', 'qmigrate')).toEqual([]);
    expect((await resource(105))?.node).toBe('pve2');

    await t.clock.advanceAsync(HA_DISPATCH_MS);
    const [real] = await tasksOf('pve2', 'qmigrate');
    expect(real?.upid).toMatch(/:qmigrate:105:root@pam:$/);
    expect(real?.status).toBe('RUNNING');
    expect(await resource(105)).toMatchObject({ hastate: 'migrate', node: 'pve2' });

    await t.clock.advanceAsync(t.sim.taskDuration('qmigrate'));
    expect(await t.taskStatus(real!.upid)).toMatchObject({ exitstatus: 'OK' });
    expect(await resource(105)).toMatchObject({ node: 'pve3', hastate: 'started', status: 'running' });
  });

  it("ha - the HA manager's migration task is the one that can fail; the guest stays and HA is back to started", async () => {
    t.sim.faults.failTasks('qmigrate', 1, 'migration aborted');
    const upid = await t.op('POST', '/nodes/pve2/qemu/105/migrate', { target: 'pve1', online: 1 });
    await t.clock.advanceAsync(t.sim.taskDuration('hamigrate') + HA_DISPATCH_MS + t.sim.taskDuration('qmigrate'));
    expect((await t.taskStatus(upid)).exitstatus).toBe('OK');
    const [real] = await tasksOf('pve2', 'qmigrate');
    expect(await t.taskStatus(real!.upid)).toMatchObject({ exitstatus: 'migration aborted' });
    expect(await resource(105)).toMatchObject({ node: 'pve2', hastate: 'started' });
  });

  it('ha - an HA container is relocated: shut down, moved, started on the target, each a root@pam task', async () => {
    const upid = await t.op('POST', '/nodes/pve2/lxc/302/migrate', { target: 'pve1', restart: 1 });
    expect(upid).toContain(':hamigrate:302:');
    await t.clock.advanceAsync(60_000);
    const shutdown = await tasksOf('pve2', 'vzshutdown');
    const moved = await tasksOf('pve2', 'vzmigrate');
    const started = await tasksOf('pve1', 'vzstart');
    for (const list of [shutdown, moved, started]) {
      expect(list).toHaveLength(1);
      expect(list[0]?.user).toBe('root@pam');
      expect(list[0]?.status).toBe('OK');
    }
    expect(await resource(302)).toMatchObject({ node: 'pve1', status: 'running', hastate: 'started' });
  });

  it('ha - a target node that is offline: hamigrate is OK and the HA manager does nothing', async () => {
    t.sim.faults.nodeOffline('pve3');
    const upid = await t.op('POST', '/nodes/pve2/qemu/105/migrate', { target: 'pve3', online: 1 });
    await t.clock.advanceAsync(t.sim.taskDuration('hamigrate') + HA_DISPATCH_MS + 60_000);
    expect((await t.taskStatus(upid)).exitstatus).toBe('OK');
    expect(await tasksOf('pve2', 'qmigrate')).toEqual([]);
    expect(await resource(105)).toMatchObject({ node: 'pve2', hastate: 'started' });
  });

  it('ha - GET /cluster/ha/resources lists the HA guests; one by sid or by VMID', async () => {
    const all =
      await t.get<Array<{ sid: string; type: string; state: string; digest: string }>>('/cluster/ha/resources');
    expect(all.map((r) => [r.sid, r.type, r.state])).toEqual([
      ['vm:105', 'vm', 'started'],
      ['ct:302', 'ct', 'started'],
    ]);
    expect(await t.get('/cluster/ha/resources?type=ct')).toHaveLength(1);
    expect(await t.get('/cluster/ha/resources/vm:105')).toMatchObject({ sid: 'vm:105', state: 'started' });
    expect(await t.get('/cluster/ha/resources/302')).toMatchObject({ sid: 'ct:302', type: 'ct' });
    const none = await t.api('GET', '/cluster/ha/resources/vm:100');
    expect(none.status).toBe(500);
    expect(none.statusText).toBe("no such resource 'vm:100'");
    const bad = await t.api('GET', '/cluster/ha/resources/999');
    expect(bad.statusText).toBe('unable to detect SID from VMID - VM/CT 999 does not exist');
  });
});
