// The lab actor's types: its context, input and events, what each platform step is asked to do (the input of the
// step actors the runtime supplies) and what it answers. Pure data; see lab.machine.ts for the states.
import type { CheckResult, GateResult, Requester } from '../types';
import type { ResolvedMember } from './model';
import type { FieldChange, LabPlan, LabPlanItem } from './plan-items';
import type { LabSpec } from './spec';

/** Things a lab creates on the platform; a lab removes only things of these kinds, and only ones it created. */
export type CreatedKind = 'pool' | 'zone' | 'vnet' | 'subnet' | 'vm';

/** One thing a step created, as the step reports it. */
export type CreatedItem =
  | { kind: 'pool' | 'zone' | 'vnet'; id: string }
  /** A subnet's id is PVE's (`<zone>-10.1.0.0-24`); it lives in a VNet. */
  | { kind: 'subnet'; id: string; vnet: string }
  | { kind: 'vm'; id: number; node: string; member: string };

/** A created thing as the lab records it: `generation` is the apply (or repair) that created it. */
export type CreatedThing = CreatedItem & { generation: number };

export type MemberPhase =
  | 'planned'
  | 'cloning'
  | 'cloned'
  | 'configuring'
  | 'configured'
  | 'starting'
  | 'booting'
  | 'ready'
  | 'stopped'
  | 'gone'
  | 'failed'
  | 'removed';

/** What the lab knows of one member. */
export interface MemberState {
  /** The member as the file (resolved against the cluster) wants it. */
  member: ResolvedMember;
  phase: MemberPhase;
  vmid?: number | undefined;
  node?: string | undefined;
  /** epoch ms its readiness probe last answered */
  readyAt?: number | undefined;
  error?: string | undefined;
  /** Being replaced: the VM it had, removed once the new one is ready, or back in place if the apply fails. */
  replaces?: { vmid: number; node: string; phase: MemberPhase } | undefined;
}

/** Progress of one kind of per-member step within the current work. */
export interface StepProgress {
  todo: string[];
  running: string[];
  done: string[];
  failed: string[];
}

export type WorkReason = 'deploy' | 'apply' | 'repair';

/** The work under way: what the plan (or a drift repair) asked for, and how far it got. */
export interface LabWork {
  reason: WorkReason;
  generation: number;
  /** The plan's pool and network items to create or change (and the SDN apply), in order. */
  networks: LabPlanItem[];
  clone: StepProgress;
  configure: StepProgress;
  start: StepProgress;
  ready: StepProgress;
  /** Settings that change per member (members configured without being cloned). */
  changes: Record<string, FieldChange[]>;
  /** Running members that restart (for their changes) instead of starting. */
  restart: string[];
  /** What the file no longer has, removed once everything new is ready, in order. */
  remove: CreatedItem[];
  /** A step failed: no new step starts, and the work ends once the running ones have answered. */
  halted: boolean;
}

export type LabStep = 'clone' | 'configure' | 'start' | 'ready';

export interface LabFailure {
  step: string;
  member?: string | undefined;
  error: string;
}

/** A whole-lab snapshot: every member's snapshot under one name. */
export interface LabSnapshot {
  name: string;
  at: number;
  members: string[];
}

export interface DriftReport {
  member: string;
  state: 'gone' | 'stopped';
  at: number;
  vmid?: number | undefined;
}

export interface LabContext {
  name: string;
  cluster: string;
  /** The lab file being applied, or applied. */
  spec: LabSpec;
  /** The lab file the lab last reached ready with (an edit that fails is rolled back to it). */
  appliedSpec?: LabSpec | undefined;
  requester: Requester;
  submittedAt: number;
  approvalTimeoutMs: number;
  /** epoch ms after which the current apply, unapproved, expires */
  approvalExpiresAt: number;
  /** epoch ms at which the lab is torn down (ready + the file's ttl); none without a ttl */
  expiresAt?: number | undefined;
  ttlExpired: boolean;
  /** epoch ms the lab first became ready (its time-to-live counts from there) */
  readyAt?: number | undefined;
  /** The apply (0 the first, then each edit or repair) under way or last done. */
  generation: number;
  /** The lab reached ready once: a later failure rolls back only the failed apply's things. */
  deployed: boolean;
  plan?: LabPlan | undefined;
  decision?: GateResult['decision'] | undefined;
  checks: CheckResult[];
  reasons: string[];
  approvedBy?: { id: string; at: number; reason?: string | undefined } | undefined;
  closedBy?: { id: string; at: number; reason?: string | undefined } | undefined;
  work?: LabWork | undefined;
  members: Record<string, MemberState>;
  /** Everything this lab created and has not removed, in order of creation. */
  created: CreatedThing[];
  snapshots: LabSnapshot[];
  /** The snapshot being taken or reverted to. */
  pendingSnapshot?: { name: string; at: number } | undefined;
  drift: DriftReport[];
  failure?: LabFailure | undefined;
}

