// Inventory: failures are errors (never an empty list), partial or malformed answers are complete:false.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import { PlatformTimeoutError, PlatformUnavailableError, PveApiError } from '../../adapters/platform/errors';
import { buildInventory, createProxmoxPlatform, type ProxmoxPlatform, splitTags } from '../../adapters/proxmox';
import { type FakePve, pveError, startFakePve } from './fake-pve';
import { configFor, fixture, settleWithClock } from './helpers';
import { createTlsFixture, type TlsFixture } from './tls-fixture';

const node = (name: string, status = 'online') => ({
  id: `node/${name}`,
  type: 'node',
  node: name,
  status,
  cpu: 0.1,
  maxcpu: 8,
  mem: 1,
  maxmem: 2,
  disk: 3,
  maxdisk: 4,
});
const vm = (vmid: number, nodeName: string, extra: Record<string, unknown> = {}) => ({
  id: `qemu/${vmid}`,
  type: 'qemu',
  vmid,
  name: `vm-${vmid}`,
  node: nodeName,
  status: 'running',
  maxcpu: 2,
  maxmem: 2048,
  maxdisk: 4096,
  mem: 1024,
  cpu: 0.5,
  uptime: 10,
  template: 0,
  ...extra,
});
const clusterStatus = (nodes: Record<string, 0 | 1>, quorate: 0 | 1 = 1) => [
  { type: 'cluster', id: 'cluster', name: 'lab', quorate, nodes: Object.keys(nodes).length, version: 3 },
  ...Object.entries(nodes).map(([name, online], i) => ({
    type: 'node',
    id: `node/${name}`,
    name,
    online,
    nodeid: i + 1,
  })),
];

