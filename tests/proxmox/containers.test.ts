// LXC containers through the adapter: inventory, power, clone (hostname), status, destroy on /nodes/{node}/lxc/...,
// against the simulator over HTTPS; what goes on the wire checked on a fake PVE.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import { buildInventory, createProxmoxPlatform, type ProxmoxPlatform } from '../../adapters/proxmox';
import { type FakePve, startFakePve } from './fake-pve';
import { configFor } from './helpers';
import { mixedSeed, type SimPlatform, startSimPlatform } from './sim-platform';
import { createTlsFixture, type TlsFixture } from './tls-fixture';

describe('containers on the simulator', () => {
  let env: SimPlatform;

  beforeEach(async () => {
    await env?.stop();
    env = await startSimPlatform();
  });
  afterAll(() => env?.stop());

  const guestOf = async (vmid: number) => (await env.inventory()).vms.find((v) => v.vmid === vmid);

  it('containers - inventory lists containers as type lxc with their pool and HA state', async () => {
    const inv = await env.inventory();
    expect(inv.complete).toBe(true);
    expect(
      inv.vms
        .filter((v) => v.type === 'lxc')
        .map((v) => v.vmid)
        .sort(),
    ).toEqual([200, 201, 202, 203, 9100]);
    expect(inv.vms.find((v) => v.vmid === 200)).toMatchObject({
      type: 'lxc',
      name: 'ct-web',
      node: 'pve1',
      status: 'running',
      pool: 'lab1',
      tags: ['web'],
      haManaged: false,
    });
    expect(inv.vms.find((v) => v.vmid === 202)).toMatchObject({ type: 'lxc', haManaged: true, haState: 'started' });
    expect(inv.vms.find((v) => v.vmid === 9100)).toMatchObject({ type: 'lxc', template: true });
    expect(inv.vms.find((v) => v.vmid === 100)).toMatchObject({ type: 'qemu' });
    expect(inv.vms.find((v) => v.vmid === 100)?.pool).toBeUndefined();
  });

  it('containers - a PVE 9 cluster (memhost, node hastate) is read completely, containers included', async () => {
    const pve9 = await startSimPlatform({ seed: { ...mixedSeed(), version: '9.0.3' } });
    try {
      const inv = await pve9.inventory();
      expect(inv).toMatchObject({ complete: true, quorate: true, unreachableNodes: [] });
      expect(inv.vms).toHaveLength(mixedSeed().vms.length);
      expect(inv.vms.find((v) => v.vmid === 202)).toMatchObject({ type: 'lxc', haManaged: true, node: 'pve3' });
      expect(await pve9.platform.vmStatus('pve1', 200, 'lxc')).toBe('running');
    } finally {
      await pve9.stop();
    }
  });

  it('containers - start, reboot, shutdown and stop run vz tasks and change its state', async () => {
    const start = await env.run(env.platform.power('pve2', 201, 'start', 'lxc'));
    expect(start).toMatchObject({ type: 'vzstart', id: '201', exitstatus: 'OK' });
    expect(await env.platform.vmStatus('pve2', 201, 'lxc')).toBe('running');
    expect((await env.run(env.platform.power('pve2', 201, 'reboot', 'lxc'))).type).toBe('vzreboot');
    expect((await env.run(env.platform.power('pve2', 201, 'shutdown', 'lxc'))).type).toBe('vzshutdown');
    expect((await guestOf(201))?.status).toBe('stopped');
    await env.run(env.platform.power('pve1', 200, 'stop', 'lxc'));
    expect(await env.platform.vmStatus('pve1', 200, 'lxc')).toBe('stopped');
  });

  it('containers - suspend and resume are refused before anything is sent', async () => {
    const before = env.sim.oplog.length;
    await expect(env.platform.power('pve1', 200, 'suspend', 'lxc')).rejects.toBeInstanceOf(RangeError);
    await expect(env.platform.power('pve1', 200, 'resume', 'lxc')).rejects.toBeInstanceOf(RangeError);
    expect(env.sim.oplog.length).toBe(before);
  });

  it('containers - a clone of a container template takes the hostname and is a container', async () => {
    const newid = await env.platform.nextId();
    const done = await env.run(env.platform.clone('pve1', 9100, newid, { name: 'ct-web-02', full: true, type: 'lxc' }));
    expect(done).toMatchObject({ type: 'vzclone', id: '9100', exitstatus: 'OK' });
    expect(await guestOf(newid)).toMatchObject({ type: 'lxc', name: 'ct-web-02', node: 'pve1', status: 'stopped' });
  });

  it('containers - destroy removes a stopped container; a VM path for it is a missing config', async () => {
    await expect(env.platform.vmStatus('pve2', 201)).rejects.toThrow(/does not exist/);
    const done = await env.run(env.platform.destroy('pve2', 201, { type: 'lxc' }));
    expect(done.type).toBe('vzdestroy');
    const inv = await env.inventory();
    expect(inv.complete).toBe(true);
    expect(inv.vms.find((v) => v.vmid === 201)).toBeUndefined();
  });

  it('containers - an HA container is destroyed with purge', async () => {
    await env.run(env.platform.power('pve3', 202, 'stop', 'lxc'));
    const done = await env.run(env.platform.destroy('pve3', 202, { type: 'lxc', purge: true }));
    expect(done.exitstatus).toBe('OK');
    expect(await guestOf(202)).toBeUndefined();
  });
});

