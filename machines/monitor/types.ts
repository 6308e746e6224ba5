// What the monitor looks at (a snapshot of the world), what it finds (conditions) and what it remembers between
// cycles. Pure data: no I/O, no clock (the cycle's time is `now`).
import type { Action, ClusterInfo, HostInfo, RequestStatus, RequestTarget, VmInfo } from '../types';

export type Severity = 'info' | 'warning' | 'critical';

export const CONDITION_KINDS = [
  'vm-unexpected-stop',
  'vm-vanished',
  'vm-crash-loop',
  'vm-lock-stuck',
  'vm-mem-high',
  'task-stuck',
  'task-failed',
  'host-offline',
  'host-degraded',
  'host-cpu-high',
  'host-mem-high',
  'host-disk-high',
  'cluster-unreachable',
  'cluster-no-quorum',
  'guest-unreachable',
  'guest-host-key-changed',
  'guest-disk-high',
  'guest-load-high',
  'guest-unit-failed',
  'request-stuck',
  // A lab's member stopped or vanished with no request of the lab behind it (subject `lab:<cluster>/<name>`).
  'lab-drift',
] as const;
export type ConditionKind = (typeof CONDITION_KINDS)[number];

/** Something wrong the monitor found. The same kind on the same subject is the same condition (dedupeKey). */
export interface Condition {
  kind: ConditionKind;
  /** The actor it is about: `vm:lab/101`, `host:lab/pve2`, `cluster:lab`, `req:<id>`. */
  subject: string;
  /** `<kind>:<subject>`: one open incident per key. */
  dedupeKey: string;
  severity: Severity;
  /** A human sentence. */
  detail: string;
  data?: Readonly<Record<string, unknown>> | undefined;
}

/** A VM as its actor knows it. `state` is the VM actor's state name. */
export interface MonitoredVm {
  info: VmInfo;
  state: string;
  lastOperation?: { requestId: string; action: Action; ok: boolean } | undefined;
  /** epoch ms since when the VM actor has been in `state` */
  stateSince?: number | undefined;
}

/** A node as its actor knows it. `state` is the host actor's state (`online`, `degraded.overloaded`, `offline`, ...). */
export interface MonitoredHost {
  info: HostInfo;
  state: string;
}

export interface MonitoredRequest {
  id: string;
  action: Action;
  status: RequestStatus;
  /** epoch ms since when the request has been in `status` */
  since: number;
  target: RequestTarget;
}

/** A platform task (from the node's task list). */
export interface MonitoredTask {
  upid: string;
  cluster: string;
  node: string;
  /** PVE task type: qmstart, qmclone, vzdump, ... */
  type: string;
  vmid?: number | undefined;
  /** epoch ms */
  startedAt: number;
  status: 'running' | 'stopped';
  /** `OK`, `WARNINGS: n` or an error message, once stopped. */
  exitstatus?: string | undefined;
}

/** An issue a VM actor emitted since the last cycle. */
export interface VmIssueRecord {
  kind: 'unexpected-stop' | 'vanished';
  cluster: string;
  vmid: number;
  at: number;
  detail?: string | undefined;
}

/** One SSH check of a guest or host. `id` is the actor id it is about (`vm:lab/101`, `host:lab/pve1`). */
export interface SshResult {
  id: string;
  reachable: boolean;
  hostKeyChanged?: boolean | undefined;
  /** 1-minute load average */
  load?: number | undefined;
  /** highest used fraction 0..1 over the guest's file systems */
  disk?: number | undefined;
  /** systemd units and their active state (`active`, `failed`, ...) */
  units?: readonly { name: string; active: string }[] | undefined;
  error?: string | undefined;
}

/** A usage level that raises a warning above `warning` and a critical condition above `critical` (fractions). */
export interface UsageThreshold {
  warning: number;
  critical: number;
}

export interface MonitorThresholds {
  hostCpu: UsageThreshold;
  hostMem: UsageThreshold;
  hostDisk: UsageThreshold;
  vmMem: UsageThreshold;
  guestDisk: UsageThreshold;
  /** 1-minute load average per CPU */
  guestLoadPerCpu: UsageThreshold;
  /** A usage condition clears only once usage is this far below its warning level (no flapping). */
  hysteresis: number;
  /** Unexpected stops of one VM within `crashLoopWindowMs` that make a crash loop. */
  crashLoopStops: number;
  crashLoopWindowMs: number;
  /** A PVE lock held longer than this is stuck. */
  lockMaxMs: number;
  /** A backup's lock ('backup') is expected to last as long as the backup: warned about only after this. */
  backupLockMaxMs: number;
  /** A platform task running longer than this is stuck. */
  taskMaxMs: number;
  /** A request executing longer than this is stuck. */
  requestExecutingMaxMs: number;
  /** Failed SSH checks in a row before a guest is unreachable. */
  unreachableAfter: number;
}

/** What the SSH checks of one guest (or host) showed so far. */
export interface GuestMemory {
  /** Failed checks in a row (a host key mismatch is not a failure to reach it). */
  failures: number;
  /** The last check saw a host key other than the pinned one. */
  hostKeyChanged: boolean;
  /** The error of the last failed check. */
  error?: string | undefined;
  /** The last check that reached it (its load, disk and units). */
  measured?: SshResult | undefined;
}

/** What the monitor remembers between cycles. Plain JSON (it lives in the monitor loop's snapshot). */
export interface MonitorMemory {
  /** Dedupe keys of the conditions present after the last cycle. */
  present: string[];
  /** Unexpected-stop times per VM key (`<cluster>/<vmid>`), inside the crash-loop window, oldest first. */
  stops: Record<string, number[]>;
  /** Unexpected stops not yet followed by the VM running again, per VM key. */
  stopped: Record<string, { at: number; detail?: string | undefined }>;
  /** Since when each VM key has held its current lock. */
  locks: Record<string, { lock: string; since: number }>;
  /** Per SSH-checked actor id: what its SSH checks showed. */
  guests: Record<string, GuestMemory>;
}

/** The world as the monitor sees it in one cycle. */
export interface MonitorInput {
  /** epoch ms of this cycle, from the injected clock */
  now: number;
  /** by VM key `<cluster>/<vmid>` */
  vms: ReadonlyMap<string, MonitoredVm>;
  /** by host key `<cluster>/<node>` */
  hosts: ReadonlyMap<string, MonitoredHost>;
  /** by cluster name */
  clusters: ReadonlyMap<string, ClusterInfo>;
  requests: readonly MonitoredRequest[];
  tasks?: readonly MonitoredTask[] | undefined;
  /** Issues VM actors emitted since the last cycle. */
  vmIssues: readonly VmIssueRecord[];
  /** SSH checks made since the last cycle (a guest not checked keeps its last result). */
  sshResults?: readonly SshResult[] | undefined;
  thresholds: MonitorThresholds;
}

export interface MonitorResult {
  /** Every condition present now. */
  conditions: Condition[];
  /** Dedupe keys present last cycle and absent now. */
  cleared: string[];
  memory: MonitorMemory;
}

/** What a detector sees: the input, the memory carried in, and the memory it is building. */
export interface DetectorScope {
  input: MonitorInput;
  before: MonitorMemory;
  /** Was this dedupe key present after the last cycle? */
  wasPresent(dedupeKey: string): boolean;
}

/** The memory a detector owns (each field of MonitorMemory but `present` belongs to exactly one detector). */
export type DetectorMemory = Partial<Omit<MonitorMemory, 'present'>>;

/** One family of checks over the snapshot. */
export type Detector = (scope: DetectorScope) => { conditions: Condition[]; memory?: DetectorMemory };
