// Backups through the adapter: jobs from /cluster/backup, archives on local, NFS and Proxmox Backup Server storages,
// shared storages read once, and a storage that cannot be read named in failedStorages (never "no backups") — on the
// simulator over HTTPS, and on a fake PVE for exactly which calls are made.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import { PveApiError } from '../../adapters/platform/errors';
import { createProxmoxPlatform, type ProxmoxPlatform } from '../../adapters/proxmox';
import type { SimSeed } from '../../adapters/pve-sim';
import { bare, type FakePve, pveError, startFakePve } from './fake-pve';
import { configFor } from './helpers';
import { mixedSeed, type SimPlatform, startSimPlatform } from './sim-platform';
import { createTlsFixture, type TlsFixture } from './tls-fixture';

const HOUR = 3600;

function backupSeed(): SimSeed {
  const seed = mixedSeed();
  const backups: Record<number, { storage: string; ageHours: number }[]> = {
    100: [
      { storage: 'local', ageHours: 30 },
      { storage: 'pbs', ageHours: 2 },
    ],
    101: [{ storage: 'local', ageHours: 100 }],
    150: [{ storage: 'local', ageHours: 5 }],
    200: [
      { storage: 'nas', ageHours: 5 },
      { storage: 'pbs', ageHours: 1 },
    ],
  };
  return {
    ...seed,
    storages: [
      { storage: 'pbs', type: 'pbs', server: '10.0.0.50', datastore: 'lab' },
      { storage: 'nas', type: 'nfs', path: '/mnt/pve/nas' },
    ],
    backupJobs: [
      { id: 'backup-nightly', schedule: '21:00', storage: 'pbs', all: true, exclude: [150] },
      { id: 'backup-web', schedule: 'sat 02:00', storage: 'nas', vmids: [100, 200], enabled: false },
      { id: 'backup-lab1', storage: 'nas', pool: 'lab1' },
    ],
    vms: seed.vms.map((vm) => (backups[vm.vmid] ? { ...vm, backups: backups[vm.vmid] } : vm)),
  };
}

describe('backups on the simulator', () => {
  let env: SimPlatform;
  let now: number;

  beforeEach(async () => {
    await env?.stop();
    env = await startSimPlatform({ seed: backupSeed() });
    now = Math.floor(env.clock.now() / 1000);
  });
  afterAll(() => env?.stop());

  it('backups - jobs are read with schedule, storage, guests, pool and enabled', async () => {
    const { jobs } = await env.platform.listBackups();
    expect(jobs.find((j) => j.id === 'backup-nightly')).toMatchObject({
      enabled: true,
      schedule: '21:00',
      storage: 'pbs',
      all: true,
      vmids: [],
    });
    expect(jobs.find((j) => j.id === 'backup-web')).toMatchObject({ enabled: false, all: false, vmids: [100, 200] });
    expect(jobs.find((j) => j.id === 'backup-lab1')).toMatchObject({ pool: 'lab1', all: false });
  });

  it('backups - archives on local, NFS and PBS storages are listed once each, with their times', async () => {
    const { volumes, failedStorages } = await env.platform.listBackups();
    expect(failedStorages).toEqual([]);
    expect(new Set(volumes.map((v) => `${v.node}:${v.volid}`)).size).toBe(volumes.length);
    const of = (vmid: number) => volumes.filter((v) => v.vmid === vmid);
    expect(
      of(100)
        .map((v) => v.storage)
        .sort(),
    ).toEqual(['local', 'pbs']);
    expect(Math.max(...of(100).map((v) => v.ctime))).toBeCloseTo(now - 2 * HOUR, -2);
    expect(of(100).find((v) => v.storage === 'local')).toMatchObject({ node: 'pve1' });
    expect(of(100).find((v) => v.storage === 'pbs')?.format).toBe('pbs-vm');
    expect(of(200).find((v) => v.storage === 'pbs')?.format).toBe('pbs-ct');
    // A shared storage is read once: its archive appears once, whichever node answered for it.
    expect(of(200).filter((v) => v.storage === 'nas')).toHaveLength(1);
    expect(of(101)).toEqual([expect.objectContaining({ storage: 'local', node: 'pve2' })]);
    expect(of(105)).toEqual([]);
  });

  it("backups - an offline node's local storage is a failed storage; shared ones are read through others", async () => {
    env.sim.faults.nodeOffline('pve3');
    const { volumes, failedStorages } = await env.platform.listBackups();
    expect(failedStorages).toEqual(['pve3/local']);
    expect(volumes.some((v) => v.vmid === 150)).toBe(false);
    expect(
      volumes
        .filter((v) => v.storage === 'pbs')
        .map((v) => v.vmid)
        .sort(),
    ).toEqual([100, 200]);
  });

  it('backups - a storage whose listing fails is named in failedStorages, never read as empty', async () => {
    env.sim.faults.httpError({
      path: '^/nodes/[^/]+/storage/pbs/content$',
      count: 10,
      status: 500,
      message: 'pbs down',
    });
    const { volumes, failedStorages } = await env.platform.listBackups();
    expect(failedStorages).toEqual(['pbs']);
    expect(volumes.some((v) => v.storage === 'pbs')).toBe(false);
    expect(volumes.some((v) => v.storage === 'nas')).toBe(true);
  });

  it('backups - a shared storage that fails on one node is read through the next', async () => {
    env.sim.faults.httpError({
      path: '^/nodes/pve1/storage/nas/content$',
      count: 1,
      status: 500,
      message: 'stale NFS handle',
    });
    const { volumes, failedStorages } = await env.platform.listBackups();
    expect(failedStorages).toEqual([]);
    expect(volumes.filter((v) => v.storage === 'nas')).toHaveLength(1);
  });
});

