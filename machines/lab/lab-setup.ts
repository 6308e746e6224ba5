// The lab actor's named parts: the step actors (unprovided here, supplied by the runtime with `.provide()`), its
// guards and its actions. The states that use them are in lab.machine.ts.
import { assign, emit, enqueueActions, setup, stopChild } from 'xstate';
import type { GateResult, Requester } from '../types';
import { ACTION_ROLE, personOf, ROLE_RANK } from '../types';
import { unprovidedCallback, unprovidedPromise } from '../unprovided';
import { formatIssue } from './issues';
import { beginPlannedWork, newDrift, recordDrift, repairWork } from './lab-begin';
import type {
  CloneMemberInput,
  CloneMemberOutput,
  ConfigureMemberInput,
  ConfigureMemberOutput,
  CreatedOutput,
  CreateNetworksInput,
  LabContext,
  LabDeadlineInput,
  LabDriftNotice,
  LabEvent,
  LabGateInput,
  LabInput,
  LabStep,
  MemberStepInput,
  PlanInput,
  RemoveCreatedInput,
  SnapshotMembersInput,
  SnapshotMembersOutput,
  StartMemberInput,
  WaitReadyOutput,
} from './lab-types';
import {
  beginSteps,
  completeWork,
  eligibleMembers,
  errorText,
  existingMembers,
  failRemoval,
  failStep,
  failWholeStep,
  finishStep,
  membersAfterRemoval,
  membersAfterRollback,
  policyOf,
  rollbackList,
  stepKey,
  withCreated,
  withoutRemoved,
} from './lab-work';
import type { LabPlan } from './plan-items';

/** Why `by` may not approve this lab, or undefined when they may (the two-person rule, as for a request). */
export function labApprovalRefusal(context: LabContext, by: Requester): string | undefined {
  if (personOf(by) === personOf(context.requester)) return 'the requester cannot approve their own lab';
  const needed = ACTION_ROLE.deploy;
  if (ROLE_RANK[by.role] < Math.max(ROLE_RANK[needed], ROLE_RANK.operator)) {
    return `role ${by.role} may not approve a lab (needs ${needed})`;
  }
  return undefined;
}

/** Why `by` may not deny or cancel this lab's apply, or undefined when they may. */
export function labCloseRefusal(context: LabContext, by: Requester): string | undefined {
  if (personOf(by) === personOf(context.requester) || by.role === 'admin') return undefined;
  return 'only the requester or an admin may cancel or deny a lab';
}

function memberInput(context: LabContext, step: LabStep, name: string): MemberStepInput {
  const known = context.members[name];
  if (known?.vmid === undefined || known.node === undefined) {
    throw new Error(`lab ${context.name}: member ${name} has no VM to ${step}`);
  }
  const { name: lab, cluster } = context;
  return { lab, cluster, key: stepKey(context, step, name), member: known.member, vmid: known.vmid, node: known.node };
}

const stepsDone = (context: LabContext, steps: LabStep[]): boolean =>
  steps.every((s) => context.work?.[s].todo.length === 0 && context.work[s].running.length === 0);

