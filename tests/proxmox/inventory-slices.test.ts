// Inventory of a large answer, read in slices as its body arrives: the same inventory as buildInventory of the whole
// list (problems and all), and a body that breaks off mid-way is a failure — never a shorter list of VMs.
import type { ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import { PlatformUnavailableError } from '../../adapters/platform/errors';
import { buildInventory, createProxmoxPlatform } from '../../adapters/proxmox';
import { type FakePve, PVE_JSON, startFakePve } from './fake-pve';
import { configFor } from './helpers';
import { createTlsFixture, type TlsFixture } from './tls-fixture';

const NODES = ['pve1', 'pve2', 'pve3'];
const status = [
  { type: 'cluster', id: 'cluster', name: 'lab', quorate: 1, nodes: NODES.length, version: 3 },
  ...NODES.map((name, i) => ({ type: 'node', id: `node/${name}`, name, online: 1, nodeid: i + 1 })),
];

/** A 6,000-guest /cluster/resources (about 1.5 MB) with a few entries a reader must refuse, spread through it. */
function resources(): unknown[] {
  const out: unknown[] = NODES.map((node) => ({ id: `node/${node}`, type: 'node', node, status: 'online' }));
  for (let i = 0; i < 6_000; i++) {
    const vmid = 100 + i;
    out.push({
      id: `${i % 4 === 3 ? 'lxc' : 'qemu'}/${vmid}`,
      type: i % 4 === 3 ? 'lxc' : 'qemu',
      vmid,
      name: i % 500 === 7 ? `odd},{"name":"x"},{ ${vmid}` : `vm-${vmid}`,
      node: NODES[i % NODES.length],
      status: i % 3 === 2 ? 'stopped' : 'running',
      template: 0,
      maxcpu: 2,
      maxmem: 2 ** 31,
      maxdisk: 2 ** 34,
      cpu: 0.25,
      mem: 2 ** 30,
      uptime: i,
      ...(i % 5 === 1 ? { tags: 'db;prod' } : {}),
      ...(i % 97 === 0 ? { hastate: 'started', pool: 'ops' } : {}),
    });
    if (i === 2_500) out.push({ type: 'qemu', vmid: 'abc', node: 'pve1', status: 'running' }, 'garbage');
    if (i === 4_000) out.push({ id: 'qemu/100', type: 'qemu', vmid: 100, node: 'pve1', status: 'running' });
  }
  out.push({ id: 'storage/pve1/local', type: 'storage', node: 'pve1', status: 'available' });
  return out;
}

describe('inventory in slices', () => {
  let tls: TlsFixture;
  let fake: FakePve;
  let cutting: Server;
  let cutPort: number;
  const clock = new SimulatedClock(Date.UTC(2024, 4, 1));
  const log = createMemoryLog(clock);
  const data = resources();

  beforeAll(async () => {
    tls = createTlsFixture();
    fake = await startFakePve(tls, {
      'GET /cluster/resources': { data },
      'GET /cluster/status': { data: status },
    });
    // Answers /cluster/resources with a Content-Length for the whole list, sends half of it, then drops the line.
    const body = JSON.stringify({ data });
    cutting = createServer({ cert: tls.cert, key: tls.key }, (req, res: ServerResponse) => {
      if (req.url?.includes('/cluster/status')) {
        res.writeHead(200, { 'Content-Type': PVE_JSON }).end(JSON.stringify({ data: status }));
        return;
      }
      res.writeHead(200, { 'Content-Type': PVE_JSON, 'Content-Length': String(Buffer.byteLength(body)) });
      res.write(body.slice(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
    });
    await new Promise<void>((resolve) => cutting.listen(0, '127.0.0.1', () => resolve()));
    cutPort = (cutting.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await fake.close();
    cutting.closeAllConnections();
    await new Promise((resolve) => cutting.close(resolve));
    tls.cleanup();
  });

  it('inventory - a large answer read in slices is the inventory of the whole list, problems and all', async () => {
    const platform = createProxmoxPlatform(configFor(fake, tls), { clock, log });
    try {
      const got = await platform.inventory();
      const whole = buildInventory({
        cluster: 'lab',
        fetchedAt: clock.now(),
        resources: data,
        status: { ok: true, data: status },
      });
      expect(got).toEqual(whole.inventory);
      expect(got.vms).toHaveLength(6_000);
      expect(got.complete).toBe(false);
      expect(got.vms.find((v) => v.vmid === 107)?.name).toBe('odd},{"name":"x"},{ 107');
      expect(got.vms.find((v) => v.vmid === 197)).toMatchObject({ haState: 'started', pool: 'ops' });
      const warning = log.lines.find((l) => l.includes('inventory incomplete'));
      expect(warning).toContain(`/cluster/resources[${2_500 + 3 + 1}]: vmid is not an integer`);
      expect(warning).toContain(`/cluster/resources[${4_000 + 3 + 3}]: guest 100 listed twice`);
    } finally {
      await platform.close();
    }
  });

  it('inventory - an answer that breaks off mid-body is a failure, never the VMs read so far', async () => {
    const platform = createProxmoxPlatform(
      { ...configFor(fake, tls), port: cutPort },
      { clock, log: createMemoryLog(clock) },
    );
    try {
      const err = await platform.inventory().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PlatformUnavailableError);
      expect((err as Error).message).toContain('/cluster/resources');
    } finally {
      await platform.close();
    }
  });
});
