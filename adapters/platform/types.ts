// The platform interface: everything Overseer asks of a virtualization platform.
// Implemented by the Proxmox adapter (adapters/proxmox), which also talks to the PVE simulator.
import type { HostInfo, VmInfo, VmPowerStatus } from '../../machines/types';

/** A complete or partial read of one cluster. */
export interface Inventory {
  cluster: string;
  /** epoch ms (injected clock) */
  fetchedAt: number;
  /** From /cluster/status. */
  quorate: boolean;
  /**
   * True only when every part of the answer was read and is consistent. A partial answer
   * (a node's VMs missing, a section failing) is `complete: false` and never removes anything.
   */
  complete: boolean;
  vms: VmInfo[];
  hosts: HostInfo[];
  /** Nodes whose VMs could not be read (offline, 595/596). Their VMs are `unknown`, not gone. */
  unreachableNodes: string[];
}

export type PowerAction = 'start' | 'stop' | 'shutdown' | 'reboot' | 'suspend' | 'resume';

export interface CloneOptions {
  name: string;
  /** Full clone (default) or linked clone. */
  full: boolean;
  /** Node the clone lands on; default the template's node. */
  target?: string | undefined;
}

/** A task started on the platform. */
export interface TaskRef {
  upid: string;
  node: string;
}

export interface TaskStatus {
  upid: string;
  node: string;
  type: string;
  /** VMID (or other object id) the task works on. */
  id?: string | undefined;
  /** Who issued it: user@realm, or user@realm!token for an API token (as in the UPID). */
  user?: string | undefined;
  status: 'running' | 'stopped';
  /** 'OK' on success; an error text otherwise. Present once stopped. */
  exitstatus?: string | undefined;
  /** epoch seconds, as PVE reports */
  starttime: number;
  endtime?: number | undefined;
}

/** One snapshot of a VM, as GET /nodes/{node}/qemu/{vmid}/snapshot lists it (PVE's `current` entry left out). */
export interface SnapshotInfo {
  name: string;
  description?: string | undefined;
  /** epoch seconds */
  snaptime?: number | undefined;
  parent?: string | undefined;
}

export interface WaitOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  onProgress?: ((status: TaskStatus) => void) | undefined;
}

export interface Platform {
  readonly cluster: string;
  /** Reads /cluster/resources and /cluster/status. Throws PlatformUnavailableError when the cluster can't be read. */
  inventory(): Promise<Inventory>;
  clone(node: string, template: number, newid: number, options: CloneOptions): Promise<TaskRef>;
  power(node: string, vmid: number, action: PowerAction): Promise<TaskRef>;
  snapshot(node: string, vmid: number, snapname: string, description?: string): Promise<TaskRef>;
  /** The VM's snapshots (without the `current` pseudo-snapshot). Throws when they cannot be read. */
  listSnapshots(node: string, vmid: number): Promise<SnapshotInfo[]>;
  /** The VM's power state now (GET /nodes/{node}/qemu/{vmid}/status/current). Throws when it cannot be read. */
  vmStatus(node: string, vmid: number): Promise<VmPowerStatus>;
  /** Deletes the VM and its disks (purge). */
  destroy(node: string, vmid: number): Promise<TaskRef>;
  taskStatus(task: TaskRef): Promise<TaskStatus>;
  /** Polls until `status=stopped`; resolves only on `exitstatus=OK`, else throws TaskFailedError. */
  waitTask(task: TaskRef, options: WaitOptions): Promise<TaskStatus>;
  /** Recent tasks on a node for one VM (to adopt a task issued before a crash instead of issuing it again). */
  recentTasks(node: string, vmid: number, since: number): Promise<TaskStatus[]>;
  /** A free VMID (GET /cluster/nextid). */
  nextId(): Promise<number>;
}