export const labSetup = setup({
  types: {
    context: {} as LabContext,
    events: {} as LabEvent,
    input: {} as LabInput,
    emitted: {} as LabDriftNotice,
  },
  actors: {
    plan: unprovidedPromise<LabPlan, PlanInput>('plan'),
    gate: unprovidedPromise<GateResult, LabGateInput>('gate'),
    createNetworks: unprovidedPromise<CreatedOutput, CreateNetworksInput>('createNetworks'),
    cloneMember: unprovidedPromise<CloneMemberOutput, CloneMemberInput>('cloneMember'),
    configureMember: unprovidedPromise<ConfigureMemberOutput, ConfigureMemberInput>('configureMember'),
    startMember: unprovidedPromise<unknown, StartMemberInput>('startMember'),
    waitReady: unprovidedPromise<WaitReadyOutput, MemberStepInput>('waitReady'),
    removeCreated: unprovidedPromise<unknown, RemoveCreatedInput>('removeCreated'),
    snapshotMembers: unprovidedPromise<SnapshotMembersOutput, SnapshotMembersInput>('snapshotMembers'),
    revertMembers: unprovidedPromise<SnapshotMembersOutput, SnapshotMembersInput>('revertMembers'),
    approvalDeadline: unprovidedCallback<{ type: string }, LabDeadlineInput>('approvalDeadline'),
    ttlDeadline: unprovidedCallback<{ type: string }, LabDeadlineInput>('ttlDeadline'),
  },
  guards: {
    deployed: ({ context }) => context.deployed,
    planEmpty: (_, plan: LabPlan) => plan.items.length === 0 && plan.issues.length === 0,
    planHasIssues: (_, plan: LabPlan) => plan.issues.length > 0,
    issuesOnceDeployed: ({ context }, plan: LabPlan) => context.deployed && plan.issues.length > 0,
    decisionIs: (_, params: { result: GateResult; decision: GateResult['decision'] }) =>
      params.result.decision === params.decision,
    deniedOnceDeployed: ({ context }, result: GateResult) => context.deployed && result.decision === 'denied',
    canApprove: ({ context, event }) => event.type === 'APPROVE' && labApprovalRefusal(context, event.by) === undefined,
    canClose: ({ context, event }) =>
      (event.type === 'DENY' || event.type === 'CANCEL') && labCloseRefusal(context, event.by) === undefined,
    hasNetworkWork: ({ context }) => (context.work?.networks.length ?? 0) > 0,
    hasRemovals: ({ context }) => (context.work?.remove.length ?? 0) > 0,
    halted: ({ context }) => context.work?.halted === true,
    settled: ({ context }) => {
      const w = context.work;
      return !w || [w.clone, w.configure, w.start, w.ready].every((p) => p.running.length === 0);
    },
    clonesDone: ({ context }) => stepsDone(context, ['clone']),
    configuresDone: ({ context }) => stepsDone(context, ['configure']),
    startsDone: ({ context }) => stepsDone(context, ['start', 'ready']),
    keepOnFailure: ({ context }) => policyOf(context.spec).onFailure === 'keep',
    nothingToRollBack: ({ context }) => rollbackList(context).length === 0,
    driftToRepair: ({ context, event }) =>
      event.type === 'DRIFT' &&
      policyOf(context.spec).drift === 'repair' &&
      newDrift(context, event.members, event.at).length > 0,
    driftReported: ({ context, event }) =>
      event.type === 'DRIFT' && newDrift(context, event.members, event.at).length > 0,
    snapshotKnown: ({ context, event }) =>
      event.type === 'REVERT' && context.snapshots.some((s) => s.name === event.name),
    hasMembers: ({ context }) => existingMembers(context).length > 0,
    ttlExpired: ({ context }) => context.ttlExpired,
    // A teardown for the time-to-live is tried once: one that failed waits for a person.
    ttlTeardownDue: ({ context }) => context.ttlExpired && context.failure?.step !== 'remove',
  },
  actions: {
    // The time-to-live deadline, (re)armed for the lab's current expiry; an absolute time survives restarts.
    armTtl: enqueueActions(({ context, enqueue }) => {
      enqueue.stopChild('ttl');
      if (context.expiresAt !== undefined) {
        enqueue.spawnChild('ttlDeadline', { id: 'ttl', input: { at: context.expiresAt } });
      }
    }),
    recordTtlExpired: assign({ ttlExpired: true }),
    recordPlan: assign((_, plan: LabPlan) => ({ plan })),
    recordPlanIssues: assign((_, plan: LabPlan) => ({
      plan,
      decision: 'denied' as const,
      checks: [],
      reasons: plan.issues.map(formatIssue),
    })),
    recordPlanError: assign((_, error: unknown) => ({
      decision: 'denied' as const,
      checks: [],
      reasons: [`the lab could not be planned: ${errorText(error)}`],
    })),
    recordGate: assign((_, result: GateResult) => ({
      decision: result.decision,
      checks: result.checks,
      reasons: result.reasons,
    })),
    recordGateError: assign((_, error: unknown) => ({
      decision: 'denied' as const,
      reasons: [`the gate could not decide: ${errorText(error)}`],
    })),
    recordApproval: assign(({ event }) =>
      event.type === 'APPROVE'
        ? { decision: 'approved' as const, approvedBy: { id: event.by.id, at: event.at, reason: event.reason } }
        : {},
    ),
    recordClosure: assign(({ event }) =>
      event.type === 'DENY' || event.type === 'CANCEL'
        ? {
            closedBy: { id: event.by.id, at: event.at, reason: event.reason },
            ...(event.type === 'DENY' ? { decision: 'denied' as const } : {}),
          }
        : {},
    ),
    recordApply: assign(({ context, event }) =>
      event.type === 'APPLY'
        ? {
            spec: event.spec,
            requester: event.by,
            generation: context.generation + 1,
            approvalExpiresAt: event.at + context.approvalTimeoutMs,
            plan: undefined,
            decision: undefined,
            checks: [],
            reasons: [],
            approvedBy: undefined,
            closedBy: undefined,
            failure: undefined,
          }
        : {},
    ),
    beginWork: assign(({ context }) =>
      context.plan ? beginPlannedWork(context, context.plan, context.deployed ? 'apply' : 'deploy') : {},
    ),
    completeWork: assign(({ context }) => completeWork(context)),
    // An apply that did not happen (denied, expired, cancelled, rolled back): the lab stays as it was.
    restoreApplied: assign(({ context }) => ({ spec: context.appliedSpec ?? context.spec, work: undefined })),
    recordNetworks: assign(({ context }, output: CreatedOutput) => ({ created: withCreated(context, output.created) })),
    recordWholeStepFailure: assign(({ context }, params: { step: string; error: unknown }) =>
      failWholeStep(context, params.step, params.error),
    ),
    // Begins the step for every member that may begin it now, each as its own actor `<step>.<member>`.
    dispatch: enqueueActions(({ context, enqueue }, params: { step: LabStep }) => {
      const { step } = params;
      const names = eligibleMembers(context, step);
      if (names.length === 0) return;
      enqueue.assign(beginSteps(context, step, names));
      for (const name of names) {
        const id = `${step}.${name}`;
        if (step === 'clone') {
          const member = context.members[name]?.member;
          if (!member) continue;
          const { name: lab, cluster } = context;
          const input = { lab, cluster, key: stepKey(context, 'clone', name), member, pool: context.spec.pool };
          enqueue.spawnChild('cloneMember', { id, input });
        } else if (step === 'configure') {
          const changes = context.work?.changes[name];
          const input = memberInput(context, 'configure', name);
          enqueue.spawnChild('configureMember', { id, input: changes ? { ...input, changes } : input });
        } else if (step === 'start') {
          const input = memberInput(context, 'start', name);
          const restart = context.work?.restart.includes(name) === true;
          enqueue.spawnChild('startMember', { id, input: restart ? { ...input, restart } : input });
        } else {
          enqueue.spawnChild('waitReady', { id, input: memberInput(context, 'ready', name) });
        }
      }
    }),
    // A step actor that answered is let go: the snapshot keeps only the steps still running.
    releaseStep: stopChild(({ event }) => ('actorId' in event ? event.actorId : '')),
    recordStepDone: assign(({ context, event }) =>
      'output' in event ? finishStep(context, event.actorId, event.output) : {},
    ),
    recordStepFailure: assign(({ context, event }) =>
      'error' in event && 'actorId' in event ? failStep(context, event.actorId, event.error) : {},
    ),
    recordRolledBack: assign(({ context }) => {
      const removed = rollbackList(context);
      return { created: withoutRemoved(context.created, removed), members: membersAfterRollback(context, removed) };
    }),
    recordRemovals: assign(({ context }) => {
      const removed = context.work?.remove ?? [];
      return {
        created: withoutRemoved(context.created, removed),
        members: membersAfterRemoval(context.members, removed),
      };
    }),
    recordTornDown: assign(({ context }) => ({
      created: [],
      members: Object.fromEntries(
        Object.entries(context.members).map(([name, m]) => [name, { ...m, phase: 'removed' as const }]),
      ),
      work: undefined,
    })),
    recordRemovalFailure: assign(({ context }, error: unknown) => failRemoval(context, error)),
    recordDrift: assign(({ context, event }) =>
      event.type === 'DRIFT' ? recordDrift(context, newDrift(context, event.members, event.at)) : {},
    ),
    announceDrift: emit(({ context, event }) => {
      const at = event.type === 'DRIFT' ? event.at : 0;
      const drift = event.type === 'DRIFT' ? newDrift(context, event.members, at) : [];
      const repair = policyOf(context.spec).drift === 'repair';
      const what = drift.map((d) => `${d.member} ${d.state}`).join(', ');
      const detail = `lab ${context.name}: ${what} with no request of the lab behind it (${repair ? 'repairing' : 'reported only'})`;
      return {
        type: 'drift' as const,
        lab: context.name,
        cluster: context.cluster,
        at,
        members: drift,
        repair,
        detail,
      };
    }),
    beginRepair: assign(({ context }) => {
      const generation = context.generation + 1;
      return { generation, work: repairWork(context, generation), failure: undefined };
    }),
    recordSnapshotRequest: assign(({ event }) =>
      event.type === 'SNAPSHOT' || event.type === 'REVERT'
        ? { pendingSnapshot: { name: event.name, at: event.at }, failure: undefined }
        : {},
    ),
    recordSnapshot: assign(({ context }, output: SnapshotMembersOutput) => {
      const pending = context.pendingSnapshot;
      if (!pending) return {};
      const snapshot = { name: pending.name, at: pending.at, members: output.members };
      return {
        snapshots: [...context.snapshots.filter((s) => s.name !== pending.name), snapshot],
        pendingSnapshot: undefined,
      };
    }),
    recordReverted: assign({ pendingSnapshot: undefined }),
    recordSnapshotFailure: assign((_, params: { step: string; error: unknown }) => ({
      pendingSnapshot: undefined,
      failure: { step: params.step, error: errorText(params.error) },
    })),
  },
});
