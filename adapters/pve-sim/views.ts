// Read-side answers of the cluster and its nodes (version, /cluster/resources, /cluster/status, /nodes, node
// status), shaped like PVE's for the release the cluster runs (versions.ts), typed with proxmox-api's schema types.
// The guest views live in qemu-views.ts and lxc-views.ts, the task views in task-views.ts (re-exported here).
import { createHash } from 'node:crypto';
import { PveHttpError } from './errors';
import { isContainer, traffic, vmCpu, vmDiskReported, vmDiskUse, vmMem, vmMemHost, vmUptime } from './guest-metrics';
import { VM_STORAGE } from './qemu-views';
import type { SimNode, SimState, SimVm } from './types';
import { type PveRelease, releaseOf } from './versions';
import type { ClusterResourceWire, ClusterStatusWire, NodeIndexWire, NodeStatusWire, VersionWire } from './wire-types';

export { vmUptime } from './guest-metrics';
export { diskVolume, qemuConfig, qemuList, qemuStatus, snapshotList, VM_STORAGE } from './qemu-views';
export {
  CLUSTER_TASKS_PER_NODE,
  clusterTasks,
  type TaskFilter,
  taskList,
  taskLog,
  taskStatus,
} from './task-views';

const GiB = 1024 ** 3;

const b01 = (b: boolean): 0 | 1 => (b ? 1 : 0);

const nodeUptime = (n: SimNode, now: number): number => Math.max(0, Math.floor((now - n.bootedAt) / 1000));

interface NodeLoad {
  cpuCores: number;
  mem: number;
  disk: number;
}

const addLoad = (l: NodeLoad, vm: SimVm): void => {
  l.cpuCores += vmCpu(vm) * vm.cores;
  l.mem += vmMem(vm);
  l.disk += vmDiskUse(vm);
};

/** One pass over the guests (VMs and containers): what each node's guests use. */
function nodeLoads(state: SimState): Map<string, NodeLoad> {
  const loads = new Map<string, NodeLoad>();
  for (const n of state.nodes.keys()) loads.set(n, { cpuCores: 0, mem: 0, disk: 0 });
  for (const vm of state.vms.values()) {
    const l = loads.get(vm.node);
    if (l) addLoad(l, vm);
  }
  return loads;
}

function nodeUsage(n: SimNode, l: NodeLoad | undefined) {
  return {
    cpu: Math.min(1, n.baseCpu + (l?.cpuCores ?? 0) / n.maxcpu),
    mem: Math.min(n.maxmem, n.baseMem + (l?.mem ?? 0)),
    disk: Math.min(n.maxdisk, n.baseDisk + (l?.disk ?? 0)),
  };
}

export function version(state: SimState): VersionWire {
  const r = releaseOf(state.version);
  return { version: state.version, release: state.version.split('.').slice(0, 2).join('.'), repoid: r.repoid };
}

/**
 * A guest's statistics as API2Tools::extract_vm_stats reads them from the RRD (`qemu/<vmid>` or `lxc/<vmid>`):
 * the part /cluster/resources and /pools share. Without its node's data (offline) only the identity and
 * status 'unknown'.
 */
export function guestStats(vm: SimVm, state: SimState, now: number, r = releaseOf(state.version)): ClusterResourceWire {
  const ct = isContainer(vm);
  const e: ClusterResourceWire = {
    id: `${ct ? 'lxc' : 'qemu'}/${vm.vmid}`,
    type: ct ? 'lxc' : 'qemu',
    vmid: vm.vmid,
    name: vm.name,
    node: vm.node,
    status: 'unknown',
    template: b01(vm.template),
    maxcpu: vm.cores,
    maxmem: vm.maxmem,
    maxdisk: vm.maxdisk,
  };
  if (!state.nodes.get(vm.node)?.online) return e;
  const uptime = vmUptime(vm, now);
  e.status = vm.status === 'running' ? (vm.paused && !ct ? 'paused' : 'running') : 'stopped';
  e.cpu = vmCpu(vm);
  e.mem = vmMem(vm);
  e.disk = vmDiskReported(vm);
  e.uptime = uptime;
  Object.assign(e, traffic(vm, uptime));
  // PVE 9: every guest entry read from the pve-vm-9.0 RRD carries memhost (0 for containers); see versions.ts.
  if (r.memhost) e.memhost = vmMemHost(vm);
  return e;
}

