// Response shapes of the simulated PVE API, derived from the types proxmox-api generates from the
// official API schema, so a drift in shape fails the type check.
//
// One deliberate difference: the schema says `boolean` where PVE's JSON carries the integers 0/1
// (Perl has no booleans; `template`, `online`, `quorate`, `local`, ... arrive as 0 or 1). `Wire01`
// retypes those fields to what goes over the wire.
import type { Proxmox } from 'proxmox-api';

/** PVE's JSON boolean. */
export type Bool01 = 0 | 1;

/** `T` with the schema-boolean keys `K` retyped as 0/1. */
export type Wire01<T, K extends keyof T> = Omit<T, K> & { [P in K]?: Bool01 };

export type VersionWire = Proxmox.versionVersion;

export type ClusterResourceWire = Proxmox.clusterResourcesResources;

export type ClusterStatusWire = Wire01<Proxmox.clusterStatusGetStatus, 'local' | 'online' | 'quorate'>;

export type NodeIndexWire = Proxmox.nodesIndex;

export type QemuListWire = Proxmox.nodesQemuVm;

export type QemuStatusWire = Wire01<Proxmox.nodesQemuStatusCurrentVmStatus, 'agent' | 'spice'>;

export type QemuConfigWire = Wire01<
  Proxmox.nodesQemuConfigVmConfig,
  'template' | 'onboot' | 'protection' | 'acpi' | 'kvm' | 'numa' | 'tablet'
>;

export type SnapshotWire = Wire01<Proxmox.nodesQemuSnapshotSnapshotList, 'vmstate'>;

export type TaskListWire = Proxmox.nodesTasksNodeTasks;

export type TaskStatusWire = Proxmox.nodesTasksStatusReadTaskStatus;

export type TaskLogWire = Proxmox.nodesTasksLogReadTaskLog;

export type TicketWire = Proxmox.accessTicketCreateTicket;

/**
 * GET /cluster/nextid. The schema says integer, but PVE answers a JSON string ("104"):
 * clients must accept both.
 */
export type NextIdWire = string;

/** GET /nodes/{node}/status (untyped in the schema: `any`). */
export interface NodeStatusWire {
  cpu: number;
  wait: number;
  idle: number;
  uptime: number;
  loadavg: [string, string, string];
  kversion: string;
  pveversion: string;
  cpuinfo: { cpus: number; sockets: number; cores: number; model: string; mhz: string; hvm: string; flags: string };
  /** `available`: PVE 9 only. */
  memory: { total: number; used: number; free: number; available?: number };
  swap: { total: number; used: number; free: number };
  rootfs: { total: number; used: number; free: number; avail: number };
  ksm: { shared: number };
  'current-kernel': { sysname: string; release: string; version: string; machine: string };
  'boot-info': { mode: string; secureboot?: Bool01 };
}
