// The simulator's model: seed (input), state (live, for tests), tasks, oplog and options.
import type { Clock } from '../clock';
import type {
  SimBackup,
  SimBackupJob,
  SimBackupJobSeed,
  SimBackupSeed,
  SimStorage,
  SimStorageSeed,
} from './backup-types';
import type { SimPool, SimPoolSeed, SimSdn } from './sdn-types';

/** A node as seeded. Sizes in bytes. */
export interface SimNodeSeed {
  name: string;
  ip?: string | undefined;
  maxcpu: number;
  maxmem: number;
  /** Size of the node's VM storage (ZFS pool backing `local` and `local-zfs`). */
  maxdisk: number;
  online?: boolean | undefined;
}

export interface SimSnapshotSeed {
  name: string;
  description?: string | undefined;
  /** epoch seconds */
  snaptime?: number | undefined;
  vmstate?: boolean | undefined;
}

/** A VM as seeded. Sizes in bytes. */
export interface SimVmSeed {
  vmid: number;
  /** qemu (default) or lxc: a container, served under /nodes/{node}/lxc/... */
  type?: 'qemu' | 'lxc' | undefined;
  /** The resource pool it belongs to. */
  pool?: string | undefined;
  name: string;
  node: string;
  status: 'running' | 'stopped' | 'paused';
  template?: boolean | undefined;
  tags?: string[] | undefined;
  cores: number;
  maxmem: number;
  maxdisk: number;
  /** PVE config lock (backup, clone, migrate, snapshot, ...). */
  lock?: string | undefined;
  /** HA state (started, stopped, ...) for HA-managed VMs; absent otherwise. */
  hastate?: string | undefined;
  /** Fraction 0..1 of its cores in use while running. */
  cpuLoad?: number | undefined;
  /** Fraction 0..1 of its memory in use while running. */
  memUsage?: number | undefined;
  description?: string | undefined;
  protection?: boolean | undefined;
  snapshots?: SimSnapshotSeed[] | undefined;
  /** The template a linked clone's disk is based on. */
  linkedFrom?: number | undefined;
  /** How long it has been running at seed time (seconds). */
  uptime?: number | undefined;
  /** Backup archives it already has. */
  backups?: SimBackupSeed[] | undefined;
  /** Whether a QEMU guest agent runs in the guest (default true); false: agent/ping never answers. */
  agent?: boolean | undefined;
  /** Seconds after the guest starts before its agent answers (default AGENT_READY_S). */
  agentDelay?: number | undefined;
}

export interface SimSeed {
  cluster: string;
  /** pve-manager version reported by /version (default 8.2.4). */
  version?: string | undefined;
  /** The node the API is served from (`local: 1` in /cluster/status). Default: the first node. */
  localNode?: string | undefined;
  nodes: SimNodeSeed[];
  vms: SimVmSeed[];
  /** Storages besides `local` and `local-zfs` (e.g. a Proxmox Backup Server). */
  storages?: SimStorageSeed[] | undefined;
  /** Scheduled backup jobs (GET /cluster/backup). */
  backupJobs?: SimBackupJobSeed[] | undefined;
  /** Resource pools (user.cfg), besides the ones guests name (which exist without being listed here). */
  pools?: SimPoolSeed[] | undefined;
}

export interface SimNode {
  name: string;
  nodeid: number;
  ip: string;
  maxcpu: number;
  maxmem: number;
  maxdisk: number;
  online: boolean;
  /** clock ms */
  bootedAt: number;
  /** Host's own use besides VMs. */
  baseMem: number;
  baseDisk: number;
  baseCpu: number;
}

export interface SimSnapshot {
  name: string;
  description: string;
  snaptime: number;
  vmstate: boolean;
  parent?: string | undefined;
}

export interface SimVm {
  vmid: number;
  /** qemu: a VM (/nodes/{node}/qemu/...); lxc: a container (/nodes/{node}/lxc/...). */
  type: 'qemu' | 'lxc';
  pool?: string | undefined;
  name: string;
  node: string;
  /** Power state of the QEMU process. A paused VM is `running` with `paused: true` (qmpstatus paused). */
  status: 'running' | 'stopped';
  paused: boolean;
  template: boolean;
  tags: string[];
  lock?: string | undefined;
  hastate?: string | undefined;
  cores: number;
  maxmem: number;
  maxdisk: number;
  cpuLoad: number;
  memUsage: number;
  description?: string | undefined;
  protection: boolean;
  snapshots: SimSnapshot[];
  /** Name of the snapshot the current state descends from. */
  parentSnapshot?: string | undefined;
  linkedFrom?: number | undefined;
  /** clock ms the QEMU process started (running VMs). */
  startedAt?: number | undefined;
  pid?: number | undefined;
  /** epoch seconds of creation (meta ctime). */
  ctime: number;
  /**
   * Config options beyond the modelled fields, as PVE writes them (net0, ipconfig0, ciuser, sshkeys, agent, ...).
   * Undefined until the config is first changed: until then the guest has its defaults (guest-options.ts).
   */
  options?: Record<string, string> | undefined;
  /** The [PENDING] section: values set while the guest ran that apply at its next start (modelled keys too). */
  pending?: Record<string, string> | undefined;
  /** Options whose deletion is pending (`delete` in the [PENDING] section). */
  pendingDelete?: string[] | undefined;
  /** False: no guest agent runs inside (agent/ping never answers). Default true. */
  guestAgent?: boolean | undefined;
  /** Milliseconds after start before the guest agent answers (default AGENT_READY_S seconds). */
  agentDelayMs?: number | undefined;
}