describe('inventory', () => {
  let tls: TlsFixture;
  let fake: FakePve;
  let platform: ProxmoxPlatform;
  const clock = new SimulatedClock(Date.UTC(2024, 4, 1));
  const log = createMemoryLog(clock);

  beforeAll(async () => {
    tls = createTlsFixture();
    fake = await startFakePve(tls);
    platform = createProxmoxPlatform(configFor(fake, tls), { clock, log });
  });
  afterEach(() => {
    log.lines.length = 0;
  });
  afterAll(async () => {
    await platform.close();
    await fake.close();
    tls.cleanup();
  });

  it('inventory - a 500 on /cluster/resources throws PlatformUnavailableError, never an empty list', async () => {
    fake.route('GET /cluster/resources', pveError(500, 'cluster not ready - no quorum?'));
    fake.route('GET /cluster/status', { data: clusterStatus({ pve1: 1 }) });
    const err = await platform.inventory().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformUnavailableError);
    expect((err as Error).cause).toBeInstanceOf(PveApiError);
    expect((err as Error).message).toContain('cluster not ready - no quorum?');
  });

  it('inventory - an unreachable cluster throws PlatformUnavailableError', async () => {
    const closed = await startFakePve(tls);
    const port = closed.port;
    await closed.close();
    const p = createProxmoxPlatform({ ...configFor(fake, tls), port }, { clock, log });
    const err = await p.inventory().catch((e: unknown) => e);
    await p.close();
    expect(err).toBeInstanceOf(PlatformUnavailableError);
    expect((err as Error).message).toMatch(/cannot reach https:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED/);
  });

  it('inventory - an answer that is not a list, or not JSON, is a failure too', async () => {
    fake.route('GET /cluster/status', { data: clusterStatus({ pve1: 1 }) });
    fake.route('GET /cluster/resources', { data: { vms: [] } });
    await expect(platform.inventory()).rejects.toBeInstanceOf(PlatformUnavailableError);
    fake.route('GET /cluster/resources', { raw: '{"data": [', status: 200 });
    await expect(platform.inventory()).rejects.toBeInstanceOf(PlatformUnavailableError);
    fake.route('GET /cluster/resources', { raw: '<html>proxy error</html>', contentType: 'text/html' });
    await expect(platform.inventory()).rejects.toBeInstanceOf(PlatformUnavailableError);
  });

  it('inventory - an answer the client cannot use is read to its end: its connection serves later calls', async () => {
    fake.route('GET /cluster/status', { data: clusterStatus({ pve1: 1 }) });
    fake.route('GET /cluster/resources', {
      raw: `<html>${'proxy error '.repeat(2000)}</html>`,
      contentType: 'text/html',
    });
    const portsOf = async (calls: number) => {
      const from = fake.requests.length;
      for (let i = 0; i < calls; i++)
        await expect(platform.inventory()).rejects.toBeInstanceOf(PlatformUnavailableError);
      return new Set(fake.requests.slice(from).map((r) => r.remotePort));
    };
    const first = await portsOf(5);
    const later = await portsOf(10);
    expect([...later].filter((port) => !first.has(port))).toEqual([]);
  });

  it('inventory - the client asks for gzip, and a gzipped answer reads as the plain one', async () => {
    const guests = Array.from({ length: 3000 }, (_, i) => vm(1000 + i, 'pve1'));
    fake.route('GET /cluster/status', { data: clusterStatus({ pve1: 1 }), gzip: true });
    fake.route('GET /cluster/resources', { data: [node('pve1'), ...guests], gzip: true });
    const from = fake.requests.length;
    const inventory = await platform.inventory();
    expect(inventory).toMatchObject({ complete: true, quorate: true });
    expect(inventory.vms.map((v) => v.vmid)).toEqual(guests.map((g) => g.vmid));
    for (const request of fake.requests.slice(from)) expect(request.headers['accept-encoding']).toBe('gzip');
  });

  it('inventory - no answer within timeoutMs (clock time) is a failure', async () => {
    fake.route('GET /cluster/resources', { hang: true });
    fake.route('GET /cluster/status', { data: clusterStatus({ pve1: 1 }) });
    const err = await settleWithClock(platform.inventory(), clock, 1_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformUnavailableError);
    expect((err as Error).cause).toBeInstanceOf(PlatformTimeoutError);
    expect((err as Error).message).toContain('within 15000 ms');
  });

  it('inventory - malformed entries are skipped, never crash, and make it incomplete', async () => {
    fake.route('GET /cluster/status', { data: clusterStatus({ pve1: 1 }) });
    fake.route('GET /cluster/resources', {
      data: [
        node('pve1'),
        vm(100, 'pve1'),
        vm(101, 'pve1', { vmid: 'abc' }),
        vm(102, 'pve1', { node: undefined }),
        vm(103, 'pve1', { cpu: -1 }),
        vm(104, 'pve1', { maxmem: '2048' }),
        vm(105, 'pve1', { template: 'yes' }),
        vm(106, 'pve1', { id: 'qemu/999' }),
        vm(100, 'pve1', { name: 'duplicate' }),
        'garbage',
        null,
        { type: 42 },
        vm(107, 'pve1', { tags: 'a;b c,d;;a' }),
      ],
    });
    const inv = await platform.inventory();
    expect(inv.complete).toBe(false);
    expect(inv.vms.map((v) => v.vmid)).toEqual([100, 107]);
    expect(inv.vms[0]?.name).toBe('vm-100');
    expect(inv.vms[1]?.tags).toEqual(['a', 'b', 'c', 'd']);
    expect(log.lines.some((l) => l.includes('warn: lab: inventory incomplete'))).toBe(true);
  });

  it('inventory - /cluster/status failing keeps the VMs but is incomplete and not quorate', async () => {
    fake.route('GET /cluster/resources', { data: [node('pve1'), vm(100, 'pve1')] });
    fake.route('GET /cluster/status', pveError(500, 'internal error'));
    const inv = await platform.inventory();
    expect(inv).toMatchObject({ complete: false, quorate: false });
    expect(inv.vms.map((v) => v.vmid)).toEqual([100]);
  });

  it('inventory - a standalone node (no cluster entry) is quorate while online', async () => {
    fake.route('GET /cluster/resources', { data: [node('pve'), vm(100, 'pve')] });
    fake.route('GET /cluster/status', {
      data: [{ type: 'node', id: 'node/pve', name: 'pve', online: 1, local: 1, nodeid: 0, ip: '192.0.2.10' }],
    });
    expect(await platform.inventory()).toMatchObject({ quorate: true, complete: true, unreachableNodes: [] });
  });

  it('inventory - lost quorum is reported', async () => {
    fake.route('GET /cluster/resources', { data: [node('pve1'), node('pve2', 'offline'), vm(100, 'pve1')] });
    fake.route('GET /cluster/status', { data: clusterStatus({ pve1: 1, pve2: 0 }, 0) });
    expect(await platform.inventory()).toMatchObject({ quorate: false, complete: false, unreachableNodes: ['pve2'] });
  });

  it('inventory - a node offline in corosync marks its VMs unknown even if resources lag behind', async () => {
    fake.route('GET /cluster/resources', { data: [node('pve1'), node('pve2'), vm(100, 'pve1'), vm(101, 'pve2')] });
    fake.route('GET /cluster/status', { data: clusterStatus({ pve1: 1, pve2: 0 }) });
    const inv = await platform.inventory();
    expect(inv.unreachableNodes).toEqual(['pve2']);
    expect(inv.vms.find((v) => v.vmid === 101)?.status).toBe('unknown');
    expect(inv.vms.find((v) => v.vmid === 100)?.status).toBe('running');
    expect(inv.hosts.find((h) => h.node === 'pve2')?.status).toBe('offline');
  });

  it('inventory - an empty resources list is not "no VMs": it is incomplete', async () => {
    fake.route('GET /cluster/resources', { data: [] });
    fake.route('GET /cluster/status', { data: clusterStatus({ pve1: 1, pve2: 1 }) });
    const inv = await platform.inventory();
    expect(inv.complete).toBe(false);
    expect(inv.vms).toEqual([]);
  });

  it('inventory - buildInventory maps the recorded answers without a server', () => {
    const { inventory, problems } = buildInventory({
      cluster: 'c',
      fetchedAt: 5,
      resources: fixture('cluster-resources.pve8.json').data as unknown[],
      status: { ok: true, data: fixture('cluster-status.pve8.json').data },
    });
    expect(problems).toEqual([]);
    expect(inventory.vms).toHaveLength(4);
    expect(inventory.fetchedAt).toBe(5);
  });

  it('inventory - tags split on ; space and comma', () => {
    expect(splitTags('a;b')).toEqual(['a', 'b']);
    expect(splitTags('a b,c')).toEqual(['a', 'b', 'c']);
    expect(splitTags('')).toEqual([]);
    expect(splitTags(undefined)).toEqual([]);
  });
});
