import type { Proxmox } from 'proxmox-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../adapters/clock';
import { largeSeed } from '../../adapters/pve-sim';
import { createState } from '../../adapters/pve-sim/state';
import { clusterResources } from '../../adapters/pve-sim/views';
import { START, startTestSim, type TestSim } from './helpers';

type Resource = Proxmox.clusterResourcesResources;

describe('pve-sim resources', () => {
  let t: TestSim;
  beforeAll(async () => {
    t = await startTestSim();
  });
  afterAll(() => t.close());

  it('resources - VM entries carry PVE fields (id qemu/N, template 0/1, tags "a;b", hastate)', async () => {
    const all = await t.get<Resource[]>('/cluster/resources');
    const vms = all.filter((r) => r.type === 'qemu');
    expect(vms.map((v) => v.vmid).sort((a, b) => a! - b!)).toEqual([
      100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 9000,
    ]);
    const mc = vms.find((v) => v.vmid === 114)!;
    expect(mc).toMatchObject({
      id: 'qemu/114',
      type: 'qemu',
      name: 'minecraft',
      node: 'pve1',
      status: 'running',
      template: 0,
      tags: 'production;games',
      maxcpu: 4,
      maxmem: 8 * 1024 ** 3,
    });
    expect(mc.uptime).toBeGreaterThan(0);
    expect(mc.cpu).toBeGreaterThan(0);
    expect(mc.hastate).toBeUndefined();
    expect(mc.lock).toBeUndefined();
    expect(vms.find((v) => v.vmid === 9000)).toMatchObject({
      name: 'debian-12-template',
      template: 1,
      status: 'stopped',
    });
    expect(vms.find((v) => v.vmid === 105)).toMatchObject({ hastate: 'started', status: 'running' });
    expect(vms.find((v) => v.vmid === 100)?.tags).toBe('web;lab');
    expect(vms.find((v) => v.vmid === 110)?.status).toBe('paused');
  });

  it('resources - node and storage entries, and the type filter', async () => {
    const nodes = await t.get<Resource[]>('/cluster/resources?type=node');
    expect(nodes.map((n) => n.id)).toEqual(['node/pve1', 'node/pve2', 'node/pve3']);
    expect(nodes[0]).toMatchObject({
      type: 'node',
      node: 'pve1',
      status: 'online',
      maxcpu: 16,
      maxmem: 64 * 1024 ** 3,
    });
    expect(nodes[0]!.mem).toBeGreaterThan(0);
    expect(nodes[0]!.maxdisk).toBe(1024 ** 4);
    const storage = await t.get<Resource[]>('/cluster/resources?type=storage');
    expect(storage.find((s) => s.id === 'storage/pve1/local-zfs')).toMatchObject({
      type: 'storage',
      storage: 'local-zfs',
      plugintype: 'zfspool',
      status: 'available',
    });
    const vms = await t.get<Resource[]>('/cluster/resources?type=vm');
    expect(vms.every((v) => v.type === 'qemu' || v.type === 'lxc')).toBe(true);
  });

  it('resources - /cluster/status has the cluster entry and one entry per node', async () => {
    const st = await t.get<Array<Record<string, unknown>>>('/cluster/status');
    expect(st[0]).toEqual({ type: 'cluster', id: 'cluster', name: 'lab', nodes: 3, quorate: 1, version: 3 });
    expect(st.slice(1)).toEqual([
      expect.objectContaining({ type: 'node', name: 'pve1', online: 1, local: 1, nodeid: 1, ip: '10.0.0.11' }),
      expect.objectContaining({ type: 'node', name: 'pve2', online: 1, local: 0, nodeid: 2 }),
      expect.objectContaining({ type: 'node', name: 'pve3', online: 1, local: 0, nodeid: 3 }),
    ]);
  });

  it('resources - /nodes, node status, per-node qemu list', async () => {
    const nodes = await t.get<Proxmox.nodesIndex[]>('/nodes');
    expect(nodes.map((n) => [n.node, n.status])).toEqual([
      ['pve1', 'online'],
      ['pve2', 'online'],
      ['pve3', 'online'],
    ]);
    const st = await t.get<{ cpuinfo: { cpus: number }; memory: { total: number }; pveversion: string }>(
      '/nodes/pve1/status',
    );
    expect(st.cpuinfo.cpus).toBe(16);
    expect(st.pveversion).toMatch(/^pve-manager\/8\.2\.4\//);
    const list = await t.get<Proxmox.nodesQemuVm[]>('/nodes/pve1/qemu?full=1');
    expect(list.map((v) => v.vmid).sort((a, b) => a - b)).toEqual([100, 103, 108, 111, 114, 9000]);
    expect(list.find((v) => v.vmid === 114)).toMatchObject({ status: 'running', qmpstatus: 'running', cpus: 4 });
  });

  it('resources - status/current and config of a VM', async () => {
    const cur = await t.get<Proxmox.nodesQemuStatusCurrentVmStatus>('/nodes/pve3/qemu/110/status/current');
    expect(cur).toMatchObject({ vmid: 110, status: 'running', qmpstatus: 'paused', ha: { managed: 0 } });
    const ha = await t.get<Proxmox.nodesQemuStatusCurrentVmStatus>('/nodes/pve2/qemu/105/status/current');
    expect(ha.ha).toMatchObject({ managed: 1, state: 'started' });
    const cfg = await t.get<Record<string, unknown>>('/nodes/pve1/qemu/9000/config');
    expect(cfg).toMatchObject({ name: 'debian-12-template', template: 1, cores: 2, memory: '2048' });
    expect(cfg.scsi0).toBe('local-zfs:base-9000-disk-0,iothread=1,size=32G');
    expect(cfg.digest).toMatch(/^[0-9a-f]{40}$/);
    const linked = await t.get<Record<string, unknown>>('/nodes/pve1/qemu/108/config');
    expect(linked.scsi0).toBe('local-zfs:base-9000-disk-0/vm-108-disk-0,iothread=1,size=64G');
  });

  it('resources - /cluster/nextid answers the lowest free VMID as a string; ?vmid= checks one', async () => {
    expect(await t.get('/cluster/nextid')).toBe('116');
    expect(await t.get('/cluster/nextid?vmid=200')).toBe('200');
    const taken = await t.api('GET', '/cluster/nextid?vmid=101');
    expect(taken.status).toBe(400);
    expect(taken.body?.errors).toEqual({ vmid: 'VM 101 already exists' });
  });
});

describe('pve-sim scale', () => {
  // How fast it is belongs to bench/sync.ts (the raw fetch + parse baseline reads this answer), not to a test.
  it('scale - /cluster/resources for 100k VMs builds and serializes every VM', () => {
    const clock = new SimulatedClock(START);
    const state = createState(largeSeed({ vms: 100_000, nodes: 20 }), clock);
    const json = JSON.stringify({ data: clusterResources(state, clock.now()) });
    expect(json.length).toBeGreaterThan(10_000_000);
    const { data } = JSON.parse(json) as { data: { type: string; vmid?: number }[] };
    const vmids = new Set(data.filter((r) => r.type === 'qemu' || r.type === 'lxc').map((r) => r.vmid));
    expect(vmids.size).toBe(100_000);
  });

  it('scale - 10k VMs on 20 nodes answer over HTTPS', async () => {
    const t = await startTestSim({ seed: largeSeed({ vms: 10_000, nodes: 20 }) });
    try {
      const all = await t.get<Resource[]>('/cluster/resources');
      expect(all.filter((r) => r.type === 'qemu')).toHaveLength(10_000);
      expect(all.filter((r) => r.type === 'node')).toHaveLength(20);
      expect(await t.get('/cluster/nextid')).toBe('10100');
    } finally {
      await t.close();
    }
  });
});
