// Containers on the simulator, over HTTPS through the real proxmox-api client (and raw requests where the status
// line matters): pve-container's paths, parameters, tasks and errors on the demo cluster's CTs 300 (running,
// production, web), 301 (stopped, pool lab1), 302 (HA-managed) and template 9100.
import { type ProxmoxEngineOptions, proxmoxApi } from 'proxmox-api';
import { fetch } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestSim, type TestSim, TOKEN } from './helpers';

type ClientFetch = NonNullable<ProxmoxEngineOptions['fetch']>;

describe('pve-sim containers', () => {
  let t: TestSim;
  beforeEach(async () => {
    t = await startTestSim();
  });
  afterEach(() => t.close());

  const client = () =>
    proxmoxApi({
      host: '127.0.0.1',
      port: t.sim.port,
      tokenID: TOKEN.tokenid,
      tokenSecret: TOKEN.secret,
      // proxmox-api bundles its own undici; its fetch type differs only nominally from ours.
      fetch: ((url: string | URL, init?: object) => fetch(url, { ...init, dispatcher: t.agent })) as ClientFetch,
    });
  const ct = (node: string, vmid: number) => client().nodes.$(node).lxc.$(vmid);
  const finish = async (upid: string, type: string) => {
    await t.clock.advanceAsync(t.sim.taskDuration(type));
    return t.taskStatus(upid);
  };
  const resource = async (vmid: number) =>
    (await client().cluster.resources.$get({ type: 'vm' })).find((r) => r.vmid === vmid);

  it('lxc - the node list, status/current and config answer as pve-container does', async () => {
    const list = await client().nodes.$('pve1').lxc.$get();
    expect(list.map((c) => c.vmid)).toEqual([300]);
    expect(list[0]).toMatchObject({
      vmid: 300,
      type: 'lxc',
      name: 'proxy-ct',
      status: 'running',
      cpus: 2,
      maxmem: 1024 * 1024 ** 2,
      maxswap: 512 * 1024 ** 2,
      maxdisk: 8 * 1024 ** 3,
      tags: 'production;web',
    });
    expect(list[0]?.pid).toBeGreaterThan(0);
    expect(list[0]?.disk).toBeGreaterThan(0);
    expect((await client().nodes.$('pve1').qemu.$get()).some((v) => v.vmid === 300)).toBe(false);

    expect(await ct('pve1', 300).status.current.$get()).toMatchObject({ status: 'running', ha: { managed: 0 } });
    expect((await ct('pve2', 302).status.current.$get()).ha).toEqual({ managed: 1, group: null, state: 'started' });
    const stopped = await ct('pve3', 301).status.current.$get();
    expect(stopped).toMatchObject({ status: 'stopped', uptime: 0, disk: 0, mem: 0 });
    expect(stopped.pid).toBeUndefined();

    expect(await ct('pve1', 300).config.$get()).toMatchObject({
      hostname: 'proxy-ct',
      cores: 2,
      memory: 1024,
      swap: 512,
      ostype: 'debian',
      unprivileged: 1,
      rootfs: 'local-zfs:subvol-300-disk-0,size=8G',
      tags: 'production;web',
    });
    expect(await ct('pve2', 9100).config.$get()).toMatchObject({
      template: 1,
      rootfs: 'local-zfs:basevol-9100-disk-0,size=8G',
    });
  });

  it('lxc - a VM on a container path, and a container on a VM path, answer "Configuration file ... does not exist"', async () => {
    const onLxc = await t.api('GET', '/nodes/pve1/lxc/100/status/current');
    expect(onLxc.status).toBe(500);
    expect(onLxc.statusText).toBe("Configuration file 'nodes/pve1/lxc/100.conf' does not exist");
    const onQemu = await t.api('GET', '/nodes/pve1/qemu/300/config');
    expect(onQemu.statusText).toBe("Configuration file 'nodes/pve1/qemu-server/300.conf' does not exist");
    expect((await t.api('DELETE', '/nodes/pve3/lxc/113')).statusText).toBe(
      "Configuration file 'nodes/pve3/lxc/113.conf' does not exist",
    );
    // pve-container forks the start worker without reading the config: the task fails.
    const start = await t.op('POST', '/nodes/pve3/lxc/113/status/start');
    expect(start).toContain(':vzstart:113:');
    expect(await finish(start, 'vzstart')).toMatchObject({
      exitstatus: "Configuration file 'nodes/pve3/lxc/113.conf' does not exist",
    });
  });

  it('lxc - power: vzstart/vzstop tasks change the status when they end; PVE refuses what does not apply', async () => {
    await expect(ct('pve1', 300).status.start.$post()).rejects.toThrow(/500 CT 300 already running/);
    expect((await t.api('POST', '/nodes/pve3/lxc/301/status/stop')).statusText).toBe('CT 301 not running');
    expect((await t.api('POST', '/nodes/pve3/lxc/301/status/shutdown')).statusText).toBe('CT 301 not running');
    // sic: pve-container's reboot says "VM".
    expect((await t.api('POST', '/nodes/pve3/lxc/301/status/reboot')).statusText).toBe('VM 301 not running');

    const start = await ct('pve3', 301).status.start.$post();
    expect(start).toMatch(/^UPID:pve3:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:vzstart:301:root@pam!overseer:$/);
    await t.clock.advanceAsync(t.sim.taskDuration('vzstart') - 1);
    expect((await resource(301))?.status).toBe('stopped');
    await t.clock.advanceAsync(1);
    expect((await t.taskStatus(start)).exitstatus).toBe('OK');
    expect(await resource(301)).toMatchObject({ id: 'lxc/301', type: 'lxc', status: 'running' });

    const reboot = await ct('pve3', 301).status.reboot.$post();
    expect(await finish(reboot, 'vzreboot')).toMatchObject({ type: 'vzreboot', exitstatus: 'OK' });
    const shutdown = await ct('pve3', 301).status.shutdown.$post({ timeout: 30 });
    expect(await finish(shutdown, 'vzshutdown')).toMatchObject({ type: 'vzshutdown', exitstatus: 'OK' });
    expect((await resource(301))?.status).toBe('stopped');
    expect(t.sim.oplog.filter((e) => e.vmid === 301 && e.result === 'OK').map((e) => e.op)).toEqual([
      'start',
      'reboot',
      'shutdown',
    ]);

    const tpl = await ct('pve2', 9100).status.start.$post();
    expect((await finish(tpl, 'vzstart')).exitstatus).toBe("you can't start a CT if it's a template");
  });

  it('lxc - a locked CT: the start task fails with "CT is locked (backup)", destroy is refused before any task', async () => {
    t.sim.faults.lockVm(301, 'backup');
    expect((await resource(301))?.lock).toBe('backup');
    const start = await ct('pve3', 301).status.start.$post();
    expect((await finish(start, 'vzstart')).exitstatus).toBe('CT is locked (backup)');
    const destroy = await t.api('DELETE', '/nodes/pve3/lxc/301');
    expect(destroy.status).toBe(500);
    expect(destroy.statusText).toBe('CT is locked (backup)');
    // skiplock is root@pam's: the API token is refused.
    const skip = await t.api('POST', '/nodes/pve3/lxc/301/status/start', { form: { skiplock: 1 } });
    expect(skip.body?.errors).toEqual({ skiplock: 'Only root may use this option.' });
  });

  it('lxc - a worker waiting too long for the config lock names the container lock file', async () => {
    t.sim.faults.lockTimeout(301);
    const start = await ct('pve3', 301).status.start.$post();
    await t.clock.advanceAsync(10_000);
    expect(await t.taskStatus(start)).toMatchObject({
      status: 'stopped',
      exitstatus: "can't lock file '/run/lock/lxc/pve-config-301.lock' - got timeout",
    });
  });

  it('lxc - an HA-managed CT starts and stops through HA (hastart/hastop)', async () => {
    const stop = await ct('pve2', 302).status.stop.$post();
    expect(stop).toContain(':hastop:302:');
    const overrule = await t.api('POST', '/nodes/pve2/lxc/302/status/stop', { form: { 'overrule-shutdown': 1 } });
    expect(overrule.body?.errors).toEqual({ 'overrule-shutdown': 'Not applicable for HA resources.' });
    expect(await finish(stop, 'hastop')).toMatchObject({ exitstatus: 'OK' });
    const log = await client().nodes.$('pve2').tasks.$(stop).log.$get();
    expect(log[0]?.t).toBe('Requesting HA stop for CT 302');
    expect(await resource(302)).toMatchObject({ status: 'stopped', hastate: 'stopped' });
    const start = await ct('pve2', 302).status.start.$post();
    expect(start).toContain(':hastart:302:');
    await finish(start, 'hastart');
    expect(await resource(302)).toMatchObject({ status: 'running', hastate: 'started' });
  });

  it('lxc - snapshot: a vzsnapshot task holding lock snapshot, then listed with its parent; duplicates and reserved names refused', async () => {
    const upid = await ct('pve1', 300).snapshot.$post({ snapname: 'pre-upgrade', description: 'before apt' });
    expect(upid).toContain(':vzsnapshot:300:');
    await t.clock.advanceAsync(1);
    expect((await resource(300))?.lock).toBe('snapshot');
    expect((await finish(upid, 'vzsnapshot')).exitstatus).toBe('OK');
    const list = await ct('pve1', 300).snapshot.$get();
    expect(list.map((s) => s.name)).toEqual(['pre-upgrade', 'current']);
    expect(list[0]).toMatchObject({ description: 'before apt' });
    expect(list[0]?.vmstate).toBeUndefined();
    expect(list[1]).toMatchObject({ parent: 'pre-upgrade', running: 1, description: 'You are here!' });
    expect(await ct('pve1', 300).config.$get({ snapshot: 'pre-upgrade' })).toMatchObject({
      hostname: 'proxy-ct',
      description: 'before apt',
    });

    const again = await ct('pve1', 300).snapshot.$post({ snapname: 'pre-upgrade' });
    expect((await finish(again, 'vzsnapshot')).exitstatus).toBe("snapshot name 'pre-upgrade' already used");
    const reserved = await t.api('POST', '/nodes/pve1/lxc/300/snapshot', { form: { snapname: 'vzdump' } });
    expect(reserved.statusText).toBe("unable to use snapshot name 'vzdump' (reserved name)");
    const tpl = await ct('pve2', 9100).snapshot.$post({ snapname: 'x1' });
    expect((await finish(tpl, 'vzsnapshot')).exitstatus).toBe("you can't take a snapshot if it's a template");
  });

  it('lxc - clone: `hostname`, linked from a template by default, locks disk and create while it runs, joins the pool', async () => {
    const upid = await ct('pve2', 9100).clone.$post({ newid: 310, hostname: 'web-ct-02', pool: 'lab1' });
    expect(upid).toContain(':vzclone:9100:');
    expect(t.sim.state.vms.get(9100)?.lock).toBe('disk');
    expect(await resource(310)).toMatchObject({ type: 'lxc', name: 'web-ct-02', lock: 'create', status: 'stopped' });
    // The source holds lock 'disk': a second clone of the same template is refused meanwhile.
    const second = await t.api('POST', '/nodes/pve2/lxc/9100/clone', { form: { newid: 311 } });
    expect(second.status).toBe(500);
    expect(second.statusText).toBe('CT is locked (disk)');

    const done = await finish(upid, 'vzclone');
    expect(done).toMatchObject({ type: 'vzclone', id: '9100', exitstatus: 'OK' });
    const log = await client().nodes.$('pve2').tasks.$(upid).log.$get();
    expect(log.map((l) => l.t)).toEqual([
      'creating a clone of container 9100 with ID 310',
      'create linked clone of mount point rootfs (local-zfs:basevol-9100-disk-0)',
      'TASK OK',
    ]);
    expect(t.sim.state.vms.get(9100)?.lock).toBeUndefined();
    const made = await resource(310);
    expect(made).toMatchObject({ name: 'web-ct-02', pool: 'lab1', template: 0, tags: 'template' });
    expect(made?.lock).toBeUndefined();
    expect((await ct('pve2', 310).config.$get()).rootfs).toBe(
      'local-zfs:basevol-9100-disk-0/subvol-310-disk-0,size=8G',
    );
    expect(t.sim.oplog.at(-1)).toMatchObject({ op: 'clone', vmid: 9100, result: 'OK', detail: { newid: 310 } });
  });

  it('lxc - clone refusals answer as pve-container does and leave no new CT behind', async () => {
    const refused = async (path: string, form: Record<string, string | number>) => {
      const r = await t.api('POST', path, { form });
      return { status: r.status, text: r.statusText, errors: r.body?.errors };
    };
    expect(await refused('/nodes/pve1/lxc/300/clone', { newid: 320, name: 'x' })).toMatchObject({
      status: 400,
      errors: { name: 'property is not defined in schema and the schema does not allow additional properties' },
    });
    expect(await refused('/nodes/pve1/lxc/300/clone', { newid: 320 })).toMatchObject({
      status: 500,
      text: 'Full clone of a running container is only possible from a snapshot',
    });
    expect(await refused('/nodes/pve3/lxc/301/clone', { newid: 320, full: 0 })).toMatchObject({
      text: "Linked clone feature for 'local-zfs:subvol-301-disk-0' is not available",
    });
    expect(await refused('/nodes/pve2/lxc/9100/clone', { newid: 320, target: 'pve3' })).toMatchObject({
      text: "can't clone CT to node 'pve3' (CT uses local storage)",
    });
    expect(await refused('/nodes/pve2/lxc/9100/clone', { newid: 101 })).toMatchObject({
      text: "VM 101 already exists on node 'pve2'",
    });
    expect(await refused('/nodes/pve2/lxc/9100/clone', { newid: 320, pool: 'nope' })).toMatchObject({
      status: 403,
      text: "Permission check failed (pool 'nope' does not exist)",
    });
    expect(t.sim.state.vms.has(320)).toBe(false);
    expect(t.sim.state.vms.get(300)?.lock).toBeUndefined();
    expect(t.sim.state.vms.get(9100)?.lock).toBeUndefined();
    expect(t.sim.oplog).toEqual([]);
  });

  it('lxc - destroy: a running CT is refused unless forced; HA needs purge; vzdestroy removes the CT', async () => {
    const running = await t.api('DELETE', '/nodes/pve1/lxc/300');
    expect(running.status).toBe(500);
    expect(running.statusText).toBe('unable to destroy CT 300 - container is running');
    expect((await t.api('DELETE', '/nodes/pve2/lxc/302?force=1')).statusText).toBe(
      'unable to remove CT 302 - used in HA resources and purge parameter not set.',
    );

    const forced = await ct('pve1', 300).$delete({ force: true, purge: true, 'destroy-unreferenced-disks': true });
    expect(forced).toContain(':vzdestroy:300:');
    expect(await finish(forced, 'vzdestroy')).toMatchObject({ exitstatus: 'OK' });
    const log = await client().nodes.$('pve1').tasks.$(forced).log.$get();
    expect(log.map((l) => l.t)).toEqual([
      'forced to stop CT 300 before destroying!',
      'purging CT 300 from related configurations..',
      'TASK OK',
    ]);
    expect(await resource(300)).toBeUndefined();

    const ha = await ct('pve2', 302).$delete({ force: true, purge: true });
    await finish(ha, 'vzdestroy');
    const haLog = await client().nodes.$('pve2').tasks.$(ha).log.$get();
    expect(haLog.map((l) => l.t)).toContain('NOTE: removed CT 302 from HA resource configuration.');
    expect(await resource(302)).toBeUndefined();
  });

  it('lxc - without quorum a start is refused, a stop still runs and a snapshot cannot write the config', async () => {
    t.sim.faults.quorumLoss();
    expect((await t.api('POST', '/nodes/pve3/lxc/301/status/start')).statusText).toBe('cluster not ready - no quorum?');
    const stop = await ct('pve1', 300).status.stop.$post();
    expect((await finish(stop, 'vzstop')).exitstatus).toBe('OK');
    const snap = await ct('pve1', 300).snapshot.$post({ snapname: 'noquorum' });
    expect((await finish(snap, 'vzsnapshot')).exitstatus).toMatch(
      /^unable to open file '\/etc\/pve\/nodes\/pve1\/lxc\/300\.conf\.tmp\.\d+' - Permission denied$/,
    );
    expect(t.sim.state.vms.get(300)?.snapshots).toEqual([]);
  });

  it('lxc - a crashed container shows stopped with no task, like a VM', async () => {
    t.sim.faults.crashVm(300);
    expect((await client().nodes.$('pve1').lxc.$get())[0]).toMatchObject({ status: 'stopped', uptime: 0 });
    expect(t.sim.oplog).toEqual([expect.objectContaining({ op: 'crash', vmid: 300, result: 'crashed' })]);
  });

  it('lxc - an audit-only token reads containers but may not operate them', async () => {
    const auth = 'PVEAPIToken=viewer@pve!ro=0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
    expect((await t.api('GET', '/nodes/pve1/lxc', { auth })).status).toBe(200);
    const r = await t.api('POST', '/nodes/pve1/lxc/300/status/shutdown', { auth });
    expect(r.status).toBe(403);
    expect(r.statusText).toBe('Permission check failed (/vms/300, VM.PowerMgmt)');
  });
});

