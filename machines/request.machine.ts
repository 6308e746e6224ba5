// The request actor: received → validating → gating → denied | nothing_to_do | awaiting_approval | approved →
// queued → executing → completed | failed | cancelled | expired. `decision` is the final one: the gate's, or the
// person's who approved or denied it (with their reason). Approving and starting to execute re-check the facts
// that may have changed while the request waited; a request that no longer passes fails with the reason. Pure: the gate, the executor and the approval timer
// are named actors the runtime supplies with `.provide()`.
import { and, assign, sendTo, setup } from 'xstate';
import type { RecheckResult } from './gate/recheck';
import type { BulkMember, CheckResult, GateResult, Requester, RequestSpec, RequestStatus } from './types';
import { ACTION_ROLE, personOf, ROLE_RANK } from './types';
import { unprovidedCallback, unprovidedPromise } from './unprovided';

/** A platform task a request started; `step` orders the tasks of a multi-step request (deploy count > 1). */
export interface RequestTask {
  upid: string;
  node: string;
  step: number;
  /** The VM the task works on (for a clone: the new VMID). */
  vmid?: number | undefined;
}

export interface RequestContext {
  spec: RequestSpec;
  decision?: GateResult['decision'] | undefined;
  checks: CheckResult[];
  reasons: string[];
  /** epoch ms after which an unapproved request expires */
  expiresAt: number;
  /** Who approved it, when, and why (the reason they gave, if any). */
  approvedBy?: { id: string; at: number; reason?: string | undefined } | undefined;
  /** Who denied or cancelled it, when a person did. */
  closedBy?: { id: string; at: number; reason?: string | undefined } | undefined;
  tasks: RequestTask[];
  /** Set just before a platform call is made and cleared when its task id is recorded. */
  issuing?: { step: number; at: number; vmid?: number | undefined } | undefined;
  cancelRequested: boolean;
  error?: string | undefined;
  /** The last re-check of the facts (at approval, before execution); a failed one ended the request. */
  recheck?: (RecheckResult & { at: number }) | undefined;
  /** A bulk request's members as the gate expanded them (each runs as a child request). */
  members?: BulkMember[] | undefined;
}

export interface RequestInput {
  spec: RequestSpec;
  approvalTimeoutMs: number;
}

export type RequestEvent =
  // APPROVE and EXECUTE carry the re-check of the facts the runtime made as it sent them (gate/recheck.ts).
  | { type: 'APPROVE'; by: Requester; at: number; recheck: RecheckResult; reason?: string | undefined }
  | { type: 'DENY'; by: Requester; at: number; reason?: string | undefined }
  | { type: 'CANCEL'; by: Requester; at: number; reason?: string | undefined }
  | { type: 'APPROVAL_EXPIRED' }
  | { type: 'QUEUED' }
  | { type: 'EXECUTE'; at: number; recheck: RecheckResult }
  | { type: 'TASK_ISSUING'; step: number; at: number; vmid?: number | undefined }
  | { type: 'TASK_STARTED'; task: RequestTask }
  | { type: 'EXECUTION_SUCCEEDED' }
  | { type: 'EXECUTION_FAILED'; error: string }
  | { type: 'EXECUTION_CANCELLED' };

/** Events the executor actor receives from its request. */
export type ExecutorEvent = { type: 'CANCEL' };

export interface GateActorInput {
  spec: RequestSpec;
}
export interface ExecutorInput {
  requestId: string;
}
export interface DeadlineInput {
  at: number;
}

/** Why `by` may not approve this request, or undefined when they may. */
export function approvalRefusal(context: RequestContext, by: Requester): string | undefined {
  if (by.id === context.spec.requester.id) return 'the requester cannot approve their own request';
  if (personOf(by) === personOf(context.spec.requester)) {
    return 'the requester cannot approve their own request: the approving token belongs to the same person';
  }
  const needed = ACTION_ROLE[context.spec.action];
  if (ROLE_RANK[by.role] < Math.max(ROLE_RANK[needed], ROLE_RANK.operator)) {
    return `role ${by.role} may not approve ${context.spec.action} (needs ${needed})`;
  }
  return undefined;
}