describe('backups on the wire', () => {
  let tls: TlsFixture;
  let fake: FakePve;
  let platform: ProxmoxPlatform;
  const clock = new SimulatedClock(Date.UTC(2024, 4, 1));
  const archive = (storage: string, vmid: number, ctime: number, extra: Record<string, unknown> = {}) => ({
    volid: `${storage}:backup/vzdump-qemu-${vmid}-${ctime}.vma.zst`,
    content: 'backup',
    format: 'vma.zst',
    size: 1024,
    vmid,
    ctime,
    ...extra,
  });

  beforeAll(async () => {
    tls = createTlsFixture();
    fake = await startFakePve(tls);
    platform = createProxmoxPlatform(configFor(fake, tls), { clock, log: createMemoryLog(clock) });
  });
  beforeEach(() => {
    fake.requests.length = 0;
    fake.route('GET /cluster/backup', {
      data: [{ id: 'backup-1', type: 'vzdump', schedule: '21:00', storage: 'pbs', vmid: '100,101', enabled: 1 }],
    });
    fake.route('GET /storage', {
      data: [
        { storage: 'local', type: 'dir', content: 'iso,vztmpl,backup', path: '/var/lib/vz' },
        { storage: 'local-zfs', type: 'zfspool', content: 'images,rootdir' },
        { storage: 'pbs', type: 'pbs', content: 'backup', shared: 1, datastore: 'lab' },
        { storage: 'old-nas', type: 'nfs', content: 'backup', shared: 1, disable: 1 },
        { storage: 'usb', type: 'dir', content: 'backup', nodes: 'pve2' },
      ],
    });
    fake.route('GET /nodes', {
      data: [
        { node: 'pve1', status: 'online' },
        { node: 'pve2', status: 'online' },
        { node: 'pve3', status: 'offline' },
      ],
    });
    fake.route('GET /nodes/{node}/storage/{storage}/content', (req) => {
      const [, node, , storage] = req.path.split('/').filter(Boolean);
      if (storage === 'pbs') {
        return {
          data: [
            archive('pbs', 100, 1_714_500_000, { format: 'pbs-vm', volid: 'pbs:backup/vm/100/2024-04-30T18:00:00Z' }),
          ],
        };
      }
      if (storage === 'local' && node === 'pve1') return { data: [archive('local', 100, 1_714_400_000)] };
      if (storage === 'local' && node === 'pve2') {
        // An archive PVE cannot attribute to a guest comes without vmid: nobody's backup.
        return {
          data: [archive('local', 101, 1_714_300_000), { volid: 'local:backup/notes.txt', format: 'txt', size: 1 }],
        };
      }
      return { data: [] };
    });
  });
  afterAll(async () => {
    await platform.close();
    await fake.close();
    tls.cleanup();
  });

  it('backups - a shared storage is read once, a local one on each online node, other content never', async () => {
    const listing = await platform.listBackups();
    const reads = fake.requests
      .filter((r) => r.path.endsWith('/content'))
      .map((r) => r.path)
      .sort();
    expect(reads).toEqual([
      '/nodes/pve1/storage/local/content',
      '/nodes/pve1/storage/pbs/content',
      '/nodes/pve2/storage/local/content',
      '/nodes/pve2/storage/usb/content',
    ]);
    expect(
      fake.requests.filter((r) => r.path.endsWith('/content')).every((r) => r.query.get('content') === 'backup'),
    ).toBe(true);
    expect(listing.failedStorages).toEqual(['pve3/local']);
    expect(listing.jobs).toEqual([
      {
        id: 'backup-1',
        enabled: true,
        schedule: '21:00',
        storage: 'pbs',
        all: false,
        vmids: [100, 101],
        pool: undefined,
      },
    ]);
    expect(listing.volumes.map((v) => [v.vmid, v.storage, v.node, v.ctime])).toEqual([
      [100, 'pbs', 'pve1', 1_714_500_000],
      [100, 'local', 'pve1', 1_714_400_000],
      [101, 'local', 'pve2', 1_714_300_000],
    ]);
  });

  it('backups - a listing with an archive it cannot date fails that storage instead of dropping the archive', async () => {
    fake.route('GET /nodes/{node}/storage/pbs/content', {
      data: [{ volid: 'pbs:backup/vm/100/x', format: 'pbs-vm', vmid: 100 }],
    });
    const listing = await platform.listBackups();
    expect(listing.failedStorages).toEqual(['pbs', 'pve3/local']);
  });

  it('backups - a shared storage whose nodes all fail is failed; unreachable nodes answer 595', async () => {
    fake.route('GET /nodes/{node}/storage/pbs/content', bare(595, 'Connection refused'));
    expect((await platform.listBackups()).failedStorages).toEqual(['pbs', 'pve3/local']);
    expect(fake.requests.filter((r) => r.path.endsWith('/pbs/content')).map((r) => r.path)).toEqual([
      '/nodes/pve1/storage/pbs/content',
      '/nodes/pve2/storage/pbs/content',
    ]);
  });

  it('backups - jobs or storages that cannot be read fail the whole listing', async () => {
    fake.route('GET /cluster/backup', pveError(500, 'got lock request timeout'));
    await expect(platform.listBackups()).rejects.toBeInstanceOf(PveApiError);
    fake.route('GET /cluster/backup', { data: [] });
    fake.route('GET /storage', pveError(403, 'Permission check failed (/storage, Datastore.Audit)'));
    await expect(platform.listBackups()).rejects.toBeInstanceOf(PveApiError);
  });
});
