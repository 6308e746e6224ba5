// How the gate names things in its reason sentences.
import type { GuestType, VmInfo } from '../types';

const GIB = 1024 ** 3;

/** `VM` for a QEMU guest, `container` for an LXC one. */
export function guestNoun(guest: { type?: GuestType | undefined }): string {
  return guest.type === 'lxc' ? 'container' : 'VM';
}

/** `VM lab/114 (minecraft)`, `container lab/200 (dns)`, or `VM lab/114` when it has no name. */
export function vmLabel(
  vm: Pick<VmInfo, 'cluster' | 'vmid' | 'name'> & { type?: GuestType | undefined },
  noun = guestNoun(vm),
): string {
  return vm.name ? `${noun} ${vm.cluster}/${vm.vmid} (${vm.name})` : `${noun} ${vm.cluster}/${vm.vmid}`;
}

/** `101 (web-1)`, or `101` for a guest with no name or not in the inventory: how a bulk request names its members. */
export function shortLabel(vmid: number, vm: Pick<VmInfo, 'name'> | undefined): string {
  return vm?.name ? `${vmid} (${vm.name})` : `${vmid}`;
}

/** Bytes as GiB with one decimal: `3.5 GiB`. */
export function gib(bytes: number): string {
  return `${(bytes / GIB).toFixed(1)} GiB`;
}

/** A fraction as a whole percentage: `90%`. */
export function percent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

/** `1 VM`, `3 VMs`. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
