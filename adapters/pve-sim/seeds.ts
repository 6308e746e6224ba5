// Ready-made clusters: a small demo lab and large generated fleets for benchmarks.
import type { SimNodeSeed, SimSeed, SimVmSeed } from './types';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const TiB = 1024 ** 4;

function labNode(name: string, i: number): SimNodeSeed {
  return { name, ip: `10.0.0.${11 + i}`, maxcpu: 16, maxmem: 64 * GiB, maxdisk: TiB };
}

/**
 * Cluster 'lab': nodes pve1–pve3 (16 cores, 64 GiB, 1 TiB each), template 9000 on pve1,
 * VMs 100–115 spread over the nodes. 114 "minecraft" is production and running; 105 "dns-01" is HA-managed.
 * Containers: 300 "proxy-ct" (running, production, tagged web like VMs 100–102 and 115), 301 "build-ct" (stopped),
 * 302 "cache-ct" (running, HA-managed as ct:302), template 9100 on pve2. Pool 'lab1': VMs 106–109 and CT 301.
 * The containers' VMIDs leave /cluster/nextid at 116. Backups: a Proxmox Backup Server storage 'pbs' with a nightly
 * job for every guest but 113; 111 has a local and a PBS backup, 114, 115 and 300 one on PBS, 113 a stale local one.
 */
export function demoSeed(): SimSeed {
  const vm = (
    vmid: number,
    name: string,
    node: string,
    status: SimVmSeed['status'],
    tags: string[],
    cores = 2,
    memMiB = 2048,
    diskGiB = 32,
    extra: Partial<SimVmSeed> = {},
  ): SimVmSeed => ({ vmid, name, node, status, tags, cores, maxmem: memMiB * MiB, maxdisk: diskGiB * GiB, ...extra });
  const ct = (
    vmid: number,
    name: string,
    node: string,
    status: SimVmSeed['status'],
    tags: string[],
    cores = 1,
    memMiB = 512,
    diskGiB = 8,
    extra: Partial<SimVmSeed> = {},
  ): SimVmSeed => vm(vmid, name, node, status, tags, cores, memMiB, diskGiB, { type: 'lxc', ...extra });
  const lab1 = { pool: 'lab1' };
  const pbsBackup = { backups: [{ storage: 'pbs', ageHours: 20 }] };
  return {
    cluster: 'lab',
    version: '8.2.4',
    nodes: ['pve1', 'pve2', 'pve3'].map(labNode),
    storages: [{ storage: 'pbs', type: 'pbs', server: '10.0.0.50', datastore: 'lab' }],
    backupJobs: [
      {
        id: 'backup-nightly',
        schedule: '21:00',
        storage: 'pbs',
        all: true,
        exclude: [113],
        notesTemplate: '{{guestname}}',
      },
      { id: 'backup-lab1', schedule: 'sat 02:00', storage: 'local', pool: 'lab1', enabled: false },
    ],
    vms: [
      vm(9000, 'debian-12-template', 'pve1', 'stopped', ['template'], 2, 2048, 32, { template: true }),
      vm(100, 'web-01', 'pve1', 'running', ['web', 'lab']),
      vm(101, 'web-02', 'pve2', 'running', ['web', 'lab']),
      vm(102, 'web-03', 'pve3', 'stopped', ['web', 'lab']),
      vm(103, 'db-01', 'pve1', 'running', ['db', 'lab'], 4, 8192, 100),
      vm(104, 'db-02', 'pve2', 'stopped', ['db', 'lab'], 4, 8192, 100),
      vm(105, 'dns-01', 'pve2', 'running', ['infra'], 1, 1024, 16, { hastate: 'started' }),
      vm(106, 'ci-runner-01', 'pve3', 'running', ['ci', 'lab'], 4, 4096, 64, lab1),
      vm(107, 'ci-runner-02', 'pve3', 'stopped', ['ci', 'lab'], 4, 4096, 64, lab1),
      vm(108, 'kali-01', 'pve1', 'stopped', ['range', 'lab'], 2, 4096, 64, { linkedFrom: 9000, ...lab1 }),
      vm(109, 'kali-02', 'pve2', 'running', ['range', 'lab'], 2, 4096, 64, { linkedFrom: 9000, ...lab1 }),
      vm(110, 'target-win10', 'pve3', 'paused', ['range', 'lab'], 2, 4096, 64),
      vm(111, 'monitoring', 'pve1', 'running', ['infra'], 2, 4096, 50, {
        snapshots: [{ name: 'before_upgrade', description: 'Grafana 10 -> 11' }],
        backups: [{ ageHours: 30 }, { storage: 'pbs', ageHours: 6 }],
      }),
      vm(112, 'backup-proxy', 'pve2', 'stopped', ['infra'], 2, 2048, 32),
      vm(113, 'sandbox', 'pve3', 'stopped', [], 1, 1024, 16, { backups: [{ ageHours: 24 * 9 }] }),
      vm(114, 'minecraft', 'pve1', 'running', ['production', 'games'], 4, 8192, 64, pbsBackup),
      vm(115, 'wiki', 'pve2', 'running', ['web', 'production'], 2, 2048, 32, pbsBackup),
      ct(9100, 'debian-12-ct-template', 'pve2', 'stopped', ['template'], 1, 512, 8, { template: true }),
      ct(300, 'proxy-ct', 'pve1', 'running', ['production', 'web'], 2, 1024, 8, pbsBackup),
      ct(301, 'build-ct', 'pve3', 'stopped', ['ci', 'lab'], 2, 2048, 16, lab1),
      ct(302, 'cache-ct', 'pve2', 'running', ['infra'], 1, 512, 8, { hastate: 'started' }),
    ],
  };
}

export interface LargeSeedOptions {
  vms: number;
  nodes: number;
  cluster?: string | undefined;
}

/** `vms` VMs (from 100 on) round-robin over `nodes` nodes (pve1…), about two thirds running. */
export function largeSeed({ vms, nodes, cluster = 'bench' }: LargeSeedOptions): SimSeed {
  const nodeSeeds: SimNodeSeed[] = [];
  for (let i = 0; i < nodes; i++) {
    nodeSeeds.push({
      name: `pve${i + 1}`,
      ip: `10.${(i >> 8) & 0xff}.${i & 0xff}.1`,
      maxcpu: 128,
      maxmem: 2 * TiB,
      maxdisk: 64 * TiB,
    });
  }
  const vmSeeds: SimVmSeed[] = new Array(vms);
  const tagSets = [['web'], ['db'], ['ci', 'lab'], ['range'], []];
  for (let i = 0; i < vms; i++) {
    const vmid = 100 + i;
    vmSeeds[i] = {
      vmid,
      name: `vm-${vmid}`,
      node: `pve${(i % nodes) + 1}`,
      status: i % 3 === 2 ? 'stopped' : 'running',
      tags: tagSets[i % tagSets.length],
      cores: 1 + (i % 4),
      maxmem: (1 + (i % 8)) * GiB,
      maxdisk: (16 + (i % 4) * 16) * GiB,
      cpuLoad: (i % 10) / 20,
      memUsage: 0.5,
    };
  }
  return { cluster, nodes: nodeSeeds, vms: vmSeeds };
}
