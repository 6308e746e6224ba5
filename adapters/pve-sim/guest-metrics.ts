// The numbers a guest (VM or container) reports: uptime, CPU, memory, disk, traffic, pressure, HA status.
// Shared by the qemu, lxc, pool and cluster views so every path reports the same guest the same way.
import type { SimVm } from './types';
import type { PveRelease } from './versions';

/** Seconds a guest has been running (0 when stopped). */
export function vmUptime(vm: SimVm, now: number): number {
  return vm.status === 'running' && vm.startedAt !== undefined
    ? Math.max(0, Math.floor((now - vm.startedAt) / 1000))
    : 0;
}

export const isContainer = (vm: SimVm): boolean => vm.type === 'lxc';

/** Memory in use by a running guest. */
export const vmMem = (vm: SimVm): number => (vm.status === 'running' ? Math.round(vm.maxmem * vm.memUsage) : 0);

/** CPU use (fraction of its cores); a paused VM uses none. */
export const vmCpu = (vm: SimVm): number => (vm.status === 'running' && !vm.paused ? vm.cpuLoad : 0);

/** Storage a guest's disk takes on the node: a linked clone only its delta. */
export const vmDiskUse = (vm: SimVm): number =>
  vm.linkedFrom !== undefined ? Math.round(vm.maxdisk / 10) : vm.maxdisk;

/**
 * `disk` of a guest's status: PVE reports 0 for a VM (it cannot see inside the image) and, for a running container,
 * the root filesystem's used bytes (df of /proc/<pid>/root).
 */
export const vmDiskReported = (vm: SimVm): number =>
  isContainer(vm) && vm.status === 'running' ? Math.round(vm.maxdisk * (0.15 + (vm.vmid % 40) / 100)) : 0;

/** The host's view of a running VM's memory (PSS of its cgroup: the guest's pages plus QEMU's own). PVE 9. */
export const vmMemHost = (vm: SimVm): number =>
  vm.status === 'running' && !isContainer(vm) ? Math.round(vmMem(vm) * 1.04) : 0;

export function traffic(vm: SimVm, uptime: number) {
  const rate = (vm.vmid % 7) + 1;
  return {
    netin: uptime * rate * 1_500,
    netout: uptime * rate * 900,
    diskread: uptime * rate * 4_096,
    diskwrite: uptime * rate * 2_048,
  };
}

export interface Pressure {
  pressurecpusome: number;
  pressurecpufull: number;
  pressureiosome: number;
  pressureiofull: number;
  pressurememorysome: number;
  pressurememoryfull: number;
}

/** PVE 9's pressure stall averages (avg10, percent) of a running guest's cgroup; undefined when stopped. */
export function pressureOf(vm: SimVm): Pressure | undefined {
  if (vm.status !== 'running') return undefined;
  const cpu = Math.round(vmCpu(vm) * 2000) / 100;
  return {
    pressurecpusome: cpu,
    pressurecpufull: 0,
    pressureiosome: Math.round(cpu * 25) / 100,
    pressureiofull: Math.round(cpu * 10) / 100,
    pressurememorysome: 0,
    pressurememoryfull: 0,
  };
}

/**
 * The HA sid of a guest (pve-ha-manager: `vm:<vmid>` for VMs, `ct:<vmid>` for containers; cluster/resources maps
 * type qemu to vm and lxc to ct).
 */
export const haSid = (vm: SimVm): string => `${isContainer(vm) ? 'ct' : 'vm'}:${vm.vmid}`;

/** `ha` of status/current: PVE::HA::Config::get_service_status of the guest's sid. */
export function haStatus(vm: SimVm, r: PveRelease): Record<string, unknown> {
  if (vm.hastate === undefined) return { managed: 0 };
  return r.haGroup ? { managed: 1, group: null, state: vm.hastate } : { managed: 1, state: vm.hastate };
}
