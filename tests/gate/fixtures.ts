// A small inventory for gate tests: cluster lab, nodes pve1..pve3, template 9000, and a few VMs —
// 114 "minecraft" is production, 105 "db" is HA-managed.
import type { GateInput } from '../../machines/gate';
import { createDefaultGateConfig } from '../../machines/gate';
import type { Action, ClusterInfo, GateConfig, HostInfo, RequestSpec, VmInfo } from '../../machines/types';
import { hostKey, vmKey } from '../../machines/types';

export const GiB = 1024 ** 3;
export const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
export const CLUSTER = 'lab';

export function makeVm(vmid: number, patch: Partial<VmInfo> = {}): VmInfo {
  return {
    cluster: CLUSTER,
    vmid,
    name: `vm${vmid}`,
    node: 'pve1',
    status: 'running',
    tags: [],
    template: false,
    haManaged: false,
    cpus: 2,
    maxmem: 4 * GiB,
    maxdisk: 32 * GiB,
    mem: 2 * GiB,
    cpu: 0.1,
    uptime: 3600,
    ...patch,
  };
}

export function makeHost(node: string, patch: Partial<HostInfo> = {}): HostInfo {
  return {
    cluster: CLUSTER,
    node,
    status: 'online',
    cpu: 0.2,
    maxcpu: 16,
    mem: 32 * GiB,
    maxmem: 128 * GiB,
    disk: 500 * GiB,
    maxdisk: 2000 * GiB,
    ...patch,
  };
}

/** The world the gate sees; every part is mutable so a test can bend it. */
export interface World {
  config: GateConfig;
  vms: Map<string, VmInfo>;
  hosts: Map<string, HostInfo>;
  clusters: Map<string, ClusterInfo>;
  activeRequests: Map<string, { id: string; action: Action }>;
  recentDestructive: number[];
}

export function makeWorld(): World {
  const vms = [
    makeVm(9000, { name: 'debian-12-tpl', template: true, status: 'stopped', mem: 0, cpu: 0, uptime: 0 }),
    makeVm(101, { name: 'web' }),
    makeVm(102, { name: 'build', node: 'pve2', status: 'stopped' }),
    makeVm(105, { name: 'db', node: 'pve2', haManaged: true }),
    makeVm(114, { name: 'minecraft', node: 'pve3', tags: ['production', 'games'] }),
  ];
  const hosts = ['pve1', 'pve2', 'pve3'].map((node) => makeHost(node));
  return {
    config: createDefaultGateConfig(),
    vms: new Map(vms.map((vm) => [vmKey(vm.cluster, vm.vmid), vm])),
    hosts: new Map(hosts.map((host) => [hostKey(host.cluster, host.node), host])),
    clusters: new Map([[CLUSTER, { cluster: CLUSTER, reachable: true, quorate: true }]]),
    activeRequests: new Map(),
    recentDestructive: [],
  };
}

/** Changes one VM of the world in place. */
export function patchVm(world: World, vmid: number, patch: Partial<VmInfo>): void {
  const key = vmKey(CLUSTER, vmid);
  world.vms.set(key, { ...(world.vms.get(key) ?? makeVm(vmid)), ...patch });
}

/** Changes one node of the world in place. */
export function patchHost(world: World, node: string, patch: Partial<HostInfo>): void {
  const key = hostKey(CLUSTER, node);
  world.hosts.set(key, { ...(world.hosts.get(key) ?? makeHost(node)), ...patch });
}

/** Changes the lab cluster in place. */
export function patchCluster(world: World, patch: Partial<ClusterInfo>): void {
  world.clusters.set(CLUSTER, { ...world.clusters.get(CLUSTER)!, ...patch });
}

/** A VM request by admin alice (override anything). */
export function vmRequest(action: Action, vmid: number, patch: Partial<RequestSpec> = {}): RequestSpec {
  return {
    id: 'req-1',
    action,
    target: { cluster: CLUSTER, vmid },
    params: {},
    force: false,
    requester: { id: 'alice', role: 'admin' },
    submittedAt: NOW,
    ...patch,
  };
}

/** A deploy of "web" from template 9000 on pve1 by operator bob. */
export function deployRequest(params: Record<string, unknown> = {}, patch: Partial<RequestSpec> = {}): RequestSpec {
  return {
    id: 'req-1',
    action: 'deploy',
    target: { cluster: CLUSTER },
    params: { template: 9000, node: 'pve1', name: 'web', ...params },
    force: false,
    requester: { id: 'bob', role: 'operator' },
    submittedAt: NOW,
    ...patch,
  };
}

export function gateInput(request: RequestSpec, world: World = makeWorld(), now = NOW): GateInput {
  return { request, now, ...world };
}

/** A bulk request naming guests by `selector` (admin alice). */
export function selectorRequest(
  action: Action,
  selector: string,
  params: Record<string, unknown> = {},
  patch: Partial<RequestSpec> = {},
): RequestSpec {
  return {
    id: 'req-bulk',
    action,
    target: { cluster: CLUSTER, selector },
    params,
    force: false,
    requester: { id: 'alice', role: 'admin' },
    submittedAt: NOW,
    ...patch,
  };
}

/** A node action (drain, undrain) on `node` by operator bob. */
export function nodeRequest(
  action: Action,
  node: string,
  params: Record<string, unknown> = {},
  patch: Partial<RequestSpec> = {},
): RequestSpec {
  return {
    id: 'req-drain',
    action,
    target: { cluster: CLUSTER, node },
    params,
    force: false,
    requester: { id: 'bob', role: 'operator' },
    submittedAt: NOW,
    ...patch,
  };
}

/** Adds guests to the world (replacing any with the same VMID). */
export function addVms(world: World, ...vms: VmInfo[]): void {
  for (const vm of vms) world.vms.set(vmKey(vm.cluster, vm.vmid), vm);
}
