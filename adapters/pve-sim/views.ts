// Read-side answers, shaped like PVE 8's (typed with proxmox-api's schema types).
import { createHash } from 'node:crypto';
import { PveHttpError } from './errors';
import { macFor, uuidFor } from './state';
import type { SimNode, SimState, SimTask, SimVm } from './types';
import type {
  ClusterResourceWire,
  ClusterStatusWire,
  NodeIndexWire,
  NodeStatusWire,
  QemuConfigWire,
  QemuListWire,
  QemuStatusWire,
  SnapshotWire,
  TaskListWire,
  TaskLogWire,
  TaskStatusWire,
  VersionWire,
} from './wire-types';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const REPOID = 'faa83925c9641325';
export const VM_STORAGE = 'local-zfs';

const b01 = (b: boolean): 0 | 1 => (b ? 1 : 0);

/** Seconds a VM has been running (0 when stopped). */
export function vmUptime(vm: SimVm, now: number): number {
  return vm.status === 'running' && vm.startedAt !== undefined
    ? Math.max(0, Math.floor((now - vm.startedAt) / 1000))
    : 0;
}

const nodeUptime = (n: SimNode, now: number): number => Math.max(0, Math.floor((now - n.bootedAt) / 1000));

/** Memory in use by a running VM. */
const vmMem = (vm: SimVm): number => (vm.status === 'running' ? Math.round(vm.maxmem * vm.memUsage) : 0);
const vmCpu = (vm: SimVm): number => (vm.status === 'running' && !vm.paused ? vm.cpuLoad : 0);
/** Storage a VM's disk takes: a linked clone only its delta. */
const vmDiskUse = (vm: SimVm): number => (vm.linkedFrom !== undefined ? Math.round(vm.maxdisk / 10) : vm.maxdisk);

interface NodeLoad {
  cpuCores: number;
  mem: number;
  disk: number;
}