describe('pve-sim pools and resources', () => {
  let t: TestSim;
  beforeEach(async () => {
    t = await startTestSim();
  });
  afterEach(() => t.close());

  it('resources - containers are lxc/<vmid> entries, guests in a pool name it, and each pool has a /pool entry', async () => {
    const all = await t.get<Array<Record<string, unknown>>>('/cluster/resources');
    expect(all[0]).toMatchObject({ id: '/pool/lab1', type: 'pool', pool: 'lab1', maxcpu: 6 });
    const cts = all.filter((r) => r.type === 'lxc').map((r) => r.id);
    expect(cts.sort()).toEqual(['lxc/300', 'lxc/301', 'lxc/302', 'lxc/9100']);
    expect(all.find((r) => r.id === 'lxc/302')).toMatchObject({ hastate: 'started', status: 'running' });
    expect(
      all
        .filter((r) => r.pool === 'lab1' && r.type !== 'pool')
        .map((r) => r.vmid)
        .sort(),
    ).toEqual([106, 107, 108, 109, 301]);
    const web = all.filter((r) => typeof r.tags === 'string' && r.tags.split(';').includes('web'));
    expect(web.map((r) => r.vmid).sort()).toEqual([100, 101, 102, 115, 300]);
    const vmsOnly = await t.get<Array<Record<string, unknown>>>('/cluster/resources?type=vm');
    expect(vmsOnly.some((r) => r.type === 'pool')).toBe(false);
  });

  it('pools - GET /pools lists them; ?poolid= and /pools/{poolid} list the members, optionally of one type', async () => {
    expect(await t.get('/pools')).toEqual([{ poolid: 'lab1' }]);
    const [pool] = await t.get<Array<{ poolid: string; members: Array<{ id: string }> }>>('/pools?poolid=lab1');
    expect(pool?.poolid).toBe('lab1');
    expect(pool?.members.map((m) => m.id)).toEqual(['qemu/106', 'qemu/107', 'qemu/108', 'qemu/109', 'lxc/301']);
    const cts = await t.get<{ members: Array<{ id: string; node: string }> }>('/pools/lab1?type=lxc');
    expect(cts.members).toEqual([expect.objectContaining({ id: 'lxc/301', node: 'pve3', status: 'stopped' })]);
    const missing = await t.api('GET', '/pools/nope');
    expect(missing.status).toBe(500);
    expect(missing.statusText).toBe("pool 'nope' does not exist");
    const typeOnly = await t.api('GET', '/pools?type=lxc');
    expect(typeOnly.body?.errors).toEqual({ poolid: "missing property required by 'type'" });
  });
});
