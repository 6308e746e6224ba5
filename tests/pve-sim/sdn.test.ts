// SDN on the simulator, over HTTPS through the real proxmox-api client (raw requests where the status line
// matters): zones, VNets and subnets stay pending until PUT /cluster/sdn commits them and its reloadnetworkall task
// reloads each node's network; PVE's texts for what it refuses; a guest NIC on a VNet the node lacks.
import { type ProxmoxEngineOptions, proxmoxApi } from 'proxmox-api';
import { fetch } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { restoreState, saveState } from '../../adapters/pve-sim';
import { AUDIT_TOKEN, startTestSim, type TestSim, TOKEN } from './helpers';

type ClientFetch = NonNullable<ProxmoxEngineOptions['fetch']>;

describe('pve-sim SDN', () => {
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
      fetch: ((url: string | URL, init?: object) => fetch(url, { ...init, dispatcher: t.agent })) as ClientFetch,
    });
  const sdn = () => client().cluster.sdn;
  const finish = async (upid: string) => {
    await t.clock.advanceAsync(t.sim.taskDuration('reloadnetworkall'));
    await t.sim.idle();
    return t.taskStatus(upid);
  };
  /** A simple zone `lab` with VNet `labnet` and subnet 10.10.0.0/24 (pending). */
  const labNetwork = async () => {
    await sdn().zones.$post({ zone: 'lab', type: 'simple', ipam: 'pve' });
    await sdn().vnets.$post({ vnet: 'labnet', zone: 'lab' });
    await t.op('POST', '/cluster/sdn/vnets/labnet/subnets', {
      subnet: '10.10.0.0/24',
      type: 'subnet',
      gateway: '10.10.0.1',
      snat: 1,
      'dhcp-range': 'start-address=10.10.0.100,end-address=10.10.0.200',
    });
  };
  const apply = async () => finish(await sdn().$put());

  it('sdn - changes are pending until PUT /cluster/sdn applies them on every node', async () => {
    await labNetwork();
    expect(await sdn().zones.$get()).toEqual([
      expect.objectContaining({
        zone: 'lab',
        type: 'simple',
        ipam: 'pve',
        digest: expect.stringMatching(/^[0-9a-f]{40}$/),
      }),
    ]);
    expect(await sdn().zones.$get({ running: true })).toEqual([]);
    expect(await sdn().zones.$get({ pending: true })).toEqual([
      { zone: 'lab', type: 'simple', state: 'new', pending: { ipam: 'pve' }, digest: null },
    ]);
    expect(await sdn().vnets.$get({ pending: true })).toEqual([
      { vnet: 'labnet', type: 'vnet', state: 'new', pending: { zone: 'lab' }, digest: null },
    ]);
    const [subnet] = await sdn().vnets.$('labnet').subnets.$get();
    expect(subnet).toMatchObject({
      subnet: 'lab-10.10.0.0-24',
      id: 'lab-10.10.0.0-24',
      cidr: '10.10.0.0/24',
      network: '10.10.0.0',
      mask: '24',
      zone: 'lab',
      vnet: 'labnet',
      type: 'subnet',
      gateway: '10.10.0.1',
      snat: 1,
      'dhcp-range': [{ 'start-address': '10.10.0.100', 'end-address': '10.10.0.200' }],
    });
    expect(t.sim.state.sdn.nodeVnets).toEqual({ pve1: [], pve2: [], pve3: [] });

    const upid = await sdn().$put();
    expect(upid).toMatch(/^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:reloadnetworkall::root@pam!overseer:$/);
    // committed at once: the running view has it before the nodes have reloaded
    expect(await sdn().vnets.$get({ running: true })).toEqual([
      { vnet: 'labnet', type: 'vnet', zone: 'lab', digest: null },
    ]);
    expect(await finish(upid)).toMatchObject({ status: 'stopped', exitstatus: 'OK', type: 'reloadnetworkall' });
    expect(t.sim.state.sdn.nodeVnets).toEqual({ pve1: ['labnet'], pve2: ['labnet'], pve3: ['labnet'] });
    expect(await sdn().zones.$get({ pending: true })).toEqual([
      { zone: 'lab', type: 'simple', ipam: 'pve', digest: null },
    ]);
    const log = await client().nodes.$('pve1').tasks.$(upid).log.$get();
    expect(log.map((l) => l.t)).toEqual([
      'pve1: reloading network config',
      'pve2: reloading network config',
      'pve3: reloading network config',
      'TASK OK',
    ]);
  });

  it('sdn - a deleted VNet stays in the running config, state deleted, until applied', async () => {
    await sdn().zones.$post({ zone: 'lab', type: 'simple' });
    await sdn().vnets.$post({ vnet: 'labnet', zone: 'lab' });
    await apply();
    await sdn().vnets.$('labnet').$delete();
    expect(await sdn().vnets.$get()).toEqual([]);
    expect(await sdn().vnets.$get({ pending: true })).toEqual([
      { vnet: 'labnet', type: 'vnet', zone: 'lab', state: 'deleted', pending: {}, digest: null },
    ]);
    await apply();
    expect(await sdn().vnets.$get({ running: true })).toEqual([]);
    expect(t.sim.state.sdn.nodeVnets.pve2).toEqual([]);
    expect(t.sim.oplog.filter((e) => e.result === 'OK').map((e) => `${e.op} ${e.id ?? e.vmid}`)).toEqual([
      'sdn-zone-create lab',
      'sdn-vnet-create labnet',
      'sdn-apply 0',
      'sdn-vnet-delete labnet',
      'sdn-apply 0',
    ]);
  });

  it('sdn - a vlan zone needs its bridge, and each VNet a tag unique in the zone', async () => {
    expect(await t.api('POST', '/cluster/sdn/zones', { form: { zone: 'vl', type: 'vlan' } })).toMatchObject({
      status: 500,
      statusText: "missing value for required option 'bridge'",
    });
    await sdn().zones.$post({ zone: 'vl', type: 'vlan', bridge: 'vmbr0' });
    const missing = await t.api('POST', '/cluster/sdn/vnets', { form: { vnet: 'v10', zone: 'vl' } });
    expect(missing).toMatchObject({
      status: 500,
      statusText: 'create sdn vnet object failed: 400 Parameter verification failed.',
    });
    expect(missing.body?.message).toBe(
      'create sdn vnet object failed: 400 Parameter verification failed.\ntag: missing vlan tag\n',
    );
    await sdn().vnets.$post({ vnet: 'v10', zone: 'vl', tag: 10 });
    expect(
      (await t.api('POST', '/cluster/sdn/vnets', { form: { vnet: 'v11', zone: 'vl', tag: 10 } })).body?.message,
    ).toBe(
      'create sdn vnet object failed: 400 Parameter verification failed.\ntag: tag 10 already exist in vnet v10\n',
    );
    expect(
      (await t.api('POST', '/cluster/sdn/vnets', { form: { vnet: 'v12', zone: 'vl', tag: 5000 } })).body?.message,
    ).toBe('create sdn vnet object failed: 400 Parameter verification failed.\ntag: vlan tag max value is 4096\n');
    expect(await sdn().vnets.$('v10').$get()).toMatchObject({ vnet: 'v10', zone: 'vl', tag: 10, type: 'vnet' });
  });

  it('sdn - ids, duplicates and options are refused in PVE words', async () => {
    const post = (path: string, form: Record<string, string | number>) => t.api('POST', path, { form });
    expect((await post('/cluster/sdn/zones', { zone: 'toolongid', type: 'simple' })).body?.errors).toEqual({
      zone: "invalid format - zone ID 'toolongid' can't be more length than 8 characters\n",
    });
    expect((await post('/cluster/sdn/vnets', { vnet: 'my-net', zone: 'lab' })).body?.errors).toEqual({
      vnet: "invalid format - vnet ID 'my-net' contains illegal characters\n",
    });
    expect(await post('/cluster/sdn/zones', { zone: 'lab', type: 'simple', bridge: 'vmbr0' })).toMatchObject({
      status: 500,
      statusText: "unexpected property 'bridge'",
    });
    expect(await post('/cluster/sdn/zones', { zone: 'lab', type: 'simple', ipam: 'netbox' })).toMatchObject({
      status: 500,
      text: expect.stringContaining('ipam: netbox not existing'),
    });
    await sdn().zones.$post({ zone: 'lab', type: 'simple' });
    expect(await post('/cluster/sdn/zones', { zone: 'lab', type: 'simple' })).toMatchObject({
      status: 500,
      statusText: "create sdn zone object failed: sdn zone object ID 'lab' already defined",
    });
    expect((await post('/cluster/sdn/vnets', { vnet: 'v1', zone: 'lab', tag: 5 })).body?.message).toBe(
      'create sdn vnet object failed: 400 Parameter verification failed.\ntag: vlan tag is not allowed on simple zone\n',
    );
    expect(await post('/cluster/sdn/vnets', { vnet: 'v1', zone: 'nozone' })).toMatchObject({
      status: 500,
      statusText: "create sdn vnet object failed: unknown section type ''",
    });
    await sdn().vnets.$post({ vnet: 'v1', zone: 'lab' });
    expect(await post('/cluster/sdn/vnets', { vnet: 'v1', zone: 'lab' })).toMatchObject({
      statusText: "create sdn vnet object failed: sdn vnet object ID 'v1' already defined",
    });
    const outside = await post('/cluster/sdn/vnets/v1/subnets', {
      subnet: '10.0.0.0/24',
      type: 'subnet',
      gateway: '10.1.0.1',
    });
    expect(outside.body?.message).toBe(
      'create sdn subnet object failed: 400 Parameter verification failed.\ngateway: 10.1.0.1 is not in subnet 10.0.0.0/24\n',
    );
    const range = await post('/cluster/sdn/vnets/v1/subnets', {
      subnet: '10.0.0.0/24',
      type: 'subnet',
      'dhcp-range': 'start-address=10.0.0.200,end-address=10.0.0.100',
    });
    expect(range.body?.message).toContain(
      'dhcp-range: start-address 10.0.0.200 must be smaller than end-address 10.0.0.100',
    );
    expect(await post('/cluster/sdn/vnets/nonet/subnets', { subnet: '10.0.0.0/24', type: 'subnet' })).toMatchObject({
      status: 500,
      statusText: "sdn vnet 'nonet' does not exist",
    });
    expect(await t.api('GET', '/cluster/sdn/zones/nozone')).toMatchObject({
      status: 500,
      statusText: "sdn 'nozone' does not exist",
    });
  });

  it('sdn - a zone with VNets and a VNet with subnets cannot be deleted', async () => {
    await labNetwork();
    expect(await t.api('DELETE', '/cluster/sdn/zones/lab')).toMatchObject({
      status: 500,
      statusText:
        'delete sdn zone object failed: zone lab is used by vnet labnet at /usr/share/perl5/PVE/Network/SDN/Zones/Plugin.pm line 159.',
    });
    expect((await t.api('DELETE', '/cluster/sdn/vnets/labnet')).body?.message).toBe(
      "delete sdn vnet object failed: 400 Parameter verification failed.\nvnet: Can't delete vnet if subnets exists\n",
    );
    await sdn().vnets.$('labnet').subnets.$('lab-10.10.0.0-24').$delete();
    await sdn().vnets.$('labnet').$delete();
    await sdn().zones.$('lab').$delete();
    expect(await sdn().zones.$get({ pending: true })).toEqual([]);
  });

  it('sdn - a guest NIC on a VNet its node does not have fails the start; after the apply it starts', async () => {
    await sdn().zones.$post({ zone: 'lab', type: 'simple', nodes: 'pve2,pve3' });
    await sdn().vnets.$post({ vnet: 'labnet', zone: 'lab' });
    await t.api('PUT', '/nodes/pve3/qemu/102/config', { form: { net0: 'virtio,bridge=labnet' } });
    const early = await client().nodes.$('pve3').qemu.$(102).status.start.$post();
    await t.clock.advanceAsync(2_000);
    expect(await t.taskStatus(early)).toMatchObject({ exitstatus: 'start failed: QEMU exited with code 1' });
    const log = (await client().nodes.$('pve3').tasks.$(early).log.$get()).map((l) => l.t);
    expect(log[0]).toBe("bridge 'labnet' does not exist");
    expect(log[1]).toContain('network script /usr/libexec/qemu-server/pve-bridge failed with status 512');

    await apply();
    expect(t.sim.state.sdn.nodeVnets).toEqual({ pve1: [], pve2: ['labnet'], pve3: ['labnet'] });
    const start = await client().nodes.$('pve3').qemu.$(102).status.start.$post();
    await t.clock.advanceAsync(2_000);
    expect(await t.taskStatus(start)).toMatchObject({ exitstatus: 'OK' });
    // pve1 is not in the zone: a running VM there cannot have its NIC hot-plugged onto the VNet (it stays pending)
    const hotplug = await t.api('PUT', '/nodes/pve1/qemu/100/config', { form: { net0: 'virtio,bridge=labnet' } });
    expect(hotplug).toMatchObject({ status: 400, statusText: 'Parameter verification failed.' });
    expect(hotplug.body?.errors).toEqual({ net0: "hotplug problem - bridge 'labnet' does not exist\n" });
    expect(t.sim.state.vms.get(100)?.pending?.net0).toMatch(/^virtio=BC:24:11:[0-9A-F:]{8},bridge=labnet$/);
  });

  it('sdn - a node that is down during the apply keeps its network; the task still ends OK', async () => {
    await sdn().zones.$post({ zone: 'lab', type: 'simple' });
    await sdn().vnets.$post({ vnet: 'labnet', zone: 'lab' });
    t.sim.faults.nodeOffline('pve3');
    const upid = await sdn().$put();
    expect(await finish(upid)).toMatchObject({ exitstatus: 'OK' });
    expect(t.sim.state.sdn.nodeVnets).toEqual({ pve1: ['labnet'], pve2: ['labnet'], pve3: [] });
    const log = (await client().nodes.$('pve1').tasks.$(upid).log.$get()).map((l) => l.t);
    expect(log).toContain("command 'pvesh set /nodes/pve3/network --regenerate-frr 0' failed: exit code 255");
  });

  it('sdn - an audit-only token reads but cannot change; the state survives a restart', async () => {
    await labNetwork();
    const audit = `PVEAPIToken=${AUDIT_TOKEN.tokenid}=${AUDIT_TOKEN.secret}`;
    expect((await t.api('GET', '/cluster/sdn/vnets', { auth: audit })).status).toBe(200);
    expect(
      await t.api('POST', '/cluster/sdn/zones', { auth: audit, form: { zone: 'x1', type: 'simple' } }),
    ).toMatchObject({
      status: 403,
      statusText: 'Permission check failed (/sdn/zones, SDN.Allocate)',
    });
    expect(await t.api('DELETE', '/cluster/sdn/vnets/labnet', { auth: audit })).toMatchObject({
      status: 403,
      statusText: 'Permission check failed (/sdn/zones/lab/labnet, SDN.Allocate)',
    });
    await apply();
    const restored = restoreState(JSON.parse(JSON.stringify(saveState(t.sim.state, t.clock.now()))));
    expect(restored.sdn).toEqual(t.sim.state.sdn);
  });
});