/** One pass over the VMs: what each node's VMs use. */
function nodeLoads(state: SimState): Map<string, NodeLoad> {
  const loads = new Map<string, NodeLoad>();
  for (const n of state.nodes.keys()) loads.set(n, { cpuCores: 0, mem: 0, disk: 0 });
  for (const vm of state.vms.values()) {
    const l = loads.get(vm.node);
    if (!l) continue;
    l.cpuCores += vmCpu(vm) * vm.cores;
    l.mem += vmMem(vm);
    l.disk += vmDiskUse(vm);
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

function traffic(vm: SimVm, uptime: number) {
  const rate = (vm.vmid % 7) + 1;
  return {
    netin: uptime * rate * 1_500,
    netout: uptime * rate * 900,
    diskread: uptime * rate * 4_096,
    diskwrite: uptime * rate * 2_048,
  };
}

export function version(state: SimState): VersionWire {
  return { version: state.version, release: state.version.split('.').slice(0, 2).join('.'), repoid: REPOID };
}

function qemuResource(vm: SimVm, node: SimNode | undefined, now: number): ClusterResourceWire {
  const e: ClusterResourceWire = {
    id: `qemu/${vm.vmid}`,
    type: 'qemu',
    vmid: vm.vmid,
    name: vm.name,
    node: vm.node,
    status: 'unknown',
    template: b01(vm.template),
    maxcpu: vm.cores,
    maxmem: vm.maxmem,
    maxdisk: vm.maxdisk,
  };
  if (vm.tags.length > 0) e.tags = vm.tags.join(';');
  if (vm.lock) e.lock = vm.lock;
  if (vm.hastate) e.hastate = vm.hastate;
  if (!node?.online) return e;
  const uptime = vmUptime(vm, now);
  e.status = vm.status === 'running' ? (vm.paused ? 'paused' : 'running') : 'stopped';
  e.cpu = vmCpu(vm);
  e.mem = vmMem(vm);
  e.disk = 0;
  e.uptime = uptime;
  Object.assign(e, traffic(vm, uptime));
  return e;
}

function nodeResource(n: SimNode, l: NodeLoad | undefined, now: number): ClusterResourceWire {
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

/** GET /cluster/resources[?type=vm|node|storage|sdn]. One pass over the VMs per part, no lookups inside loops. */
export function clusterResources(state: SimState, now: number, type?: string): ClusterResourceWire[] {
  const out: ClusterResourceWire[] = [];
  if (type === 'sdn') return out;
  const wantNodes = type === undefined || type === 'node';
  const wantVms = type === undefined || type === 'vm';
  const wantStorage = type === undefined || type === 'storage';
  const loads = wantNodes || wantStorage ? nodeLoads(state) : undefined;
  if (wantNodes) for (const n of state.nodes.values()) out.push(nodeResource(n, loads?.get(n.name), now));
  if (wantVms) for (const vm of state.vms.values()) out.push(qemuResource(vm, state.nodes.get(vm.node), now));
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
  const l: NodeLoad = { cpuCores: 0, mem: 0, disk: 0 };
  for (const vm of state.vms.values()) {
    if (vm.node !== n.name) continue;
    l.cpuCores += vmCpu(vm) * vm.cores;
    l.mem += vmMem(vm);
    l.disk += vmDiskUse(vm);
  }
  const u = nodeUsage(n, l);
  const load = (u.cpu * n.maxcpu).toFixed(2);
  return {
    cpu: u.cpu,
    wait: 0.0004,
    idle: 0,
    uptime: nodeUptime(n, now),
    loadavg: [load, load, load],
    kversion: 'Linux 6.8.12-1-pve #1 SMP PREEMPT_DYNAMIC PMX 6.8.12-1 (2024-08-05T16:17Z)',
    pveversion: `pve-manager/${state.version}/${REPOID}`,
    cpuinfo: {
      cpus: n.maxcpu,
      sockets: 1,
      cores: n.maxcpu / 2,
      model: 'AMD EPYC 7302P 16-Core Processor',
      mhz: '3000.000',
      hvm: '1',
      flags: 'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr',
    },
    memory: { total: n.maxmem, used: u.mem, free: n.maxmem - u.mem },
    swap: { total: 8 * GiB, used: 0, free: 8 * GiB },
    rootfs: { total: n.maxdisk, used: u.disk, free: n.maxdisk - u.disk, avail: n.maxdisk - u.disk },
    ksm: { shared: 0 },
    'current-kernel': {
      sysname: 'Linux',
      release: '6.8.12-1-pve',
      version: '#1 SMP PREEMPT_DYNAMIC PMX 6.8.12-1 (2024-08-05T16:17Z)',
      machine: 'x86_64',
    },
    'boot-info': { mode: 'efi', secureboot: 0 },
  };
}

export function qemuList(state: SimState, node: string, now: number, full: boolean): QemuListWire[] {
  const out: QemuListWire[] = [];
  for (const vm of state.vms.values()) {
    if (vm.node !== node) continue;
    const uptime = vmUptime(vm, now);
    const e: QemuListWire = {
      vmid: vm.vmid,
      name: vm.name,
      status: vm.status,
      cpus: vm.cores,
      cpu: vmCpu(vm),
      maxmem: vm.maxmem,
      mem: vmMem(vm),
      maxdisk: vm.maxdisk,
      disk: 0,
      uptime,
      ...traffic(vm, uptime),
    };
    if (vm.pid !== undefined && vm.status === 'running') e.pid = vm.pid;
    if (vm.tags.length > 0) e.tags = vm.tags.join(';');
    if (vm.lock) e.lock = vm.lock;
    if (vm.template) e.template = 1;
    if (full && vm.status === 'running') {
      e.qmpstatus = vm.paused ? 'paused' : 'running';
      e['running-machine'] = 'pc-i440fx-9.0+pve0';
      e['running-qemu'] = '9.0.2';
    }
    out.push(e);
  }
  return out;
}

export function qemuStatus(vm: SimVm, now: number): QemuStatusWire {
  const uptime = vmUptime(vm, now);
  const running = vm.status === 'running';
  const e: QemuStatusWire = {
    vmid: vm.vmid,
    name: vm.name,
    status: vm.status,
    qmpstatus: running ? (vm.paused ? 'paused' : 'running') : 'stopped',
    cpus: vm.cores,
    cpu: vmCpu(vm),
    maxmem: vm.maxmem,
    mem: vmMem(vm),
    maxdisk: vm.maxdisk,
    disk: 0,
    uptime,
    ...traffic(vm, uptime),
    ha: vm.hastate ? { managed: 1, state: vm.hastate, max_relocate: 1, max_restart: 1 } : { managed: 0 },
    agent: 1,
    'proxmox-support': running ? { 'pbs-dirty-bitmap': true, 'query-bitmap-info': true } : {},
  };
  if (running) {
    e.pid = vm.pid;
    e['running-machine'] = 'pc-i440fx-9.0+pve0';
    e['running-qemu'] = '9.0.2';
  }
  if (vm.tags.length > 0) e.tags = vm.tags.join(';');
  if (vm.lock) e.lock = vm.lock;
  if (vm.template) e.template = 1;
  return e;
}

const size = (bytes: number): string => (bytes % GiB === 0 ? `${bytes / GiB}G` : `${Math.round(bytes / MiB)}M`);

export function diskVolume(vm: SimVm): string {
  if (vm.template) return `${VM_STORAGE}:base-${vm.vmid}-disk-0`;
  if (vm.linkedFrom !== undefined) return `${VM_STORAGE}:base-${vm.linkedFrom}-disk-0/vm-${vm.vmid}-disk-0`;
  return `${VM_STORAGE}:vm-${vm.vmid}-disk-0`;
}

export function qemuConfig(vm: SimVm): QemuConfigWire {
  const cfg: Omit<QemuConfigWire, 'digest'> = {
    name: vm.name,
    cores: vm.cores,
    sockets: 1,
    cpu: 'x86-64-v2-AES',
    memory: String(Math.round(vm.maxmem / MiB)),
    ostype: 'l26',
    boot: 'order=scsi0;net0',
    scsihw: 'virtio-scsi-single',
    scsi0: `${diskVolume(vm)},iothread=1,size=${size(vm.maxdisk)}`,
    net0: `virtio=${macFor(vm.vmid)},bridge=vmbr0,firewall=1`,
    agent: '1',
    numa: 0,
    smbios1: `uuid=${uuidFor(vm.vmid)}`,
    vmgenid: uuidFor(vm.vmid + 0x5000_0000),
    meta: `creation-qemu=9.0.2,ctime=${vm.ctime}`,
  };
  if (vm.tags.length > 0) cfg.tags = vm.tags.join(';');
  if (vm.template) cfg.template = 1;
  if (vm.lock) cfg.lock = vm.lock;
  if (vm.description) cfg.description = vm.description;
  if (vm.protection) cfg.protection = 1;
  if (vm.parentSnapshot) cfg.parent = vm.parentSnapshot;
  const digest = createHash('sha1').update(JSON.stringify(cfg)).digest('hex');
  return { ...cfg, digest };
}

export function snapshotList(vm: SimVm): SnapshotWire[] {
  const out: SnapshotWire[] = vm.snapshots.map((s) => {
    const e: SnapshotWire = { name: s.name, description: s.description, snaptime: s.snaptime, vmstate: b01(s.vmstate) };
    if (s.parent) e.parent = s.parent;
    return e;
  });
  const current: SnapshotWire = {
    name: 'current',
    description: 'You are here!',
    digest: qemuConfig(vm).digest,
    running: b01(vm.status === 'running'),
  };
  if (vm.parentSnapshot) current.parent = vm.parentSnapshot;
  out.push(current);
  return out;
}

/** GET /nodes/{node}/tasks/{upid}/status: an API token's task names `user` and `tokenid` apart, as PVE does. */
export function taskStatus(t: SimTask): TaskStatusWire {
  const e: TaskStatusWire = {
    upid: t.upid,
    node: t.node,
    pid: t.pid,
    pstart: t.pstart,
    starttime: t.starttime,
    type: t.type,
    id: t.id,
    ...splitTokenUser(t.user),
    status: t.status,
  };
  if (t.status === 'stopped') e.exitstatus = t.exitstatus;
  return e;
}

/** `root@pam!ops` → `{ user: 'root@pam', tokenid: 'ops' }` (PVE::AccessControl::split_tokenid); a user stays whole. */
function splitTokenUser(user: string): { user: string; tokenid?: string } {
  const bang = user.indexOf('!');
  return bang < 0 ? { user } : { user: user.slice(0, bang), tokenid: user.slice(bang + 1) };
}

/**
 * One entry of a node's task list. As in PVE, a finished task read from the task index names an API token's task
 * by `user` and `tokenid` apart, while a running task (from the active list) keeps `user@realm!token` whole.
 */
function taskListEntry(t: SimTask): TaskListWire {
  const e: TaskListWire = {
    upid: t.upid,
    node: t.node,
    pid: t.pid,
    pstart: t.pstart,
    starttime: t.starttime,
    type: t.type,
    id: t.id,
    user: t.user,
  };
  if (t.status === 'stopped') {
    Object.assign(e, splitTokenUser(t.user));
    e.endtime = t.endtime;
    e.status = t.exitstatus;
  } else {
    e.status = 'RUNNING';
  }
  return e;
}

/** Tasks per node that GET /cluster/tasks lists (the node's recent tasks it shares with the cluster). */
export const CLUSTER_TASKS_PER_NODE = 50;

/**
 * GET /cluster/tasks: the recent tasks of every node, newest first; an API token's task names `user` and `tokenid`
 * apart (as PVE's Cluster.pm does for every entry).
 */
export function clusterTasks(tasksByNode: ReadonlyMap<string, readonly SimTask[]>): TaskListWire[] {
  const recent: SimTask[] = [];
  for (const tasks of tasksByNode.values()) recent.push(...tasks.slice(-CLUSTER_TASKS_PER_NODE));
  recent.sort((a, b) => b.starttime - a.starttime || b.pid - a.pid);
  return recent.map((t) => ({ ...taskListEntry(t), ...splitTokenUser(t.user) }));
}

export interface TaskFilter {
  vmid?: number | undefined;
  typefilter?: string | undefined;
  userfilter?: string | undefined;
  since?: number | undefined;
  until?: number | undefined;
  errors?: boolean | undefined;
  statusfilter?: string | undefined;
  /** archive (default: finished tasks), active (running), all */
  source?: string | undefined;
  start?: number | undefined;
  limit?: number | undefined;
}

function statusType(t: SimTask): string {
  if (t.status === 'running') return 'running';
  if (t.exitstatus === 'OK') return 'ok';
  if (t.exitstatus?.startsWith('WARNINGS')) return 'warning';
  return 'error';
}

/** GET /nodes/{node}/tasks: newest first, filtered like PVE, with the total before paging. */
export function taskList(tasks: SimTask[], f: TaskFilter): { data: TaskListWire[]; total: number } {
  const source = f.source ?? 'archive';
  const statuses = f.statusfilter ? new Set(f.statusfilter.split(/[,;\s]+/).map((s) => s.toLowerCase())) : undefined;
  const userfilter = f.userfilter?.toLowerCase();
  const matched: SimTask[] = [];
  for (let i = tasks.length - 1; i >= 0; i--) {
    const t = tasks[i]!;
    if (source === 'archive' && t.status === 'running') continue;
    if (source === 'active' && t.status !== 'running') continue;
    if (f.vmid !== undefined && t.id !== String(f.vmid)) continue;
    if (f.typefilter && t.type !== f.typefilter) continue;
    if (userfilter && !t.user.toLowerCase().includes(userfilter)) continue;
    if (f.since !== undefined && t.starttime < f.since) continue;
    if (f.until !== undefined && t.starttime > f.until) continue;
    if (f.errors && t.exitstatus === 'OK') continue;
    if (statuses && !statuses.has(statusType(t))) continue;
    matched.push(t);
  }
  matched.sort((a, b) => b.starttime - a.starttime);
  const start = f.start ?? 0;
  const limit = f.limit || 50;
  return { data: matched.slice(start, start + limit).map(taskListEntry), total: matched.length };
}

export function taskLog(t: SimTask, start = 0, limit = 50): { data: TaskLogWire[]; total: number } {
  const lines = t.log.length > 0 ? t.log : ['no content'];
  const data = lines.slice(start, start + (limit || 50)).map((text, i) => ({ n: start + i + 1, t: text }));
  return { data, total: lines.length };
}

/** 500 as PVE answers for a VM whose config is not on the node asked. */
export function noConfig(node: string, vmid: number): PveHttpError {
  return new PveHttpError(500, `Configuration file 'nodes/${node}/qemu-server/${vmid}.conf' does not exist`);
}
