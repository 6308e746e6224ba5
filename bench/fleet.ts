// Generates large inventories for benchmarks (the same shape the Proxmox adapter returns).
import type { Inventory } from '../adapters/platform/types';
import type { HostInfo, VmInfo } from '../machines/types';

const GiB = 1024 ** 3;

export function largeInventory(vms: number, nodes: number, at = 0): Inventory {
  const hosts: HostInfo[] = Array.from({ length: nodes }, (_, i) => ({
    cluster: 'big',
    node: `pve${i + 1}`,
    status: 'online',
    cpu: 0.2,
    maxcpu: 128,
    mem: 256 * GiB,
    maxmem: 1024 * GiB,
    disk: 10_000 * GiB,
    maxdisk: 100_000 * GiB,
  }));
  const list: VmInfo[] = Array.from({ length: vms }, (_, i) => ({
    cluster: 'big',
    vmid: 1000 + i,
    name: `vm-${1000 + i}`,
    node: `pve${(i % nodes) + 1}`,
    status: i % 5 === 0 ? 'stopped' : 'running',
    tags: i % 50 === 0 ? ['production'] : ['lab'],
    template: false,
    haManaged: i % 100 === 0,
    cpus: 2,
    maxmem: 2 * GiB,
    maxdisk: 32 * GiB,
    mem: GiB,
    cpu: 0.05,
    uptime: 1000 + i,
  }));
  return { cluster: 'big', fetchedAt: at, quorate: true, complete: true, vms: list, hosts, unreachableNodes: [] };
}
