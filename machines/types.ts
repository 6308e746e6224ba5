// Domain types shared by every layer. Pure: no imports but types, no I/O.

export const ROLES = ['observer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Rank of a role: observer < operator < admin. */
export const ROLE_RANK: Readonly<Record<Role, number>> = { observer: 0, operator: 1, admin: 2 };

export const ACTIONS = [
  'deploy',
  'destroy',
  'start',
  'stop',
  'shutdown',
  'reboot',
  'suspend',
  'resume',
  'snapshot',
  'command',
  // Moves one guest to another node (online when it runs; HA-managed guests through HA).
  'migrate',
  // Rolls a guest back to one of its snapshots (the state since is lost).
  'rollback',
  // Deletes one snapshot of a guest.
  'delsnapshot',
  // Empties a node for maintenance: every guest on it migrated elsewhere (one gated unit, one child per guest).
  'drain',
  // Ends a node's maintenance set by a drain.
  'undrain',
  // Sets a guest's configuration (cores, memory, tags, NICs, cloud-init, a larger disk): a lab's member, by its lab.
  'configure',
] as const;
export type Action = (typeof ACTIONS)[number];

/** Actions only Overseer's own work makes (a lab configuring its members): never submitted by a person. */
export const INTERNAL_ACTIONS: ReadonlySet<Action> = new Set(['configure']);

/** Actions that change the platform. Every action here is mutating; reads never become requests. */
export const MUTATING_ACTIONS: ReadonlySet<Action> = new Set(ACTIONS);

/** Actions that take a running VM away from its users (production protection applies). */
export const DISRUPTIVE_ACTIONS: ReadonlySet<Action> = new Set([
  'destroy',
  'stop',
  'shutdown',
  'reboot',
  'suspend',
  'rollback',
]);

/** Actions that move a running guest (production protection asks a second person, no force needed). */
export const MOVING_ACTIONS: ReadonlySet<Action> = new Set(['migrate', 'drain']);

/** Actions counted by the destructive sliding window of the mass-operation brake. */
export const DESTRUCTIVE_ACTIONS: ReadonlySet<Action> = new Set(['destroy', 'rollback']);

/** Actions that target a node (`target.node`) rather than a guest. */
export const NODE_ACTIONS: ReadonlySet<Action> = new Set(['drain', 'undrain']);

/** Actions a selector (`target.selector`) may name: each member runs as its own request. */
export const BULK_ACTIONS: ReadonlySet<Action> = new Set([
  'start',
  'stop',
  'shutdown',
  'reboot',
  'suspend',
  'resume',
  'snapshot',
  'rollback',
  'delsnapshot',
  'destroy',
  'migrate',
  'command',
]);

/** Minimum role per action. */
export const ACTION_ROLE: Readonly<Record<Action, Role>> = {
  deploy: 'operator',
  destroy: 'admin',
  start: 'operator',
  stop: 'operator',
  shutdown: 'operator',
  reboot: 'operator',
  suspend: 'operator',
  resume: 'operator',
  snapshot: 'operator',
  // A command from the allow-list (gate.commands.allowed), run over SSH on the VM's guest.
  command: 'operator',
  migrate: 'operator',
  rollback: 'operator',
  delsnapshot: 'operator',
  drain: 'operator',
  undrain: 'operator',
  configure: 'operator',
};

/** QEMU virtual machine or LXC container: the same guest to Overseer, two API paths on Proxmox. */
export const GUEST_TYPES = ['qemu', 'lxc'] as const;
export type GuestType = (typeof GUEST_TYPES)[number];

/** A guest's type (records made before containers were tracked are VMs). */
export const guestTypeOf = (guest: { type?: GuestType | undefined }): GuestType => guest.type ?? 'qemu';

/** VM power state as the platform reports it. */
export type VmPowerStatus = 'running' | 'stopped' | 'paused' | 'unknown';

/** One VM as last seen on the platform. */
export interface VmInfo {
  cluster: string;
  vmid: number;
  /** qemu (a VM) or lxc (a container); absent means qemu. */
  type?: GuestType | undefined;
  name: string;
  node: string;
  status: VmPowerStatus;
  /** The resource pool it belongs to, if any. */
  pool?: string | undefined;
  /** PVE config lock (backup, clone, migrate, snapshot, ...), if any. */
  lock?: string | undefined;
  tags: string[];
  template: boolean;
  /** True when the VM is managed by Proxmox HA (hastate present on /cluster/resources). */
  haManaged: boolean;
  /** The HA service state (started, stopped, request_stop, disabled, ...) of an HA-managed VM. */
  haState?: string | undefined;
  cpus: number;
  /** bytes */
  maxmem: number;
  /** bytes */
  maxdisk: number;
  /** bytes */
  mem: number;
  /** fraction 0..1 of its cpus */
  cpu: number;
  /** seconds */
  uptime: number;
}

export type HostStatus = 'online' | 'offline' | 'unknown';

/** One node as last seen on the platform. */
export interface HostInfo {
  cluster: string;
  node: string;
  status: HostStatus;
  /** fraction 0..1 */
  cpu: number;
  maxcpu: number;
  /** bytes */
  mem: number;
  maxmem: number;
  /** bytes, the node's VM storage */
  disk: number;
  maxdisk: number;
}

export interface ClusterInfo {
  cluster: string;
  /** Did the last inventory read succeed? */
  reachable: boolean;
  quorate: boolean;
}

/** What a request targets. Deploy targets a cluster (and a node via params); the others a VM. */
export interface RequestTarget {
  cluster: string;
  vmid?: number | undefined;
  /**
   * Instead of one vmid: a selector expanded against the inventory at decision time (`@tag:web`, `@pool:lab1`,
   * `@node:pve2`, `@all`, with exclusions `@tag:web,-105`). See machines/gate/selector.ts.
   */
  selector?: string | undefined;
  /** The node a node action (drain, undrain) is about. */
  node?: string | undefined;
}

/** The `vmid` of a member that creates its guest. */
export const NEW_GUEST = 0;

/** One member of a bulk request (a selector's or a drain's): what its own child request runs. */
export interface BulkMember {
  /** The guest; NEW_GUEST for a deploy member (a lab's clone), whose VMID is allocated when it runs. */
  vmid: number;
  action: Action;
  params: RequestParams;
}

/**
 * Who asked, as the core resolved it from a credential: `id` is the API token's id (unique; names can repeat),
 * `person` the person behind it (the token's own id unless an admin linked the token to another's person).
 * Requests recorded before persons existed have neither `name` nor `person`: their id stands for both.
 */
export interface Requester {
  id: string;
  role: Role;
  name?: string | undefined;
  person?: string | undefined;
}

/** The Overseer's own reserved identity: no token can have it, no name can claim it. */
export const OVERSEER_ID = 'overseer';

/** Who the Overseer is when it acts by itself: an operator, so its requests meet the gate like anyone's. */
export const OVERSEER_IDENTITY: Requester = {
  id: OVERSEER_ID,
  role: 'operator',
  name: OVERSEER_ID,
  person: OVERSEER_ID,
};

/** The person behind a requester (the two-person rule compares these). */
export const personOf = (r: Requester): string => r.person ?? r.id;

export interface DeployParams {
  template: number;
  node: string;
  name: string;
  count?: number | undefined;
  full?: boolean | undefined;
  /** The PVE pool the clones join (a lab's pool). */
  pool?: string | undefined;
}

/** A guest's configuration as a `configure` request sets it (what is absent is left as it is). */
export interface ConfigureParams {
  cores?: number | undefined;
  /** MiB */
  memory?: number | undefined;
  tags?: string[] | undefined;
  /** `netN` (and, for a VM, `ipconfigN`) by index. */
  nics?: Array<{ index: number; bridge: string; tag?: number; ip?: string; gw?: string }> | undefined;
  ciuser?: string | undefined;
  sshKeys?: string[] | undefined;
  nameserver?: string | undefined;
  searchdomain?: string | undefined;
  /** MiB the boot disk grows to (never shrinks). */
  disk?: number | undefined;
}

export interface SnapshotParams {
  snapname: string;
  description?: string | undefined;
}

/** A shell command run over SSH on the target VM's guest; it must be in gate.commands.allowed. */
export interface CommandParams {
  command: string;
}

export interface MigrateParams {
  /** The node the guest moves to. */
  target: string;
  /** Live migration of a running guest (default: true when it runs). A container is restarted instead. */
  online?: boolean | undefined;
  /** Also move local disks (QEMU `with-local-disks`). */
  withLocalDisks?: boolean | undefined;
}

/** rollback and delsnapshot name an existing snapshot. */
export interface SnapshotRefParams {
  snapname: string;
}

export interface DrainParams {
  /** How many guests move at once (default config.execution.bulkConcurrency). */
  concurrency?: number | undefined;
}

export type RequestParams = Record<string, unknown>;

/** A request as submitted (after the requester is known from the token, never from the body). */
export interface RequestSpec {
  id: string;
  action: Action;
  target: RequestTarget;
  params: RequestParams;
  force: boolean;
  requester: Requester;
  /** epoch ms, from the injected clock */
  submittedAt: number;
  /** Set for requests the Overseer makes itself (remediation). */
  origin?: 'human' | 'overseer' | undefined;
  /**
   * A member of a bulk request: the id of the bulk request whose decision covers it. Never taken from a payload:
   * only the runtime creates such requests, and the gate verifies the parent lists this member.
   */
  parent?: string | undefined;
}

export type CheckOutcome = 'pass' | 'deny' | 'approval' | 'skipped';

export const CHECK_NAMES = [
  'schema',
  'authorization',
  'target',
  'maintenance',
  'production',
  'massOperation',
  'capacity',
  'conflicts',
  'platformHealth',
  'ha',
  'snapshotName',
  'backup',
] as const;
export type CheckName = (typeof CHECK_NAMES)[number] | (string & {});

/** The recorded result of one gating check: explains a decision. */
export interface CheckResult {
  check: CheckName;
  outcome: CheckOutcome;
  reason: string;
}

/** `nothing_to_do`: the VM is already where the request would take it (a stop of a stopped VM); nothing runs. */
export type Decision = 'approved' | 'denied' | 'awaiting_approval' | 'nothing_to_do';

export interface GateResult {
  decision: Decision;
  checks: CheckResult[];
  /** The reasons of every check that did not pass (deny or approval). */
  reasons: string[];
  /** A bulk request's expansion (selector members, or a drain's moves), as decided. */
  members?: BulkMember[] | undefined;
}

export const REQUEST_STATUSES = [
  'received',
  'validating',
  'gating',
  'denied',
  'awaiting_approval',
  'approved',
  'queued',
  'executing',
  'completed',
  'failed',
  'cancelled',
  'expired',
  'nothing_to_do',
] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/** The statuses of a request before the gate has spoken; every other status is a decision or what followed it. */
export const UNDECIDED_REQUEST_STATUSES: ReadonlySet<string> = new Set<RequestStatus>([
  'received',
  'validating',
  'gating',
]);

export const TERMINAL_REQUEST_STATUSES: ReadonlySet<RequestStatus> = new Set([
  'denied',
  'completed',
  'failed',
  'cancelled',
  'expired',
  'nothing_to_do',
]);

export interface StatusChange {
  status: RequestStatus;
  at: number;
  by?: string | undefined;
  note?: string | undefined;
}

/** VM actor key: `<cluster>/<vmid>`. */
export const vmKey = (cluster: string, vmid: number): string => `${cluster}/${vmid}`;
/** Host actor key: `<cluster>/<node>`. */
export const hostKey = (cluster: string, node: string): string => `${cluster}/${node}`;

/** Actor ids used in logs, snapshots and NATS addresses. */
export const actorId = {
  vm: (cluster: string, vmid: number): string => `vm:${cluster}/${vmid}`,
  host: (cluster: string, node: string): string => `host:${cluster}/${node}`,
  request: (id: string): string => `req:${id}`,
  loop: (name: string): string => `loop:${name}`,
  overseer: 'overseer',
} as const;

/** Limits the gate applies. Loaded and validated from the config file (actors/config). */
export interface GateConfig {
  production: {
    /** A VM carrying any of these tags is production. */
    tags: string[];
    /** Explicit production VMs as `<cluster>/<vmid>`. */
    vms: string[];
    /** With force, a disruptive action on a production VM also needs a second person's approval. */
    requireApproval: boolean;
  };
  massOperation: {
    /** A request touching more VMs than this is braked. */
    maxVmsPerRequest: number;
    /** More destructive operations than this within the window are braked. */
    maxDestructivePerWindow: number;
    windowSeconds: number;
    /** What the brake does: deny, or send the request for approval. */
    onExceed: 'deny' | 'approval';
  };
  deploy: {
    /** Most clones one deploy request may create. */
    maxCount: number;
    /** Most VMs (including templates) a cluster may hold. */
    maxVmsPerCluster: number;
  };
  capacity: {
    /** Fraction of a node's memory kept free after a deploy. */
    memReserveFraction: number;
    /** Fraction of a node's storage kept free after a deploy. */
    diskReserveFraction: number;
    /** A node busier than this CPU fraction takes no new VMs. */
    maxCpuLoad: number;
  };
  /** HA-managed VMs: deny, or send for approval (to be routed through HA by a human). */
  ha: 'deny' | 'approval';
  commands: {
    /** The only shell commands a `command` request may run on a guest (exact strings). */
    allowed: string[];
  };
  /**
   * Backup freshness: destroy and rollback of a guest carrying `tag` (or any guest when `tag` is absent) need a
   * backup newer than `maxAgeHours`. Empty: no backup check.
   */
  backup?: Array<{ tag?: string | undefined; maxAgeHours: number }> | undefined;
  /** How long a request may wait for approval before it expires. */
  approvalTimeoutSeconds: number;
}
