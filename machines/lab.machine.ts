// The lab actor (`lab:<name>`): a multi-VM lab deployed, kept and removed as one gated unit. planning → gating →
// (awaiting_approval) → networks → cloning (dependency waves, up to policy.parallelism at once) → configuring →
// starting (dependency order, each member waited for until ready) → ready; a failure anywhere → rolling_back
// (what this lab created, newest first, nothing else) → rolled_back, or failed (kept) by policy. From ready:
// tearing_down → destroyed, snapshotting / reverting the whole lab, DRIFT (repaired through the same steps, or
// reported), APPLY of an edited file (only the plan's difference), and the time-to-live → tearing_down.
// Pure: every platform step is a named actor the runtime supplies with `.provide()`; a step's answer is recorded
// in the context, so a lab restored from its snapshot never does a finished step again.
import { and } from 'xstate';
import { labSetup } from './lab/lab-setup';
import { existingMembers, labKey, rollbackList, stepKey, teardownList } from './lab/lab-work';

type ErrorEvent = { event: { error: unknown } };
const errorOf = ({ event }: ErrorEvent) => event.error;

export { labApprovalRefusal, labCloseRefusal } from './lab/lab-setup';

export const labMachine = labSetup.createMachine({
  id: 'lab',
  context: ({ input }) => ({
    name: input.spec.name,
    cluster: input.spec.cluster,
    spec: input.spec,
    requester: input.requester,
    submittedAt: input.submittedAt,
    approvalTimeoutMs: input.approvalTimeoutMs,
    approvalExpiresAt: input.submittedAt + input.approvalTimeoutMs,
    ttlExpired: false,
    generation: 0,
    deployed: false,
    checks: [],
    reasons: [],
    members: {},
    created: [],
    snapshots: [],
    drift: [],
  }),
  on: { TTL_EXPIRED: { actions: 'recordTtlExpired' } },
  initial: 'planning',
  states: {
    planning: {
      invoke: {
        id: 'plan',
        src: 'plan',
        input: ({ context }) => ({
          spec: context.spec,
          members: Object.values(context.members),
          created: context.created,
        }),
        onDone: [
          {
            // Nothing differs (the same file applied again): nothing to gate, nothing to do.
            guard: { type: 'planEmpty', params: ({ event }) => event.output },
            target: 'ready',
            actions: [{ type: 'recordPlan', params: ({ event }) => event.output }, 'completeWork', 'armTtl'],
          },
          // Differences the plan cannot make (a zone's type, the pool's name): nothing is applied.
          {
            guard: { type: 'issuesOnceDeployed', params: ({ event }) => event.output },
            target: 'ready',
            actions: [{ type: 'recordPlanIssues', params: ({ event }) => event.output }, 'restoreApplied'],
          },
          {
            guard: { type: 'planHasIssues', params: ({ event }) => event.output },
            target: 'denied',
            actions: { type: 'recordPlanIssues', params: ({ event }) => event.output },
          },
          { target: 'gating', actions: { type: 'recordPlan', params: ({ event }) => event.output } },
        ],
        onError: [
          {
            guard: 'deployed',
            target: 'ready',
            actions: [{ type: 'recordPlanError', params: errorOf }, 'restoreApplied'],
          },
          { target: 'denied', actions: { type: 'recordPlanError', params: errorOf } },
        ],
      },
    },
    // The whole lab is one gated unit: the gate sees every member at once.
    gating: {
      invoke: {
        id: 'gate',
        src: 'gate',
        input: ({ context }) => ({
          lab: context.name,
          cluster: context.cluster,
          spec: context.spec,
          plan: context.plan ?? { lab: context.name, cluster: context.cluster, items: [], issues: [] },
          requester: context.requester,
        }),
        onDone: [
          {
            guard: { type: 'deniedOnceDeployed', params: ({ event }) => event.output },
            target: 'ready',
            actions: [{ type: 'recordGate', params: ({ event }) => event.output }, 'restoreApplied'],
          },
          {
            guard: { type: 'decisionIs', params: ({ event }) => ({ result: event.output, decision: 'denied' }) },
            target: 'denied',
            actions: { type: 'recordGate', params: ({ event }) => event.output },
          },
          {
            guard: { type: 'decisionIs', params: ({ event }) => ({ result: event.output, decision: 'nothing_to_do' }) },
            target: 'ready',
            actions: [{ type: 'recordGate', params: ({ event }) => event.output }, 'completeWork', 'armTtl'],
          },
          {
            guard: {
              type: 'decisionIs',
              params: ({ event }) => ({ result: event.output, decision: 'awaiting_approval' }),
            },
            target: 'awaiting_approval',
            actions: { type: 'recordGate', params: ({ event }) => event.output },
          },
          { target: 'approved', actions: { type: 'recordGate', params: ({ event }) => event.output } },
        ],
        onError: [
          {
            guard: 'deployed',
            target: 'ready',
            actions: [{ type: 'recordGateError', params: errorOf }, 'restoreApplied'],
          },
          { target: 'denied', actions: { type: 'recordGateError', params: errorOf } },
        ],
      },
    },
    awaiting_approval: {
      invoke: { src: 'approvalDeadline', input: ({ context }) => ({ at: context.approvalExpiresAt }) },
      always: [
        { guard: and(['ttlExpired', 'deployed']), target: 'ready', actions: 'restoreApplied' },
        { guard: 'ttlExpired', target: 'expired' },
      ],
      on: {
        APPROVE: { guard: 'canApprove', target: 'approved', actions: 'recordApproval' },
        DENY: [
          { guard: and(['canClose', 'deployed']), target: 'ready', actions: ['recordClosure', 'restoreApplied'] },
          { guard: 'canClose', target: 'denied', actions: 'recordClosure' },
        ],
        CANCEL: [
          { guard: and(['canClose', 'deployed']), target: 'ready', actions: ['recordClosure', 'restoreApplied'] },
          { guard: 'canClose', target: 'cancelled', actions: 'recordClosure' },
        ],
        APPROVAL_EXPIRED: [{ guard: 'deployed', target: 'ready', actions: 'restoreApplied' }, { target: 'expired' }],
      },
    },
    // Decided: the plan becomes the work (passes through at once).
    approved: {
      entry: 'beginWork',
      always: [{ guard: 'hasNetworkWork', target: 'networks' }, { target: 'cloning' }],
    },
    networks: {
      invoke: {
        id: 'networks',
        src: 'createNetworks',
        input: ({ context }) => ({
          lab: context.name,
          cluster: context.cluster,
          key: stepKey(context, 'networks'),
          items: context.work?.networks ?? [],
        }),
        onDone: { target: 'cloning', actions: { type: 'recordNetworks', params: ({ event }) => event.output } },
        onError: {
          target: 'failing',
          actions: {
            type: 'recordWholeStepFailure',
            params: ({ event }: ErrorEvent) => ({ step: 'networks', error: event.error }),
          },
        },
      },
    },
    cloning: {
      entry: { type: 'dispatch', params: { step: 'clone' } },
      always: [
        { guard: and(['halted', 'settled']), target: 'failing' },
        { guard: 'clonesDone', target: 'configuring' },
      ],
      on: {
        'xstate.done.actor.clone.*': {
          actions: ['recordStepDone', 'releaseStep', { type: 'dispatch', params: { step: 'clone' } }],
        },
        'xstate.error.actor.clone.*': { actions: ['recordStepFailure', 'releaseStep'] },
      },
    },
    configuring: {
      entry: { type: 'dispatch', params: { step: 'configure' } },
      always: [
        { guard: and(['halted', 'settled']), target: 'failing' },
        { guard: 'configuresDone', target: 'starting' },
      ],
      on: {
        'xstate.done.actor.configure.*': {
          actions: ['recordStepDone', 'releaseStep', { type: 'dispatch', params: { step: 'configure' } }],
        },
        'xstate.error.actor.configure.*': { actions: ['recordStepFailure', 'releaseStep'] },
      },
    },
    starting: {
      entry: { type: 'dispatch', params: { step: 'start' } },
      always: [
        { guard: and(['halted', 'settled']), target: 'failing' },
        { guard: and(['startsDone', 'hasRemovals']), target: 'removing' },
        { guard: 'startsDone', target: 'ready', actions: ['completeWork', 'armTtl'] },
      ],
      on: {
        'xstate.done.actor.start.*': {
          actions: [
            'recordStepDone',
            'releaseStep',
            { type: 'dispatch', params: { step: 'ready' } },
            { type: 'dispatch', params: { step: 'start' } },
          ],
        },
        'xstate.done.actor.ready.*': {
          actions: ['recordStepDone', 'releaseStep', { type: 'dispatch', params: { step: 'start' } }],
        },
        'xstate.error.actor.start.*': { actions: ['recordStepFailure', 'releaseStep'] },
        'xstate.error.actor.ready.*': { actions: ['recordStepFailure', 'releaseStep'] },
      },
    },
    // An edited file no longer has some members or networks: removed last, once everything new is ready.
    removing: {
      invoke: {
        id: 'remove',
        src: 'removeCreated',
        input: ({ context }) => ({
          lab: context.name,
          cluster: context.cluster,
          key: stepKey(context, 'remove'),
          things: context.work?.remove ?? [],
        }),
        onDone: { target: 'ready', actions: ['recordRemovals', 'completeWork', 'armTtl'] },
        onError: {
          target: 'failing',
          actions: [
            {
              type: 'recordWholeStepFailure',
              params: ({ event }: ErrorEvent) => ({ step: 'remove', error: event.error }),
            },
          ],
        },
      },
    },
    // A step failed and every running one has answered (passes through at once).
    failing: {
      always: [
        { guard: 'keepOnFailure', target: 'failed' },
        {
          guard: and(['nothingToRollBack', 'deployed']),
          target: 'ready',
          actions: ['recordRolledBack', 'restoreApplied'],
        },
        { guard: 'nothingToRollBack', target: 'rolled_back', actions: 'recordRolledBack' },
        { target: 'rolling_back' },
      ],
    },
    rolling_back: {
      invoke: {
        id: 'rollback',
        src: 'removeCreated',
        input: ({ context }) => ({
          lab: context.name,
          cluster: context.cluster,
          key: stepKey(context, 'rollback'),
          things: rollbackList(context),
        }),
        onDone: [
          { guard: 'deployed', target: 'ready', actions: ['recordRolledBack', 'restoreApplied'] },
          { target: 'rolled_back', actions: 'recordRolledBack' },
        ],
        onError: { target: 'failed', actions: { type: 'recordRemovalFailure', params: errorOf } },
      },
    },
    ready: {
      always: { guard: 'ttlExpired', target: 'tearing_down' },
      on: {
        DESTROY: 'tearing_down',
        APPLY: { target: 'planning', actions: 'recordApply' },
        DRIFT: [
          { guard: 'driftToRepair', target: 'cloning', actions: ['announceDrift', 'recordDrift', 'beginRepair'] },
          { guard: 'driftReported', actions: ['announceDrift', 'recordDrift'] },
        ],
        SNAPSHOT: { guard: 'hasMembers', target: 'snapshotting', actions: 'recordSnapshotRequest' },
        REVERT: { guard: 'snapshotKnown', target: 'reverting', actions: 'recordSnapshotRequest' },
      },
    },
    snapshotting: {
      invoke: {
        id: 'snapshot',
        src: 'snapshotMembers',
        input: ({ context }) => ({
          lab: context.name,
          cluster: context.cluster,
          key: `${labKey(context)}:snapshot:${context.pendingSnapshot?.name}:${context.pendingSnapshot?.at}`,
          name: context.pendingSnapshot?.name ?? '',
          members: existingMembers(context),
        }),
        onDone: { target: 'ready', actions: { type: 'recordSnapshot', params: ({ event }) => event.output } },
        onError: {
          target: 'ready',
          actions: {
            type: 'recordSnapshotFailure',
            params: ({ event }: ErrorEvent) => ({ step: 'snapshot', error: event.error }),
          },
        },
      },
    },
    reverting: {
      invoke: {
        id: 'revert',
        src: 'revertMembers',
        input: ({ context }) => {
          const name = context.pendingSnapshot?.name ?? '';
          const inSnapshot = new Set(context.snapshots.find((s) => s.name === name)?.members ?? []);
          return {
            lab: context.name,
            cluster: context.cluster,
            key: `${labKey(context)}:revert:${name}:${context.pendingSnapshot?.at}`,
            name,
            members: existingMembers(context).filter((m) => inSnapshot.has(m.member)),
          };
        },
        onDone: { target: 'ready', actions: 'recordReverted' },
        onError: {
          target: 'ready',
          actions: {
            type: 'recordSnapshotFailure',
            params: ({ event }: ErrorEvent) => ({ step: 'revert', error: event.error }),
          },
        },
      },
    },
    tearing_down: {
      invoke: {
        id: 'teardown',
        src: 'removeCreated',
        input: ({ context }) => ({
          lab: context.name,
          cluster: context.cluster,
          key: `${labKey(context)}:teardown`,
          things: teardownList(context),
        }),
        onDone: { target: 'destroyed', actions: 'recordTornDown' },
        onError: { target: 'failed', actions: { type: 'recordRemovalFailure', params: errorOf } },
      },
    },
    // Kept as it is (policy onFailure: keep, or a removal that failed): destroy it, or apply the file again.
    failed: {
      always: { guard: 'ttlTeardownDue', target: 'tearing_down' },
      on: {
        DESTROY: 'tearing_down',
        APPLY: { target: 'planning', actions: 'recordApply' },
      },
    },
    denied: { type: 'final' },
    cancelled: { type: 'final' },
    expired: { type: 'final' },
    rolled_back: { type: 'final' },
    destroyed: { type: 'final' },
  },
});

export type LabMachine = typeof labMachine;
export type * from './lab/lab-types';
export { LabStepError } from './lab/lab-types';
