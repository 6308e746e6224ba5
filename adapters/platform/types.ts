// The platform interface: everything Overseer asks of a virtualization platform.
// Implemented by the Proxmox adapter (adapters/proxmox), which also talks to the PVE simulator.
import type { GuestType, HostInfo, VmInfo, VmPowerStatus } from '../../machines/types';

export type { GuestType };

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
  /** The template's type: qemu (default) or lxc (an LXC clone takes `hostname`, not `name`). */
  type?: GuestType | undefined;
}

export interface MigrateOptions {
  /** The node the guest moves to. */
  target: string;
  /** Live migration (QEMU `online`; for a container `restart`: stopped, moved, started again). */
  online?: boolean | undefined;
  /** QEMU `with-local-disks`. */
  withLocalDisks?: boolean | undefined;
  type?: GuestType | undefined;
}

export interface DestroyOptions {
  type?: GuestType | undefined;
  /** PVE `purge`: also remove the guest from HA resources, backup and replication jobs (HA guests need it). */
  purge?: boolean | undefined;
}

/** A scheduled backup job (GET /cluster/backup). */
export interface BackupJob {
  id: string;
  enabled: boolean;
  schedule?: string | undefined;
  storage?: string | undefined;
  /** `all: true`, or the VMIDs it names (`vmid`), or a pool. */
  all: boolean;
  vmids: number[];
  pool?: string | undefined;
}

/** One backup archive on a storage (GET /nodes/{node}/storage/{storage}/content?content=backup). */
export interface BackupVolume {
  volid: string;
  storage: string;
  node: string;
  vmid: number;
  /** epoch seconds, as PVE reports */
  ctime: number;
  /** vma.zst, tar.zst, pbs-vm, pbs-ct, ... */
  format?: string | undefined;
  size?: number | undefined;
}

/** Backup jobs and archives of a cluster; `failedStorages` names storages that could not be read. */
export interface BackupListing {
  jobs: BackupJob[];
  volumes: BackupVolume[];
  failedStorages: string[];
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

/** One snapshot of a guest, as GET /nodes/{node}/{qemu|lxc}/{vmid}/snapshot lists it (PVE's `current` entry left out). */
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
  // Every guest call takes the guest's type last (default qemu): /nodes/{node}/qemu/... or /nodes/{node}/lxc/...
  clone(node: string, template: number, newid: number, options: CloneOptions): Promise<TaskRef>;
  /** suspend and resume are QEMU only. */
  power(node: string, vmid: number, action: PowerAction, type?: GuestType): Promise<TaskRef>;
  snapshot(node: string, vmid: number, snapname: string, description?: string, type?: GuestType): Promise<TaskRef>;
  /** The guest's snapshots (without the `current` pseudo-snapshot). Throws when they cannot be read. */
  listSnapshots(node: string, vmid: number, type?: GuestType): Promise<SnapshotInfo[]>;
  rollback(node: string, vmid: number, snapname: string, type?: GuestType): Promise<TaskRef>;
  deleteSnapshot(node: string, vmid: number, snapname: string, type?: GuestType): Promise<TaskRef>;
  /** The guest's power state now (GET .../status/current). Throws when it cannot be read. */
  vmStatus(node: string, vmid: number, type?: GuestType): Promise<VmPowerStatus>;
  /** Deletes the guest and its disks (destroy-unreferenced-disks). */
  destroy(node: string, vmid: number, options?: DestroyOptions): Promise<TaskRef>;
  /**
   * Starts a migration. For an HA-managed guest PVE answers a `hamigrate` task that only hands the move to the HA
   * manager; the move itself is a second task (`qmigrate`/`vzmigrate`) on the source node, which the caller finds
   * with recentTasks and waits for.
   */
  migrate(node: string, vmid: number, options: MigrateOptions): Promise<TaskRef>;
  /** Backup jobs and every backup archive on the cluster's backup storages (vzdump and PBS). */
  listBackups(): Promise<BackupListing>;
  taskStatus(task: TaskRef): Promise<TaskStatus>;
  /** Polls until `status=stopped`; resolves only on `exitstatus=OK`, else throws TaskFailedError. */
  waitTask(task: TaskRef, options: WaitOptions): Promise<TaskStatus>;
  /** Recent tasks on a node for one guest (to adopt a task issued before a crash instead of issuing it again). */
  recentTasks(node: string, vmid: number, since: number): Promise<TaskStatus[]>;
  /** A free VMID (GET /cluster/nextid). */
  nextId(): Promise<number>;
}
