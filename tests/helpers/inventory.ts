// Builds inventories shaped like the demo cluster, for runtime tests that feed the sync directly.
import type { Inventory } from '../../adapters/platform/types';
import type { HostInfo, VmInfo } from '../../machines/types';

const GiB = 1024 ** 3;

export function demoHosts(over: Partial<Record<string, Partial<HostInfo>>> = {}): HostInfo[] {
  return ['pve1', 'pve2', 'pve3'].map((node) => ({
    cluster: 'lab',
    node,
    status: 'online',
    cpu: 0.1,
    maxcpu: 16,
    mem: 8 * GiB,
    maxmem: 64 * GiB,
    disk: 100 * GiB,
    maxdisk: 1024 * GiB,
    ...over[node],
  }));
}

export function demoVms(over: Partial<Record<number, Partial<VmInfo>>> = {}): VmInfo[] {
  const vm = (vmid: number, name: string, node: string, extra: Partial<VmInfo> = {}): VmInfo => ({
    cluster: 'lab',
    vmid,
    name,
    node,
    status: 'running',
    tags: [],
    template: false,
    haManaged: false,
    cpus: 2,
    maxmem: 2 * GiB,
    maxdisk: 32 * GiB,
    mem: GiB,
    cpu: 0.05,
    uptime: 1000,
    ...extra,
    ...over[vmid],
  });
  return [
    vm(9000, 'debian-12-template', 'pve1', { template: true, status: 'stopped' }),
    vm(100, 'dns', 'pve1'),
    vm(101, 'web1', 'pve1'),
    vm(102, 'web2', 'pve2'),
    vm(103, 'db1', 'pve2', { status: 'stopped' }),
    vm(104, 'ci', 'pve3', { status: 'paused' }),
    vm(105, 'ha-app', 'pve3', { haManaged: true }),
    vm(106, 'backup-target', 'pve3', { lock: 'backup' }),
    vm(114, 'minecraft', 'pve2', { tags: ['production'] }),
  ];
}

export function demoInventory(
  options: {
    at?: number;
    vms?: VmInfo[];
    hosts?: HostInfo[];
    quorate?: boolean;
    complete?: boolean;
    unreachableNodes?: string[];
  } = {},
): Inventory {
  return {
    cluster: 'lab',
    fetchedAt: options.at ?? 0,
    quorate: options.quorate ?? true,
    complete: options.complete ?? true,
    vms: options.vms ?? demoVms(),
    hosts: options.hosts ?? demoHosts(),
    unreachableNodes: options.unreachableNodes ?? [],
  };
}
