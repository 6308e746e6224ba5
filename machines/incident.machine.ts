// The incident actor (`incident:<id>`): one problem the monitor found, from the moment it is seen until it is gone.
// open → remediating → resolved | escalated; open → resolved when the condition clears by itself; escalated →
// resolved when it clears (or a person resolves it). Seeing the same condition again updates the incident: one
// incident per dedupe key while it is not resolved. A person may acknowledge it (once; its status does not change)
// or resolve it; both are entries of its timeline (`actions`) naming who. Pure: times arrive inside events.
import { assign, emit, setup } from 'xstate';
import {
  acknowledgementOf,
  clearanceOutcome,
  eventAt,
  type IncidentContext,
  type IncidentEvent,
  type IncidentInput,
  type IncidentNotice,
  type IncidentStatus,
  notice,
  PERSON_ACTIONS,
  personName,
  SEVERITY_RANK,
} from './incident-rules';

// The contract (context, input, events, notices) and its pure rules live in incident-rules.ts; they stay importable
// from here.
export type {
  IncidentActionEntry,
  IncidentContext,
  IncidentEvent,
  IncidentInput,
  IncidentNotice,
  IncidentNoticeType,
  IncidentStatus,
} from './incident-rules';
export {
  acknowledgementOf,
  INCIDENT_NOTICES,
  INCIDENT_STATUSES,
  incidentActorId,
  incidentInputFromCondition,
  incidentStatusOf,
  PERSON_ACTIONS,
} from './incident-rules';

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