/** A guest's /cluster/resources entry: its statistics plus pool, tags, lock and HA state. */
function guestResource(vm: SimVm, state: SimState, now: number, r: PveRelease): ClusterResourceWire {
  const e = guestStats(vm, state, now, r);
  if (vm.pool !== undefined) e.pool = vm.pool;
  if (vm.tags.length > 0) e.tags = vm.tags.join(';');
  if (vm.lock) e.lock = vm.lock;
  if (vm.hastate) e.hastate = vm.hastate;
  return e;
}

/**
 * The pool entries (`id: /pool/<poolid>`, listed only without a type filter) and, for pools with running members,
 * their members' uptime (the longest), memory and CPU summed up as PVE's Cluster.pm does. Pools are the ones guests
 * name (the simulator keeps no empty pools).
 */
function poolResources(state: SimState, now: number): ClusterResourceWire[] {
  const pools = new Map<string, ClusterResourceWire>();
  for (const name of poolNames(state)) pools.set(name, { id: `/pool/${name}`, pool: name, type: 'pool' });
  for (const vm of state.vms.values()) {
    const pe = vm.pool === undefined ? undefined : pools.get(vm.pool);
    const uptime = vmUptime(vm, now);
    if (!pe || uptime === 0 || !state.nodes.get(vm.node)?.online) continue;
    const cpu = vmCpu(vm);
    pe.uptime = Math.max(pe.uptime ?? 0, uptime);
    pe.mem = (pe.mem ?? 0) + vmMem(vm);
    pe.maxmem = (pe.maxmem ?? 0) + vm.maxmem;
    const maxcpu = pe.maxcpu ?? 0;
    pe.cpu = ((pe.cpu ?? 0) * maxcpu + cpu * vm.cores) / (maxcpu + vm.cores);
    pe.maxcpu = maxcpu + vm.cores;
  }
  return [...pools.values()];
}

/** Whether any guest is an HA resource (then the HA manager reports a status for every node). */
function haConfigured(state: SimState): boolean {
  for (const vm of state.vms.values()) if (vm.hastate !== undefined) return true;
  return false;
}

/** The pools (user.cfg's, and any a guest names), sorted. */
export function poolNames(state: SimState): string[] {
  const names = new Set<string>(state.pools.keys());
  for (const vm of state.vms.values()) if (vm.pool !== undefined) names.add(vm.pool);
  return [...names].sort();
}

function nodeResource(n: SimNode, l: NodeLoad | undefined, now: number, haState?: string): ClusterResourceWire {
  const base: ClusterResourceWire = {
    id: `node/${n.name}`,
    type: 'node',
    node: n.name,
    status: n.online ? 'online' : 'offline',
    level: '',
    maxcpu: n.maxcpu,
    maxmem: n.maxmem,
    maxdisk: n.maxdisk,
  };
  // PVE >= 8.3: the HA manager's status of the node once HA is in use (see versions.ts).
  if (haState !== undefined) base.hastate = haState;
  if (!n.online) return base;
  return { ...base, ...nodeUsage(n, l), uptime: nodeUptime(n, now), 'cgroup-mode': 2 };
}

function storageResources(n: SimNode, l: NodeLoad | undefined): ClusterResourceWire[] {
  const status = n.online ? 'available' : 'unknown';
  const used = nodeUsage(n, l).disk;
  const common = { type: 'storage', node: n.name, status, shared: 0, maxdisk: n.maxdisk, disk: used };
  return [
    { ...common, id: `storage/${n.name}/local`, storage: 'local', plugintype: 'dir', content: 'iso,vztmpl,backup' },
    {
      ...common,
      id: `storage/${n.name}/${VM_STORAGE}`,
      storage: VM_STORAGE,
      plugintype: 'zfspool',
      content: 'images,rootdir',
    },
  ];
}

/**
 * GET /cluster/resources[?type=vm|node|storage|sdn], in PVE's order: pools (no type filter only), guests (VMs and
 * containers), nodes, storage. One pass over the guests per part, no lookups inside loops.
 */
