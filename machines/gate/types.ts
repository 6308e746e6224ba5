// Types of the request gate: what a check reads, and what a check is.
import type { Action, CheckName, CheckResult, ClusterInfo, GateConfig, HostInfo, RequestSpec, VmInfo } from '../types';

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
}

/** What one check says: its outcome and a sentence explaining it. */
export type CheckVerdict = Omit<CheckResult, 'check'>;

/** One named, pure, synchronous gating check. */
export interface GateCheck {
  name: CheckName;
  run(input: GateInput): CheckVerdict;
}