describe('containers on the wire', () => {
  let tls: TlsFixture;
  let fake: FakePve;
  let platform: ProxmoxPlatform;
  const clock = new SimulatedClock(Date.UTC(2024, 4, 1));
  const upid = (type: string, id: number) => `UPID:pve1:0001E240:0ADB2769:66F1A2B3:${type}:${id}:root@pam!overseer:`;

  beforeAll(async () => {
    tls = createTlsFixture();
    fake = await startFakePve(tls, {
      'POST /nodes/{node}/lxc/{vmid}/clone': { data: upid('vzclone', 9100) },
      'POST /nodes/{node}/qemu/{vmid}/clone': { data: upid('qmclone', 9000) },
      'POST /nodes/{node}/lxc/{vmid}/status/start': { data: upid('vzstart', 200) },
      'DELETE /nodes/{node}/lxc/{vmid}': { data: upid('vzdestroy', 200) },
    });
    platform = createProxmoxPlatform(configFor(fake, tls), { clock, log: createMemoryLog(clock) });
  });
  afterAll(async () => {
    await platform.close();
    await fake.close();
    tls.cleanup();
  });

  it('containers - an LXC clone sends hostname (not name) and full as 1/0', async () => {
    await platform.clone('pve1', 9100, 300, { name: 'ct-a', full: true, type: 'lxc' });
    await platform.clone('pve1', 9100, 301, { name: 'ct-b', full: false, type: 'lxc', target: 'pve2' });
    const [a, b] = fake.calls('POST', '/nodes/pve1/lxc/9100/clone');
    expect(Object.fromEntries(a!.form)).toEqual({ newid: '300', hostname: 'ct-a', full: '1' });
    expect(Object.fromEntries(b!.form)).toEqual({ newid: '301', hostname: 'ct-b', full: '0', target: 'pve2' });
  });

  it('containers - a VM clone sends name; names longer than 63 characters are fine (dns-name)', async () => {
    const long = `${'a'.repeat(70)}.example`;
    await platform.clone('pve1', 9000, 302, { name: long, full: true });
    expect(Object.fromEntries(fake.calls('POST', '/nodes/pve1/qemu/9000/clone')[0]!.form)).toEqual({
      newid: '302',
      name: long,
      full: '1',
    });
    await expect(platform.clone('pve1', 9000, 303, { name: 'bad_name', full: true })).rejects.toBeInstanceOf(
      RangeError,
    );
  });

  it('containers - power and destroy go to /lxc; an unknown guest type is refused', async () => {
    await platform.power('pve1', 200, 'start', 'lxc');
    await platform.destroy('pve1', 200, { type: 'lxc' });
    expect(fake.calls('POST', '/nodes/pve1/lxc/200/status/start')).toHaveLength(1);
    expect(Object.fromEntries(fake.calls('DELETE', '/nodes/pve1/lxc/200')[0]!.query)).toEqual({
      'destroy-unreferenced-disks': '1',
    });
    const before = fake.requests.length;
    // biome-ignore lint/suspicious/noExplicitAny: a caller passing a type the platform does not know
    await expect(platform.power('pve1', 200, 'start', 'openvz' as any)).rejects.toBeInstanceOf(RangeError);
    expect(fake.requests.length).toBe(before);
  });
});

describe('containers in /cluster/resources', () => {
  const node = { id: 'node/pve1', type: 'node', node: 'pve1', status: 'online', maxcpu: 8, maxmem: 1, maxdisk: 1 };
  const status = { ok: true as const, data: [{ type: 'node', name: 'pve1', online: 1 }] };
  const ct = (vmid: number, extra: Record<string, unknown> = {}) => ({
    id: `lxc/${vmid}`,
    type: 'lxc',
    vmid,
    name: `ct-${vmid}`,
    node: 'pve1',
    status: 'running',
    maxcpu: 1,
    maxmem: 512,
    maxdisk: 8,
    ...extra,
  });
  const read = (resources: unknown[]) =>
    buildInventory({ cluster: 'lab', fetchedAt: 0, resources: [node, ...resources], status });

  it('containers - an lxc entry is a guest of type lxc with its pool, HA state and lock', () => {
    const { inventory, problems } = read([ct(300, { pool: 'lab1', hastate: 'started', lock: 'mounted', tags: 'a;b' })]);
    expect(problems).toEqual([]);
    expect(inventory.complete).toBe(true);
    expect(inventory.vms).toEqual([
      expect.objectContaining({
        vmid: 300,
        type: 'lxc',
        pool: 'lab1',
        haManaged: true,
        haState: 'started',
        lock: 'mounted',
        tags: ['a', 'b'],
      }),
    ]);
  });

  it('containers - VMs and containers share VMIDs: an id listed as both makes the inventory incomplete', () => {
    const vm = { ...ct(300), id: 'qemu/300', type: 'qemu' };
    const { inventory, problems } = read([vm, ct(300)]);
    expect(inventory.complete).toBe(false);
    expect(inventory.vms).toHaveLength(1);
    expect(problems.join()).toMatch(/300 listed twice/);
    expect(read([ct(301, { id: 'qemu/301' })]).problems.join()).toMatch(/does not match/);
  });
});
