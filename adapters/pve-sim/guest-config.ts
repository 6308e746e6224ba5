// What PVE says about a guest's config file (QemuConfig / LXC::Config over AbstractConfig): its lock text, its path
// on the cluster filesystem, and writes that need quorum. Shared by VMs and containers.
import { TaskError } from './errors';
import { ctVolume } from './lxc-views';
import { diskVolume } from './qemu-views';
import type { TaskContext } from './tasks';
import type { SimState, SimVm } from './types';

export type GuestType = SimVm['type'];

/** AbstractConfig::guest_type: "VM" (QemuConfig) or "CT" (LXC::Config). */
export const guestWord = (type: GuestType): 'VM' | 'CT' => (type === 'lxc' ? 'CT' : 'VM');

export const guestTypeOf = (vm: SimVm): GuestType => vm.type ?? 'qemu';

/** AbstractConfig::check_lock: `VM is locked (backup)`, `CT is locked (snapshot)` (no VMID in it). */
export const lockedText = (vm: SimVm): string => `${guestWord(guestTypeOf(vm))} is locked (${vm.lock})`;

/** Throws check_lock's error when the guest carries a config lock. */
export function checkConfigLock(vm: SimVm): void {
  if (vm.lock) throw new TaskError(lockedText(vm));
}

/** The task type prefix: qm (qemu-server) or vz (pve-container). */
export const taskPrefix = (type: GuestType): 'qm' | 'vz' => (type === 'lxc' ? 'vz' : 'qm');

/** /etc/pve/nodes/<node>/{qemu-server,lxc}/<vmid>.conf */
export const configFile = (node: string, vmid: number, type: GuestType): string =>
  `/etc/pve/nodes/${node}/${type === 'lxc' ? 'lxc' : 'qemu-server'}/${vmid}.conf`;

/** The guest's disk (root volume for a container) on local-zfs. */
export const guestVolume = (vm: SimVm): string => (guestTypeOf(vm) === 'lxc' ? ctVolume(vm) : diskVolume(vm));

/**
 * write_config in a worker: without quorum /etc/pve is read-only and PVE::Tools::file_set_contents cannot create
 * its temporary file (pmxcfs answers EACCES).
 */
export function assertConfigWritable(state: SimState, vm: SimVm, pid: number): void {
  if (state.quorate) return;
  const file = configFile(vm.node, vm.vmid, guestTypeOf(vm));
  throw new TaskError(`unable to open file '${file}.tmp.${pid}' - Permission denied`);
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** strftime("%F %H:%M:%S") of a clock time (the simulator's nodes run on UTC). */
export function timestamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** A duration as PVE's task logs print it: HH:MM:SS. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

/**
 * The end of a snapshot worker, VMs and containers alike: its work runs under the 'snapshot' lock, then the snapshot
 * is recorded as the parent of the current state. The lock is released either way.
 */
export async function completeSnapshot(
  t: Pick<TaskContext, 'work'>,
  vm: SimVm,
  snapshot: { name: string; description: string; vmstate: boolean },
  now: () => number,
): Promise<void> {
  try {
    await t.work();
  } catch (err) {
    vm.lock = undefined;
    throw err;
  }
  vm.snapshots.push({ ...snapshot, snaptime: Math.floor(now() / 1000), parent: vm.parentSnapshot });
  vm.parentSnapshot = snapshot.name;
  vm.lock = undefined;
}