/** Why `by` may not cancel or deny this request, or undefined when they may. */
export function closeRefusal(context: RequestContext, by: Requester): string | undefined {
  if (personOf(by) === personOf(context.spec.requester) || by.role === 'admin') return undefined;
  return 'only the requester or an admin may cancel or deny a request';
}

/** The status a request snapshot is in (its state names are the statuses). */
export function requestStatusOf(value: unknown): RequestStatus {
  return value as RequestStatus;
}

export const requestMachine = setup({
  types: {
    context: {} as RequestContext,
    events: {} as RequestEvent,
    input: {} as RequestInput,
  },
  actors: {
    validate: unprovidedPromise<CheckResult, GateActorInput>('validate'),
    gate: unprovidedPromise<GateResult, GateActorInput>('gate'),
    execute: unprovidedCallback<ExecutorEvent, ExecutorInput>('execute'),
    approvalDeadline: unprovidedCallback<{ type: string }, DeadlineInput>('approvalDeadline'),
  },
  guards: {
    schemaPassed: (_, output: CheckResult) => output.outcome === 'pass',
    decisionIs: (_, params: { result: GateResult; decision: GateResult['decision'] }) =>
      params.result.decision === params.decision,
    canApprove: ({ context, event }) => event.type === 'APPROVE' && approvalRefusal(context, event.by) === undefined,
    recheckPassed: ({ event }) =>
      (event.type === 'APPROVE' || event.type === 'EXECUTE') && event.recheck.reason === undefined,
    canClose: ({ context, event }) =>
      (event.type === 'CANCEL' || event.type === 'DENY') && closeRefusal(context, event.by) === undefined,
  },
  actions: {
    recordMalformed: assign((_, check: CheckResult) => ({
      decision: 'denied' as const,
      checks: [check],
      reasons: [check.reason],
    })),
    recordGate: assign((_, result: GateResult) => ({
      decision: result.decision,
      checks: result.checks,
      reasons: result.reasons,
      ...(result.members ? { members: result.members } : {}),
    })),
    recordGateError: assign((_, error: unknown) => {
      const reason = `the gate could not decide: ${error instanceof Error ? error.message : String(error)}`;
      return { decision: 'denied' as const, reasons: [reason] };
    }),
    // The person's approval is the final decision (a failed re-check then fails the request, with the reason).
    recordApproval: assign(({ event }) =>
      event.type === 'APPROVE'
        ? { decision: 'approved' as const, approvedBy: { id: event.by.id, at: event.at, reason: event.reason } }
        : {},
    ),
    recordClosure: assign(({ event }) =>
      event.type === 'DENY' || event.type === 'CANCEL'
        ? { closedBy: { id: event.by.id, at: event.at, reason: event.reason } }
        : {},
    ),
    recordDenialDecision: assign({ decision: 'denied' as const }),
    recordIssuing: assign(({ event }) =>
      event.type === 'TASK_ISSUING' ? { issuing: { step: event.step, at: event.at, vmid: event.vmid } } : {},
    ),
    recordTask: assign(({ context, event }) =>
      event.type === 'TASK_STARTED'
        ? { tasks: [...context.tasks.filter((t) => t.step !== event.task.step), event.task], issuing: undefined }
        : {},
    ),
    recordCancelRequest: assign({ cancelRequested: true }),
    recordRecheck: assign(({ event }) =>
      event.type === 'APPROVE' || event.type === 'EXECUTE'
        ? {
            recheck: { ...event.recheck, at: event.at },
            ...(event.recheck.reason ? { error: event.recheck.reason } : {}),
          }
        : {},
    ),
    forwardCancel: sendTo('executor', { type: 'CANCEL' } as ExecutorEvent),
    recordFailure: assign(({ event }) => (event.type === 'EXECUTION_FAILED' ? { error: event.error } : {})),
    recordExecutorError: assign((_, error: unknown) => ({
      error: `the executor crashed: ${error instanceof Error ? error.message : String(error)}`,
    })),
  },
}).createMachine({
  id: 'request',
  context: ({ input }) => ({
    spec: input.spec,
    checks: [],
    reasons: [],
    expiresAt: input.spec.submittedAt + input.approvalTimeoutMs,
    tasks: [],
    cancelRequested: false,
  }),
  initial: 'received',
  states: {
    received: { always: 'validating' },
    validating: {
      invoke: {
        src: 'validate',
        input: ({ context }) => ({ spec: context.spec }),
        onDone: [
          { guard: { type: 'schemaPassed', params: ({ event }) => event.output }, target: 'gating' },
          { target: 'denied', actions: { type: 'recordMalformed', params: ({ event }) => event.output } },
        ],
        onError: {
          target: 'denied',
          actions: { type: 'recordGateError', params: ({ event }: { event: { error: unknown } }) => event.error },
        },
      },
    },
    gating: {
      invoke: {
        src: 'gate',
        input: ({ context }) => ({ spec: context.spec }),
        onDone: [
          {
            guard: { type: 'decisionIs', params: ({ event }) => ({ result: event.output, decision: 'denied' }) },
            target: 'denied',
            actions: { type: 'recordGate', params: ({ event }) => event.output },
          },
          {
            guard: { type: 'decisionIs', params: ({ event }) => ({ result: event.output, decision: 'nothing_to_do' }) },
            target: 'nothing_to_do',
            actions: { type: 'recordGate', params: ({ event }) => event.output },
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
        onError: {
          target: 'denied',
          actions: { type: 'recordGateError', params: ({ event }: { event: { error: unknown } }) => event.error },
        },
      },
    },
    awaiting_approval: {
      invoke: { src: 'approvalDeadline', input: ({ context }) => ({ at: context.expiresAt }) },
      on: {
        APPROVE: [
          {
            guard: and(['canApprove', 'recheckPassed']),
            target: 'approved',
            actions: ['recordApproval', 'recordRecheck'],
          },
          { guard: 'canApprove', target: 'failed', actions: ['recordApproval', 'recordRecheck'] },
        ],
        DENY: { guard: 'canClose', target: 'denied', actions: ['recordClosure', 'recordDenialDecision'] },
        CANCEL: { guard: 'canClose', target: 'cancelled', actions: 'recordClosure' },
        APPROVAL_EXPIRED: 'expired',
      },
    },
    // Decided; waits until the execution loop has taken it into its queue.
    approved: {
      on: { QUEUED: 'queued', CANCEL: { guard: 'canClose', target: 'cancelled', actions: 'recordClosure' } },
    },
    queued: {
      on: {
        EXECUTE: [
          { guard: 'recheckPassed', target: 'executing', actions: 'recordRecheck' },
          { target: 'failed', actions: 'recordRecheck' },
        ],
        CANCEL: { guard: 'canClose', target: 'cancelled', actions: 'recordClosure' },
      },
    },
    executing: {
      invoke: {
        id: 'executor',
        src: 'execute',
        input: ({ context }) => ({ requestId: context.spec.id }),
        onError: {
          target: 'failed',
          actions: { type: 'recordExecutorError', params: ({ event }: { event: { error: unknown } }) => event.error },
        },
      },
      on: {
        TASK_ISSUING: { actions: 'recordIssuing' },
        TASK_STARTED: { actions: 'recordTask' },
        EXECUTION_SUCCEEDED: 'completed',
        EXECUTION_FAILED: { target: 'failed', actions: 'recordFailure' },
        EXECUTION_CANCELLED: 'cancelled',
        CANCEL: { guard: 'canClose', actions: ['recordClosure', 'recordCancelRequest', 'forwardCancel'] },
      },
    },
    denied: { type: 'final' },
    completed: { type: 'final' },
    failed: { type: 'final' },
    cancelled: { type: 'final' },
    expired: { type: 'final' },
    // The VM is already where the request would take it: ended without a platform call.
    nothing_to_do: { type: 'final' },
  },
});

export type RequestMachine = typeof requestMachine;
