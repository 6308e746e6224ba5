// Types of the request gate: what a check reads, and what a check is.
import type { MaintenanceWindow } from '../maintenance';
import type {
  Action,
  BulkMember,
  CheckName,
  CheckResult,
  ClusterInfo,
  GateConfig,
  HostInfo,
  RequestSpec,
  VmInfo,
  VmPowerStatus,
} from '../types';

/** Everything the gate looks at to decide one request. Time comes in as `now`; nothing is read from outside. */
export interface GateInput {
  request: RequestSpec;
  /** epoch ms */
  now: number;
  config: GateConfig;
  /** key `${cluster}/${vmid}` (vmKey) */
  vms: ReadonlyMap<string, VmInfo>;
  /** key `${cluster}/${node}` (hostKey) */
  hosts: ReadonlyMap<string, HostInfo>;
  /** key: cluster name */
  clusters: ReadonlyMap<string, ClusterInfo>;
  /** VM key -> {id, action} of another request on that VM that is active (awaiting approval, approved, queued, executing). */
  activeRequests: ReadonlyMap<string, { id: string; action: Action }>;
  /** submittedAt (ms) of earlier destructive requests that were approved or are awaiting approval. */
  recentDestructive: readonly number[];
  /** VM keys `${cluster}/${vmid}` that have an SSH target (a `command` needs one); none when undefined. */
  sshTargets?: ReadonlySet<string> | undefined;
  /**
   * VM key -> the names of its snapshots as the platform listed them just before the checks ran, or why they could
   * not be listed. Gathered for snapshot requests only (the snapshotName check); absent otherwise.
   */
  snapshots?: ReadonlyMap<string, SnapshotListing> | undefined;
  /**
   * VM key -> its power state as the platform reported it just before the checks ran (read when the inventory says
   * the request has nothing to do, to confirm it; `unknown` when the read failed). Takes precedence over `vms`.
   */
  powerStatus?: ReadonlyMap<string, VmPowerStatus> | undefined;
  /** Maintenance windows (the maintenance check keeps those in force at `now`); none when undefined. */
  maintenance?: readonly MaintenanceWindow[] | undefined;
  /**
   * VM key -> when its newest backup was made (epoch ms; undefined: it has none), or why backups could not be read.
   * Gathered for destroy and rollback of guests a `gate.backup` rule covers (the backup check); absent otherwise.
   */
  backups?: ReadonlyMap<string, BackupFact> | undefined;
  /**
   * For a bulk member (request.parent set): the parent's recorded members, as the runtime read them from the parent's
   * live record. The gate passes the member only when the parent lists it with the same action and parameters.
   */
  parentMembers?: readonly BulkMember[] | undefined;
}

/** The newest backup of a guest, or why it could not be read. */
export type BackupFact = { newestAt: number | undefined } | { error: string };

/** A VM's snapshot names, read from the platform, or the error that kept them from being read. */
export type SnapshotListing = { names: readonly string[] } | { error: string };

/** What one check says: its outcome and a sentence explaining it. */
export type CheckVerdict = Omit<CheckResult, 'check'>;

/**
 * A bulk request as one unit (machines/gate/bulk.ts): its members after those with nothing to do were left out, and
 * the way the ordinary checks judge them one by one.
 */
export interface BulkUnit {
  /** `@tag:web,-105` or `drain of node lab/pve2`: how sentences name the request. */
  label: string;
  members: readonly BulkMember[];
  /** `101 (web-1)`: how sentences name a member. */
  memberLabel(member: BulkMember): string;
  /** Runs a check on every member (each on its own member request), the worst outcome recorded. */
  eachMember(check: GateCheck): CheckVerdict;
}

/** One named, pure, synchronous gating check. */
export interface GateCheck {
  name: CheckName;
  run(input: GateInput): CheckVerdict;
  /**
   * How the check judges a bulk request as a whole (input is the bulk request's own). Without it the check runs on
   * every member and its worst outcome is recorded (unit.eachMember).
   */
  runUnit?(input: GateInput, unit: BulkUnit): CheckVerdict;
}
