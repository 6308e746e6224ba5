// How the gate names things in its reason sentences.
import type { VmInfo } from '../types';

const GIB = 1024 ** 3;

/** `VM lab/114 (minecraft)`, or `VM lab/114` when it has no name. */
export function vmLabel(vm: Pick<VmInfo, 'cluster' | 'vmid' | 'name'>, noun = 'VM'): string {
  return vm.name ? `${noun} ${vm.cluster}/${vm.vmid} (${vm.name})` : `${noun} ${vm.cluster}/${vm.vmid}`;
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
