// The QEMU guest views: /nodes/{node}/qemu (list), .../status/current, .../config, .../snapshot.
import { createHash } from 'node:crypto';
import { haStatus, isContainer, pressureOf, traffic, vmCpu, vmMem, vmMemHost, vmUptime } from './guest-metrics';
import { optionsView, pendingView } from './guest-options';
import type { SimState, SimVm } from './types';
import { type PveRelease, releaseOf, runningMachine } from './versions';
import type { QemuConfigWire, QemuListWire, QemuStatusWire, SnapshotWire } from './wire-types';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
export const VM_STORAGE = 'local-zfs';

const b01 = (b: boolean): 0 | 1 => (b ? 1 : 0);

/** PVE 9 adds `memhost` to every entry and pressure stall averages to running ones (see versions.ts). */
function addRelease(e: QemuListWire | QemuStatusWire, vm: SimVm, r: PveRelease): void {
  if (!r.memhost) return;
  e.memhost = vmMemHost(vm);
  Object.assign(e, pressureOf(vm));
}

/** GET /nodes/{node}/qemu: the VMs (not the containers) whose config is on the node. */
export function qemuList(state: SimState, node: string, now: number, full: boolean): QemuListWire[] {
  const r = releaseOf(state.version);
  const out: QemuListWire[] = [];
  for (const vm of state.vms.values()) {
    if (vm.node !== node || isContainer(vm)) continue;
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
      e['running-machine'] = runningMachine(r);
      e['running-qemu'] = r.qemu;
    }
    addRelease(e, vm, r);
    out.push(e);
  }
  return out;
}

/** GET .../qemu/{vmid}/status/current, as the release `version` answers it (default PVE 8.2.4). */
export function qemuStatus(vm: SimVm, now: number, version = '8.2.4'): QemuStatusWire {
  const r = releaseOf(version);
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
    ha: haStatus(vm, r),
    agent: 1,
    'proxmox-support': running ? { 'pbs-dirty-bitmap': true, 'query-bitmap-info': true } : {},
  };
  if (running) {
    e.pid = vm.pid;
    e['running-machine'] = runningMachine(r);
    e['running-qemu'] = r.qemu;
  }
  if (vm.tags.length > 0) e.tags = vm.tags.join(';');
  if (vm.lock) e.lock = vm.lock;
  if (vm.template) e.template = 1;
  addRelease(e, vm, r);
  return e;
}

const size = (bytes: number): string => (bytes % GiB === 0 ? `${bytes / GiB}G` : `${Math.round(bytes / MiB)}M`);

export function diskVolume(vm: SimVm): string {
  if (vm.template) return `${VM_STORAGE}:base-${vm.vmid}-disk-0`;
  if (vm.linkedFrom !== undefined) return `${VM_STORAGE}:base-${vm.linkedFrom}-disk-0/vm-${vm.vmid}-disk-0`;
  return `${VM_STORAGE}:vm-${vm.vmid}-disk-0`;
}

/** The config file's fields (current values, or with the pending ones applied). */
function configFields(vm: SimVm, current: boolean): Omit<QemuConfigWire, 'digest'> {
  const shown = current ? vm : pendingView(vm);
  const cfg: Omit<QemuConfigWire, 'digest'> = {
    name: shown.name,
    cores: shown.cores,
    memory: String(Math.round(shown.maxmem / MiB)),
    scsi0: `${diskVolume(vm)},iothread=1,size=${size(vm.maxdisk)}`,
    ...(optionsView(vm, current) as Partial<QemuConfigWire>),
  };
  if (shown.tags.length > 0) cfg.tags = shown.tags.join(';');
  if (vm.template) cfg.template = 1;
  if (vm.lock) cfg.lock = vm.lock;
  if (shown.description) cfg.description = shown.description;
  if (shown.protection) cfg.protection = 1;
  if (vm.parentSnapshot) cfg.parent = vm.parentSnapshot;
  return cfg;
}

/** GET .../qemu/{vmid}/config: pending values applied unless `current`; the digest is the whole file's. */
export function qemuConfig(vm: SimVm, current = true): QemuConfigWire {
  const file = { cfg: configFields(vm, true), pending: vm.pending, delete: vm.pendingDelete };
  const digest = createHash('sha1').update(JSON.stringify(file)).digest('hex');
  return { ...configFields(vm, current), digest };
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
