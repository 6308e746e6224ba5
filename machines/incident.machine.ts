// The incident actor (`incident:<id>`): one problem the monitor found, from the moment it is seen until it is gone.
// open → remediating → resolved | escalated; open → resolved when the condition clears by itself; escalated →
// resolved when it clears (or a person resolves it). Seeing the same condition again updates the incident: one
// incident per dedupe key while it is not resolved. A person may acknowledge it (once; its status does not change)
// or resolve it; both are entries of its timeline (`actions`) naming who. Pure: times arrive inside events.
import { assign, emit, setup } from 'xstate';
import type { Condition, ConditionKind, Severity } from './monitor/types';

export const INCIDENT_STATUSES = ['open', 'remediating', 'escalated', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** Something done about an incident: a request Overseer made, a command it ran, an escalation, a person's word. */
export interface IncidentActionEntry {
  at: number;
  /** An Action (`start`, `reboot`, ...), `command`, `notify`, `escalate`, or a person's `acknowledge` / `resolve`. */
  action: string;
  requestId?: string | undefined;
  /** What came of it, once known (for `escalate`: the reason; for a person's entry: their note, if any). */
  result?: string | undefined;
  ok?: boolean | undefined;
  /** Who did it, for a person's entries (`acknowledge`, `resolve`): the principal's id, and their name. */
  by?: string | undefined;
  byName?: string | undefined;
}

/** The entries a person adds (never an automatic remediation, never waiting for a result). */
export const PERSON_ACTIONS: ReadonlySet<string> = new Set(['acknowledge', 'resolve']);

/** The acknowledgement of an incident (its first `acknowledge` entry), if any. */
export const acknowledgementOf = (actions: readonly IncidentActionEntry[]): IncidentActionEntry | undefined =>
  actions.find((a) => a.action === 'acknowledge');

/** Everything known of an incident. The stored record is this plus its status. */
export interface IncidentContext {
  id: string;
  kind: ConditionKind | (string & {});
  /** The actor it is about: `vm:lab/101`, `host:lab/pve2`, `cluster:lab`, `req:<id>`. */
  subject: string;
  dedupeKey: string;
  severity: Severity;
  openedAt: number;
  /** epoch ms of the last event that changed it */
  updatedAt: number;
  /** epoch ms the condition was last seen */
  lastSeenAt: number;
  /** How many times the monitor has seen the condition (1 when opened). */
  occurrences: number;
  /** The latest human sentence describing the condition. */
  detail: string;
  data?: Readonly<Record<string, unknown>> | undefined;
  actions: IncidentActionEntry[];
  remediationAttempts: number;
  cause?: string | undefined;
  outcome?: string | undefined;
  resolvedAt?: number | undefined;
}

/** A condition, the incident id the runtime chose, and when it was opened. */
export interface IncidentInput {
  id: string;
  kind: IncidentContext['kind'];
  subject: string;
  dedupeKey: string;
  severity: Severity;
  detail: string;
  data?: Readonly<Record<string, unknown>> | undefined;
  openedAt: number;
  cause?: string | undefined;
}

export type IncidentEvent =
  | { type: 'REMEDIATION_STARTED'; at: number; action: string; requestId?: string | undefined }
  | { type: 'REMEDIATION_RESULT'; at: number; ok: boolean; detail: string; requestId?: string | undefined }
  | { type: 'CONDITION_CLEARED'; at: number; cause?: string | undefined }
  | {
      type: 'CONDITION_SEEN';
      at: number;
      detail: string;
      severity?: Severity | undefined;
      data?: Readonly<Record<string, unknown>> | undefined;
    }
  | { type: 'ESCALATE'; at: number; reason: string }
  /** A person has seen the incident and owns it (once; later acknowledgements are ignored). */
  | { type: 'ACKNOWLEDGE'; at: number; by: string; byName?: string | undefined; note?: string | undefined }
  /** A person closes the incident. */
  | { type: 'RESOLVE'; at: number; by: string; byName?: string | undefined; note?: string | undefined };

export const INCIDENT_NOTICES = [
  'incident.opened',
  'incident.remediating',
  'incident.remediationFailed',
  'incident.escalated',
  'incident.resolved',
  'incident.severityRaised',
  'incident.acknowledged',
] as const;
export type IncidentNoticeType = (typeof INCIDENT_NOTICES)[number];

/** Emitted on every change worth telling someone about (for notifications and `overseer.evt.incident.<id>.<status>`). */
export interface IncidentNotice {
  type: IncidentNoticeType;
  incidentId: string;
  status: IncidentStatus;
  at: number;
  kind: string;
  subject: string;
  severity: Severity;
  /** A human sentence. */
  message: string;
  /** The person whose word this notice reports (acknowledged, resolved by a person): the principal's id. */
  by?: string | undefined;
  /** Set once a person acknowledged the incident: their id. */
  acknowledgedBy?: string | undefined;
}

const SEVERITY_RANK: Readonly<Record<Severity, number>> = { info: 0, warning: 1, critical: 2 };

/** The actor id of an incident. */
export const incidentActorId = (id: string): string => `incident:${id}`;

/** The input of the incident actor for `condition`, opened at `at`. */
export const incidentInputFromCondition = (id: string, condition: Condition, at: number): IncidentInput => ({
  id,
  kind: condition.kind,
  subject: condition.subject,
  dedupeKey: condition.dedupeKey,
  severity: condition.severity,
  detail: condition.detail,
  data: condition.data,
  openedAt: at,
});

/** The status an incident snapshot is in (its state names are the statuses). */
export function incidentStatusOf(value: unknown): IncidentStatus {
  return value as IncidentStatus;
}

/** How an incident ended, for `outcome`. */
function clearanceOutcome(context: IncidentContext, after: 'open' | 'remediating' | 'escalated'): string {
  if (after === 'escalated') return 'the condition cleared after escalation';
  const last = [...context.actions]
    .reverse()
    .find((a) => a.action !== 'escalate' && a.action !== 'notify' && !PERSON_ACTIONS.has(a.action));
  if (after === 'remediating' && last) {
    const request = last.requestId ? ` (request ${last.requestId})` : '';
    return `remediated by ${last.action}${request}`;
  }
  return context.remediationAttempts > 0
    ? `the condition cleared after ${context.remediationAttempts} remediation attempt(s)`
    : 'the condition cleared by itself';
}

function notice(
  type: IncidentNoticeType,
  status: IncidentStatus,
  context: IncidentContext,
  at: number,
  message: string,
  by?: string,
): IncidentNotice {
  const acknowledged = acknowledgementOf(context.actions);
  return {
    type,
    incidentId: context.id,
    status,
    at,
    kind: context.kind,
    subject: context.subject,
    severity: context.severity,
    message,
    ...(by !== undefined ? { by } : {}),
    ...(acknowledged?.by !== undefined ? { acknowledgedBy: acknowledged.by } : {}),
  };
}

/** `bob`, or the id when the name is unknown. */
const personName = (event: { by: string; byName?: string | undefined }): string => event.byName ?? event.by;

const eventAt = (event: IncidentEvent): number => event.at;

/** The first acknowledgement is recorded and told; a later one changes nothing. */
const acknowledgeIn = (status: Exclude<IncidentStatus, 'resolved'>) =>
  ({
    guard: 'notAcknowledged',
    actions: ['recordAcknowledgement', { type: 'reportAcknowledged', params: { status } }],
  }) as const;

export const incidentMachine = setup({
  types: {
    context: {} as IncidentContext,
    events: {} as IncidentEvent,
    input: {} as IncidentInput,
    emitted: {} as IncidentNotice,
  },
  guards: {
    remediationFailed: ({ event }) => event.type === 'REMEDIATION_RESULT' && !event.ok,
    notAcknowledged: ({ context }) => acknowledgementOf(context.actions) === undefined,
    severityRises: ({ context, event }) =>
      event.type === 'CONDITION_SEEN' &&
      event.severity !== undefined &&
      SEVERITY_RANK[event.severity] > SEVERITY_RANK[context.severity],
  },
  actions: {
    recordSighting: assign(({ context, event }) =>
      event.type === 'CONDITION_SEEN'
        ? {
            detail: event.detail,
            severity: event.severity ?? context.severity,
            data: event.data ?? context.data,
            lastSeenAt: Math.max(context.lastSeenAt, event.at),
            occurrences: context.occurrences + 1,
            updatedAt: event.at,
          }
        : {},
    ),
    recordRemediationStart: assign(({ context, event }) =>
      event.type === 'REMEDIATION_STARTED'
        ? {
            actions: [...context.actions, { at: event.at, action: event.action, requestId: event.requestId }],
            remediationAttempts: context.remediationAttempts + 1,
            updatedAt: event.at,
          }
        : {},
    ),
    /** Records an action without counting it as an automatic remediation attempt. */
    recordAction: assign(({ context, event }) =>
      event.type === 'REMEDIATION_STARTED'
        ? {
            actions: [...context.actions, { at: event.at, action: event.action, requestId: event.requestId }],
            updatedAt: event.at,
          }
        : {},
    ),
    recordRemediationResult: assign(({ context, event }) => {
      if (event.type !== 'REMEDIATION_RESULT') return {};
      // The latest action still waiting for its result (the one of that request, when the event names it).
      let index = -1;
      for (let i = context.actions.length - 1; i >= 0; i--) {
        const a = context.actions[i];
        if (
          a &&
          a.result === undefined &&
          a.action !== 'escalate' &&
          !PERSON_ACTIONS.has(a.action) &&
          (!event.requestId || a.requestId === event.requestId)
        ) {
          index = i;
          break;
        }
      }
      const entry = { ok: event.ok, result: event.detail };
      const actions =
        index >= 0
          ? context.actions.map((a, i) => (i === index ? { ...a, ...entry } : a))
          : [...context.actions, { at: event.at, action: 'unknown', requestId: event.requestId, ...entry }];
      return { actions, updatedAt: event.at };
    }),
    recordEscalation: assign(({ context, event }) =>
      event.type === 'ESCALATE'
        ? {
            actions: [...context.actions, { at: event.at, action: 'escalate', result: event.reason }],
            updatedAt: event.at,
          }
        : {},
    ),
    recordClearance: assign(({ context, event }, params: { after: 'open' | 'remediating' | 'escalated' }) =>
      event.type === 'CONDITION_CLEARED'
        ? {
            outcome: clearanceOutcome(context, params.after),
            cause: event.cause ?? context.cause,
            resolvedAt: event.at,
            updatedAt: event.at,
          }
        : {},
    ),
    recordAcknowledgement: assign(({ context, event }) =>
      event.type === 'ACKNOWLEDGE'
        ? {
            actions: [
              ...context.actions,
              {
                at: event.at,
                action: 'acknowledge',
                by: event.by,
                byName: event.byName,
                result: event.note,
              },
            ],
            updatedAt: event.at,
          }
        : {},
    ),
    recordManualResolution: assign(({ context, event }) =>
      event.type === 'RESOLVE'
        ? {
            actions: [
              ...context.actions,
              {
                at: event.at,
                action: 'resolve',
                by: event.by,
                byName: event.byName,
                result: event.note,
              },
            ],
            outcome: `resolved by ${personName(event)}${event.note ? `: ${event.note}` : ''}`,
            resolvedAt: event.at,
            updatedAt: event.at,
          }
        : {},
    ),
    reportOpened: emit(({ context }) =>
      notice(
        'incident.opened',
        'open',
        context,
        context.openedAt,
        `${context.severity} incident ${context.id} opened: ${context.detail}`,
      ),
    ),
    reportSeverityRaised: emit(({ context, event }) =>
      notice(
        'incident.severityRaised',
        'open',
        context,
        eventAt(event),
        `incident ${context.id} is now ${context.severity}: ${context.detail}`,
      ),
    ),
    reportRemediating: emit(({ context, event }) => {
      const last = context.actions[context.actions.length - 1];
      const request = last?.requestId ? ` (request ${last.requestId})` : '';
      return notice(
        'incident.remediating',
        'remediating',
        context,
        eventAt(event),
        `incident ${context.id}: remediating with ${last?.action ?? 'an action'}${request}`,
      );
    }),
    reportRemediationFailed: emit(({ context, event }) =>
      notice(
        'incident.remediationFailed',
        'open',
        context,
        eventAt(event),
        `incident ${context.id}: remediation failed: ${event.type === 'REMEDIATION_RESULT' ? event.detail : ''}`,
      ),
    ),
    reportEscalated: emit(({ context, event }) =>
      notice(
        'incident.escalated',
        'escalated',
        context,
        eventAt(event),
        `incident ${context.id} escalated: ${event.type === 'ESCALATE' ? event.reason : 'needs a person'}`,
      ),
    ),
    reportResolved: emit(({ context, event }) =>
      notice(
        'incident.resolved',
        'resolved',
        context,
        eventAt(event),
        `incident ${context.id} resolved: ${context.outcome ?? 'resolved'}`,
        event.type === 'RESOLVE' ? event.by : undefined,
      ),
    ),
    reportAcknowledged: emit(({ context, event }, params: { status: IncidentStatus }) =>
      notice(
        'incident.acknowledged',
        params.status,
        context,
        eventAt(event),
        event.type === 'ACKNOWLEDGE'
          ? `incident ${context.id} acknowledged by ${personName(event)}${event.note ? `: ${event.note}` : ''}`
          : `incident ${context.id} acknowledged`,
        event.type === 'ACKNOWLEDGE' ? event.by : undefined,
      ),
    ),
  },
}).createMachine({
  id: 'incident',
  context: ({ input }) => ({
    id: input.id,
    kind: input.kind,
    subject: input.subject,
    dedupeKey: input.dedupeKey,
    severity: input.severity,
    openedAt: input.openedAt,
    updatedAt: input.openedAt,
    lastSeenAt: input.openedAt,
    occurrences: 1,
    detail: input.detail,
    data: input.data,
    actions: [],
    remediationAttempts: 0,
    cause: input.cause,
  }),
  entry: 'reportOpened',
  initial: 'open',
  on: {
    CONDITION_SEEN: [
      { guard: 'severityRises', actions: ['recordSighting', 'reportSeverityRaised'] },
      { actions: 'recordSighting' },
    ],
    // A result that arrives after the incident moved on (a late answer) is still recorded.
    REMEDIATION_RESULT: { actions: 'recordRemediationResult' },
    RESOLVE: { target: '.resolved', actions: 'recordManualResolution' },
  },
  states: {
    open: {
      on: {
        ACKNOWLEDGE: acknowledgeIn('open'),
        REMEDIATION_STARTED: { target: 'remediating', actions: 'recordRemediationStart' },
        CONDITION_CLEARED: {
          target: 'resolved',
          actions: { type: 'recordClearance', params: { after: 'open' } },
        },
        ESCALATE: { target: 'escalated', actions: 'recordEscalation' },
      },
    },
    remediating: {
      entry: 'reportRemediating',
      on: {
        ACKNOWLEDGE: acknowledgeIn('remediating'),
        // A further step (e.g. a reboot after a failed start): recorded, still remediating.
        REMEDIATION_STARTED: { actions: 'recordRemediationStart' },
        // Success is not resolution: the incident waits here until the monitor no longer sees the condition.
        REMEDIATION_RESULT: [
          {
            guard: 'remediationFailed',
            target: 'open',
            actions: ['recordRemediationResult', 'reportRemediationFailed'],
          },
          { actions: 'recordRemediationResult' },
        ],
        CONDITION_CLEARED: {
          target: 'resolved',
          actions: { type: 'recordClearance', params: { after: 'remediating' } },
        },
        ESCALATE: { target: 'escalated', actions: 'recordEscalation' },
      },
    },
    escalated: {
      entry: 'reportEscalated',
      on: {
        ACKNOWLEDGE: acknowledgeIn('escalated'),
        // Overseer stops trying; what a person does is still recorded.
        REMEDIATION_STARTED: { actions: 'recordAction' },
        CONDITION_CLEARED: {
          target: 'resolved',
          actions: { type: 'recordClearance', params: { after: 'escalated' } },
        },
      },
    },
    resolved: { type: 'final', entry: 'reportResolved' },
  },
});

export type IncidentMachine = typeof incidentMachine;
