import type { HostInfo, RequestSpec, VmInfo } from '../../machines';

export function vmInfo(over: Partial<VmInfo> = {}): VmInfo {
  return {
    cluster: 'lab',
    vmid: 101,
    name: 'web1',
    node: 'pve1',
    status: 'running',
    tags: [],
    template: false,
    haManaged: false,
    cpus: 2,
    maxmem: 2 * 1024 ** 3,
    maxdisk: 32 * 1024 ** 3,
    mem: 1024 ** 3,
    cpu: 0.1,
    uptime: 100,
    ...over,
  };
}

export function hostInfo(over: Partial<HostInfo> = {}): HostInfo {
  return {
    cluster: 'lab',
    node: 'pve1',
    status: 'online',
    cpu: 0.2,
    maxcpu: 16,
    mem: 16 * 1024 ** 3,
    maxmem: 64 * 1024 ** 3,
    disk: 100 * 1024 ** 3,
    maxdisk: 1024 ** 4,
    ...over,
  };
}

export function requestSpec(over: Partial<RequestSpec> = {}): RequestSpec {
  return {
    id: 'r1',
    action: 'stop',
    target: { cluster: 'lab', vmid: 101 },
    params: {},
    force: false,
    requester: { id: 'alice', role: 'operator' },
    submittedAt: 1_000,
    origin: 'human',
    ...over,
  };
}
