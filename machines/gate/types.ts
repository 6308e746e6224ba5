// Types of the request gate: what a check reads, and what a check is.
import type { MaintenanceWindow } from '../maintenance';
import type {
  Action,
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
}

/** A VM's snapshot names, read from the platform, or the error that kept them from being read. */
export type SnapshotListing = { names: readonly string[] } | { error: string };

/** What one check says: its outcome and a sentence explaining it. */
export type CheckVerdict = Omit<CheckResult, 'check'>;

/** One named, pure, synchronous gating check. */
export interface GateCheck {
  name: CheckName;
  run(input: GateInput): CheckVerdict;
}