export function clusterResources(state: SimState, now: number, type?: string): ClusterResourceWire[] {
  const out: ClusterResourceWire[] = [];
  if (type === 'sdn') return out;
  const r = releaseOf(state.version);
  const wantNodes = type === undefined || type === 'node';
  const wantVms = type === undefined || type === 'vm';
  const wantStorage = type === undefined || type === 'storage';
  const loads = wantNodes || wantStorage ? nodeLoads(state) : undefined;
  if (type === undefined) out.push(...poolResources(state, now));
  if (wantVms) for (const vm of state.vms.values()) out.push(guestResource(vm, state, now, r));
  if (wantNodes) {
    const haInUse = r.nodeHaState && haConfigured(state);
    for (const n of state.nodes.values()) {
      // An HA node that left the quorum is 'unknown' to the HA manager until it is fenced.
      const haState = haInUse ? (n.online ? 'online' : 'unknown') : undefined;
      out.push(nodeResource(n, loads?.get(n.name), now, haState));
    }
  }
  if (wantStorage) for (const n of state.nodes.values()) out.push(...storageResources(n, loads?.get(n.name)));
  return out;
}

export function clusterStatus(state: SimState): ClusterStatusWire[] {
  const out: ClusterStatusWire[] = [
    {
      type: 'cluster',
      id: 'cluster',
      name: state.cluster,
      nodes: state.nodes.size,
      quorate: b01(state.quorate),
      version: state.configVersion,
    },
  ];
  for (const n of state.nodes.values()) {
    out.push({
      type: 'node',
      id: `node/${n.name}`,
      name: n.name,
      nodeid: n.nodeid,
      ip: n.ip,
      online: b01(n.online),
      local: b01(n.name === state.localNode),
      level: '',
    });
  }
  return out;
}

function fingerprint(n: SimNode): string {
  const h = createHash('sha256').update(n.name).digest('hex').toUpperCase();
  return h.match(/../g)!.join(':');
}

export function nodesIndex(state: SimState, now: number): NodeIndexWire[] {
  const loads = nodeLoads(state);
  return [...state.nodes.values()].map((n) => {
    const base: NodeIndexWire = {
      node: n.name,
      status: n.online ? 'online' : 'offline',
      id: `node/${n.name}`,
      type: 'node',
      level: '',
      ssl_fingerprint: fingerprint(n),
    };
    if (!n.online) return base;
    return {
      ...base,
      ...nodeUsage(n, loads.get(n.name)),
      maxcpu: n.maxcpu,
      maxmem: n.maxmem,
      maxdisk: n.maxdisk,
      uptime: nodeUptime(n, now),
    };
  });
}

export function nodeStatus(state: SimState, n: SimNode, now: number): NodeStatusWire {
  const r = releaseOf(state.version);
  const l: NodeLoad = { cpuCores: 0, mem: 0, disk: 0 };
  for (const vm of state.vms.values()) if (vm.node === n.name) addLoad(l, vm);
  const u = nodeUsage(n, l);
  const load = (u.cpu * n.maxcpu).toFixed(2);
  const memory: NodeStatusWire['memory'] = { total: n.maxmem, used: u.mem, free: n.maxmem - u.mem };
  // PVE 9: memory.available (MemAvailable; pve-common computes used as total - available), see versions.ts.
  if (r.memAvailable) memory.available = n.maxmem - u.mem;
  return {
    cpu: u.cpu,
    wait: 0.0004,
    idle: 0,
    uptime: nodeUptime(n, now),
    loadavg: [load, load, load],
    kversion: `Linux ${r.kernel.release} ${r.kernel.build}`,
    pveversion: `pve-manager/${state.version}/${r.repoid}`,
    cpuinfo: {
      cpus: n.maxcpu,
      sockets: 1,
      cores: n.maxcpu / 2,
      model: 'AMD EPYC 7302P 16-Core Processor',
      mhz: '3000.000',
      hvm: '1',
      flags: 'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr',
    },
    memory,
    swap: { total: 8 * GiB, used: 0, free: 8 * GiB },
    rootfs: { total: n.maxdisk, used: u.disk, free: n.maxdisk - u.disk, avail: n.maxdisk - u.disk },
    ksm: { shared: 0 },
    'current-kernel': { sysname: 'Linux', release: r.kernel.release, version: r.kernel.build, machine: 'x86_64' },
    'boot-info': { mode: 'efi', secureboot: 0 },
  };
}

/**
 * 500 as PVE answers for a guest whose config is not on the node asked (AbstractConfig::load_config with
 * QemuConfig's or LXC::Config's cfs_config_path): a VMID of the other guest type answers the same.
 */
export function noConfig(node: string, vmid: number, type: SimVm['type'] = 'qemu'): PveHttpError {
  const dir = type === 'lxc' ? 'lxc' : 'qemu-server';
  return new PveHttpError(500, `Configuration file 'nodes/${node}/${dir}/${vmid}.conf' does not exist`);
}