export type TaskType =
  | 'qmstart'
  | 'qmstop'
  | 'qmshutdown'
  | 'qmreboot'
  | 'qmsuspend'
  | 'qmresume'
  | 'qmclone'
  | 'qmsnapshot'
  | 'qmdestroy'
  | 'hastart'
  | 'hastop'
  | 'vzstart'
  | 'vzstop'
  | 'vzshutdown'
  | 'vzreboot'
  | 'vzclone'
  | 'vzsnapshot'
  | 'vzdestroy'
  | 'qmigrate'
  | 'vzmigrate'
  | 'hamigrate'
  | 'qmrollback'
  | 'vzrollback'
  | 'qmdelsnapshot'
  | 'vzdelsnapshot'
  | 'vzdump'
  | 'qmconfig'
  | 'resize'
  | 'reloadnetworkall';

export interface SimTask {
  upid: string;
  node: string;
  pid: number;
  pstart: number;
  /** epoch seconds */
  starttime: number;
  type: string;
  id: string;
  user: string;
  status: 'running' | 'stopped';
  /** 'OK' or the error text, once stopped. */
  exitstatus?: string | undefined;
  /** epoch seconds, once stopped */
  endtime?: number | undefined;
  log: string[];
}

export interface SimState {
  cluster: string;
  version: string;
  localNode: string;
  quorate: boolean;
  /** corosync config version */
  configVersion: number;
  nodes: Map<string, SimNode>;
  vms: Map<number, SimVm>;
  tasks: Map<string, SimTask>;
  /** Tasks per node, oldest first. */
  tasksByNode: Map<string, SimTask[]>;
  /** Storage configuration (/etc/pve/storage.cfg), `local` and `local-zfs` first. */
  storages: SimStorage[];
  /** Backup archives on every storage. */
  backups: SimBackup[];
  /** Scheduled backup jobs (/etc/pve/jobs.cfg). */
  backupJobs: SimBackupJob[];
  /** SDN: the edited configuration, the applied (running) one and what each node's network has. */
  sdn: SimSdn;
  /** Resource pools of user.cfg (membership is SimVm.pool). */
  pools: Map<string, SimPool>;
}

/** One thing that happened to the platform: an accepted operation, its task result, a crash. */
export interface OpLogEntry {
  /** clock ms */
  at: number;
  /**
   * clone, start, stop, shutdown, reboot, suspend, resume, snapshot, destroy, crash, config, resize; for cluster
   * objects sdn-zone-create, sdn-vnet-delete, ..., sdn-apply, pool-create, pool-update, pool-delete.
   */
  op: string;
  node: string;
  /** The guest; 0 for an operation on a cluster object (SDN, pools), which `id` names. */
  vmid: number;
  /** The cluster object an operation without a guest works on (zone, vnet, subnet or pool id). */
  id?: string | undefined;
  upid?: string | undefined;
  /** 'started' when accepted; 'OK' or the error text when the task ends; 'crashed' for crashes. */
  result: string;
  user?: string | undefined;
  /** The User-Agent of the HTTP call that started it (not a PVE field: the test's view of which client acted). */
  agent?: string | undefined;
  /** Operation parameters worth knowing (newid, snapname, ...). */
  detail?: Record<string, unknown> | undefined;
}

export type SimRole = 'admin' | 'audit';

export interface SimToken {
  /** USER@REALM!TOKENNAME */
  tokenid: string;
  /** lowercase UUID */
  secret: string;
  /** admin (default) may do everything; audit may only read (403 on operations). */
  role?: SimRole | undefined;
}

export interface SimUser {
  userid: string;
  password: string;
  role?: SimRole | undefined;
}

export interface SimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number | undefined;
  host?: '127.0.0.1' | undefined;
  /** PEM server certificate and key for HTTPS; false (default) serves plain HTTP. */
  tls?: { cert: string; key: string } | false | undefined;
  clock: Clock;
  seed?: SimSeed | undefined;
  /** A state to continue from (e.g. restored from disk with restoreState); the seed is then not used. */
  state?: SimState | undefined;
  /** Called after every change of the platform's state (a task started or ended, a crash, a lock set). */
  onChange?: (() => void) | undefined;
  tokens?: SimToken[] | undefined;
  users?: SimUser[] | undefined;
  /** Milliseconds of clock time per task type (qmstart, qmclone, ...). */
  taskDurations?: Partial<Record<string, number>> | undefined;
  /** How long a worker waits for a VM's config file lock before "got timeout" (PVE: 10 s). */
  lockWaitMs?: number | undefined;
}
