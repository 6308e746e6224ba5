// The container views, shaped as pve-container answers them: /nodes/{node}/lxc (PVE::LXC::vmstatus of the node's
// CTs), .../status/current (the same plus `ha`), .../config (LXC::Config) and .../snapshot (API2::LXC::Snapshot).
import { createHash } from 'node:crypto';
import type { Proxmox } from 'proxmox-api';
import { PveHttpError } from './errors';
import { haStatus, isContainer, pressureOf, traffic, vmCpu, vmDiskReported, vmMem, vmUptime } from './guest-metrics';
import { optionsView, pendingView } from './guest-options';
import { VM_STORAGE } from './qemu-views';
import type { SimState, SimVm } from './types';
import { type PveRelease, releaseOf } from './versions';
import type { Bool01, Wire01 } from './wire-types';

export type LxcListWire = Proxmox.nodesLxcVm;
export type LxcStatusWire = Proxmox.nodesLxcStatusCurrentVmStatus;
export type LxcConfigWire = Wire01<
  Proxmox.nodesLxcConfigVmConfig,
  'template' | 'protection' | 'unprivileged' | 'onboot' | 'console' | 'debug'
>;
export type LxcSnapshotWire = Proxmox.nodesLxcSnapshotList & { digest?: string; running?: Bool01 };

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
/** pve-container's default swap for a new CT (MiB). */
const SWAP_MIB = 512;

const size = (bytes: number): string => (bytes % GiB === 0 ? `${bytes / GiB}G` : `${Math.round(bytes / MiB)}M`);

/**
 * The root volume on ZFS: `subvol-<vmid>-disk-0`; a template's is a `basevol-`; a linked clone's names its base
 * (ZFSPoolPlugin's volume names for rootdir content).
 */
export function ctVolume(vm: SimVm): string {
  if (vm.template) return `${VM_STORAGE}:basevol-${vm.vmid}-disk-0`;
  if (vm.linkedFrom !== undefined) return `${VM_STORAGE}:basevol-${vm.linkedFrom}-disk-0/subvol-${vm.vmid}-disk-0`;
  return `${VM_STORAGE}:subvol-${vm.vmid}-disk-0`;
}

/** One container as PVE::LXC::vmstatus reports it (PVE 9 adds pressure stall averages while it runs). */
function lxcEntry(vm: SimVm, now: number, r: PveRelease): LxcListWire {
  const running = vm.status === 'running';
  const uptime = vmUptime(vm, now);
  const e: LxcListWire = {
    vmid: vm.vmid,
    type: 'lxc',
    status: running ? 'running' : 'stopped',
    name: vm.name,
    cpus: vm.cores,
    disk: vmDiskReported(vm),
    maxdisk: vm.maxdisk,
    mem: vmMem(vm),
    swap: 0,
    maxmem: vm.maxmem,
    maxswap: SWAP_MIB * MiB,
    uptime,
    cpu: vmCpu(vm),
    ...traffic(vm, uptime),
  };
  if (running && vm.pid !== undefined) e.pid = vm.pid;
  if (vm.tags.length > 0) e.tags = vm.tags.join(';');
  if (vm.template) e.template = 1;
  if (vm.lock) e.lock = vm.lock;
  if (r.pressure) Object.assign(e, pressureOf(vm));
  return e;
}

/** GET /nodes/{node}/lxc: the containers whose config is on the node. */
export function lxcList(state: SimState, node: string, now: number): LxcListWire[] {
  const r = releaseOf(state.version);
  const out: LxcListWire[] = [];
  for (const vm of state.vms.values()) if (vm.node === node && isContainer(vm)) out.push(lxcEntry(vm, now, r));
  return out;
}

/** GET /nodes/{node}/lxc/{vmid}/status/current: vmstatus plus the HA status of `ct:<vmid>`. */
export function lxcStatus(vm: SimVm, now: number, version: string): LxcStatusWire {
  const r = releaseOf(version);
  return { ...lxcEntry(vm, now, r), ha: haStatus(vm, r) };
}

/** The config file's fields (current values, or with the pending ones applied). */
function configFields(vm: SimVm, current: boolean): LxcConfigWire {
  const shown = current ? vm : pendingView(vm);
  const cfg: LxcConfigWire = {
    cores: shown.cores,
    hostname: shown.name,
    memory: Math.round(shown.maxmem / MiB),
    rootfs: `${ctVolume(vm)},size=${size(vm.maxdisk)}`,
    ...(optionsView(vm, current) as Partial<LxcConfigWire>),
  };
  if (shown.tags.length > 0) cfg.tags = shown.tags.join(';');
  if (vm.template) cfg.template = 1;
  if (vm.lock) cfg.lock = vm.lock;
  if (shown.description) cfg.description = shown.description;
  if (shown.protection) cfg.protection = 1;
  if (vm.parentSnapshot) cfg.parent = vm.parentSnapshot;
  return cfg;
}

/** GET /nodes/{node}/lxc/{vmid}/config: pending values applied unless `current`; the digest is the whole file's. */
export function lxcConfig(vm: SimVm, current = true): LxcConfigWire & { digest: string } {
  const file = { cfg: configFields(vm, true), pending: vm.pending, delete: vm.pendingDelete };
  const digest = createHash('sha1').update(JSON.stringify(file)).digest('hex');
  return { ...configFields(vm, current), digest };
}

/** GET .../config?snapshot=<name>: the snapshot's copy of the config (AbstractConfig::load_snapshot_config). */
export function lxcSnapshotConfig(vm: SimVm, snapname: string): Record<string, unknown> {
  const s = vm.snapshots.find((x) => x.name === snapname);
  if (!s) throw new PveHttpError(500, `snapshot '${snapname}' does not exist`);
  const { lock: _lock, parent: _parent, digest, ...cfg } = lxcConfig(vm);
  const out: Record<string, unknown> = { ...cfg, digest, snaptime: s.snaptime, description: s.description };
  if (s.parent) out.parent = s.parent;
  return out;
}

/** GET /nodes/{node}/lxc/{vmid}/snapshot: the snapshots (no vmstate for containers) and `current`. */
export function lxcSnapshotList(vm: SimVm): LxcSnapshotWire[] {
  const out: LxcSnapshotWire[] = vm.snapshots.map((s) => {
    const e: LxcSnapshotWire = { name: s.name, snaptime: s.snaptime, description: s.description };
    if (s.parent) e.parent = s.parent;
    return e;
  });
  const current: LxcSnapshotWire = {
    name: 'current',
    digest: lxcConfig(vm).digest,
    running: vm.status === 'running' ? 1 : 0,
    description: 'You are here!',
  };
  if (vm.parentSnapshot) current.parent = vm.parentSnapshot;
  out.push(current);
  return out;
}
