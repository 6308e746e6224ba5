// The incident machine's contract and its pure rules: the statuses, its context, input, events and the notices it
// emits, the actor id and input for a condition, and how its timeline reads (who acknowledged it, how it ended). The
// machine (incident.machine.ts) and the runtime use these; nothing here has effects.
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

export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { info: 0, warning: 1, critical: 2 };

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
export function clearanceOutcome(context: IncidentContext, after: 'open' | 'remediating' | 'escalated'): string {
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

export function notice(
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
export const personName = (event: { by: string; byName?: string | undefined }): string => event.byName ?? event.by;

export const eventAt = (event: IncidentEvent): number => event.at;