export interface LabInput {
  spec: LabSpec;
  requester: Requester;
  /** epoch ms, from the injected clock */
  submittedAt: number;
  approvalTimeoutMs: number;
}

export type LabEvent =
  | { type: 'APPROVE'; by: Requester; at: number; reason?: string | undefined }
  | { type: 'DENY'; by: Requester; at: number; reason?: string | undefined }
  | { type: 'CANCEL'; by: Requester; at: number; reason?: string | undefined }
  | { type: 'APPROVAL_EXPIRED' }
  | { type: 'TTL_EXPIRED' }
  /** An edited (or the same) lab file applied to the lab. */
  | { type: 'APPLY'; spec: LabSpec; by: Requester; at: number }
  | { type: 'DESTROY'; by: Requester; at: number }
  /** Members found gone or stopped with no request of the lab behind it. */
  | { type: 'DRIFT'; at: number; members: Array<{ member: string; state: 'gone' | 'stopped' }> }
  | { type: 'SNAPSHOT'; name: string; by: Requester; at: number }
  | { type: 'REVERT'; name: string; by: Requester; at: number }
  // The answers of the per-member step actors the lab spawns (ids `<step>.<member>`).
  | { type: `xstate.done.actor.${string}`; actorId: string; output: unknown }
  | { type: `xstate.error.actor.${string}`; actorId: string; error: unknown };

/** Emitted when the lab drifted: the runtime opens an incident on the lab. */
export interface LabDriftNotice {
  type: 'drift';
  lab: string;
  cluster: string;
  at: number;
  members: DriftReport[];
  /** The lab repairs itself (policy drift: repair) or only reports it. */
  repair: boolean;
  detail: string;
}

// ---- the step actors: input and output ----

/** Every step names its lab and carries a key that stays the same when the step is run again after a restart. */
export interface LabStepBase {
  lab: string;
  cluster: string;
  /** Idempotency key: a step run again with the same key must not do its work twice. */
  key: string;
}

/** The plan step: the file against the lab as its record holds it (the runtime adds what the cluster says). */
export interface PlanInput {
  spec: LabSpec;
  members: MemberState[];
  created: CreatedThing[];
}

export interface LabGateInput {
  lab: string;
  cluster: string;
  spec: LabSpec;
  plan: LabPlan;
  requester: Requester;
}

export interface CreateNetworksInput extends LabStepBase {
  /** pool, zone, vnet and subnet items to create or change, and the SDN apply, in the plan's order. */
  items: LabPlanItem[];
}
export interface CreatedOutput {
  created: CreatedItem[];
}

export interface CloneMemberInput extends LabStepBase {
  member: ResolvedMember;
  /** The lab's pool: the clone goes into it. */
  pool: string;
}
export interface CloneMemberOutput {
  vmid: number;
  node: string;
}

export interface MemberStepInput extends LabStepBase {
  member: ResolvedMember;
  vmid: number;
  node: string;
}
export interface ConfigureMemberInput extends MemberStepInput {
  /** What changes (an edit; `node`: migrate it); absent for a new member, which is configured whole. */
  changes?: FieldChange[] | undefined;
}
export interface ConfigureMemberOutput {
  /** Where the member is now, when the step moved it. */
  node?: string | undefined;
}
export interface StartMemberInput extends MemberStepInput {
  /** It runs and restarts for its changes (a reboot, not a start). */
  restart?: boolean | undefined;
}
export interface WaitReadyOutput {
  /** epoch ms its readiness probe answered */
  at: number;
}

export interface RemoveCreatedInput extends LabStepBase {
  /**
   * In the order to remove them (the reverse of creation). A thing already gone counts as removed; SDN changes are
   * applied cluster-wide after the SDN objects are removed.
   */
  things: CreatedItem[];
}

export interface SnapshotMembersInput extends LabStepBase {
  name: string;
  members: Array<{ member: string; vmid: number; node: string }>;
}
export interface SnapshotMembersOutput {
  members: string[];
}

export interface LabDeadlineInput {
  at: number;
}

/**
 * A failed step. `created` lists what it created before failing (a clone whose VM exists but whose task failed)
 * and `removed` what a removal step removed before failing: the lab records both.
 */
export class LabStepError extends Error {
  override name = 'LabStepError';
  readonly created: CreatedItem[];
  readonly removed: CreatedItem[];
  constructor(
    message: string,
    options: { cause?: unknown; created?: CreatedItem[] | undefined; removed?: CreatedItem[] | undefined } = {},
  ) {
    super(message, { cause: options.cause });
    this.created = options.created ?? [];
    this.removed = options.removed ?? [];
  }
}
