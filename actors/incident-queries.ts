// The core's answers to the incident queries (protocol/incident-schemas.ts): the list (filtered, paged, with a
// total), one incident with its timeline and the requests it caused, and a person's acknowledgement or resolution
// (operator; through IncidentService, audited as the caller). Read from the store, which the Monitor keeps in step
// with every live incident actor.
import type { Clock } from '../adapters/clock';
import type { IncidentActionEntry, IncidentMachine, IncidentStatus } from '../machines/incident.machine';
import { acknowledgementOf, PERSON_ACTIONS } from '../machines/incident.machine';
import type { Severity } from '../machines/monitor/types';
import type {
  IncidentDetail,
  IncidentListPayload,
  IncidentListReply,
  IncidentPerson,
  IncidentRequestView,
  IncidentSeverity,
  IncidentState,
  IncidentTimelineEntry,
  IncidentView,
  QueryHandlers,
  StatusReply,
} from '../protocol';
import { DEFAULT_INCIDENT_PAGE, INCIDENT_SEVERITIES, INCIDENT_STATES, MAX_INCIDENT_PAGE } from '../protocol';
import type { IncidentFilter, IncidentRecord, StateStore } from '../state';
import type { ActorSet } from './actor-set';
import type { IncidentActResult } from './incident-service';
import { IncidentService } from './incident-service';

// The wire's states and severities are the machine's.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const statesAgree: Same<IncidentStatus, IncidentState> = true;
const severitiesAgree: Same<Severity, IncidentSeverity> = true;
void statesAgree;
void severitiesAgree;

export interface IncidentQueryDeps {
  store: StateStore;
  clock: Clock;
  /** The Monitor's live incident actors (a person's word goes to them). */
  incidents: ActorSet<IncidentMachine>;
}

type IncidentQueryHandlers = Pick<QueryHandlers, 'incidents' | 'incident' | 'incidentAck' | 'incidentResolve'>;

const UNRESOLVED = INCIDENT_STATES.filter((s) => s !== 'resolved');

/** `vm:lab/101` → `lab/101`; undefined for other subjects. */
const guestOf = (subject: string): string | undefined => (subject.startsWith('vm:') ? subject.slice(3) : undefined);

const person = (entry: IncidentActionEntry | undefined, withNote: boolean): IncidentPerson | undefined =>
  entry?.by === undefined
    ? undefined
    : {
        by: entry.by,
        ...(entry.byName !== undefined ? { name: entry.byName } : {}),
        at: entry.at,
        ...(withNote && entry.result !== undefined ? { note: entry.result } : {}),
      };

export function incidentView(r: IncidentRecord): IncidentView {
  const guest = guestOf(r.subject);
  const acknowledged = person(acknowledgementOf(r.actions), true);
  const resolvedBy = person(
    r.actions.findLast((a) => a.action === 'resolve'),
    true,
  );
  return {
    id: r.id,
    kind: r.kind,
    subject: r.subject,
    ...(guest !== undefined ? { guest } : {}),
    severity: r.severity,
    state: r.status,
    detail: r.detail,
    openedAt: r.openedAt,
    updatedAt: r.updatedAt,
    lastSeenAt: r.lastSeenAt,
    occurrences: r.occurrences,
    remediationAttempts: r.remediationAttempts,
    ...(acknowledged ? { acknowledged } : {}),
    ...(r.resolvedAt !== undefined ? { resolvedAt: r.resolvedAt } : {}),
    ...(resolvedBy ? { resolvedBy } : {}),
    ...(r.outcome !== undefined ? { outcome: r.outcome } : {}),
    ...(r.cause !== undefined ? { cause: r.cause } : {}),
  };
}

function actionEntry(a: IncidentActionEntry): IncidentTimelineEntry {
  const who = a.byName ?? a.by ?? 'someone';
  const common = {
    at: a.at,
    ...(a.by !== undefined ? { by: a.by } : {}),
    ...(a.byName !== undefined ? { byName: a.byName } : {}),
  };
  switch (a.action) {
    case 'acknowledge':
      return { ...common, event: 'acknowledged', detail: `acknowledged by ${who}${a.result ? `: ${a.result}` : ''}` };
    case 'resolve':
      return { ...common, event: 'resolved', detail: `resolved by ${who}${a.result ? `: ${a.result}` : ''}` };
    case 'escalate':
      return { ...common, event: 'escalated', detail: a.result ?? 'escalated to a person' };
    case 'notify':
      return { ...common, event: 'notified', detail: a.result ?? 'people were told' };
    default: {
      const request = a.requestId ? ` as request ${a.requestId}` : '';
      // The monitor's results name the request again (`request <id> failed: ...`): said once is enough.
      const result = a.requestId ? a.result?.replace(`request ${a.requestId} `, '') : a.result;
      const outcome = result ?? (a.ok === undefined ? 'under way' : a.ok ? 'done' : 'failed');
      return {
        ...common,
        event: a.action === 'command' ? 'command' : 'remediation',
        action: a.action,
        ...(a.requestId !== undefined ? { requestId: a.requestId } : {}),
        ...(a.ok !== undefined ? { ok: a.ok } : {}),
        detail: `${a.action}${request}: ${outcome}`,
      };
    }
  }
}

/** What happened to an incident, oldest first: opened, what was done and by whom, last seen, resolved. */
export function incidentTimeline(r: IncidentRecord): IncidentTimelineEntry[] {
  // The last sighting goes before what was done at the same moment (it was seen, then acted on).
  const seen: IncidentTimelineEntry[] =
    r.occurrences > 1
      ? [{ at: r.lastSeenAt, event: 'seen', detail: `seen ${r.occurrences} times; last: ${r.detail}` }]
      : [];
  const entries: IncidentTimelineEntry[] = [
    { at: r.openedAt, event: 'opened', detail: `${r.severity} ${r.kind} on ${r.subject}` },
    ...seen,
    ...r.actions.map(actionEntry),
  ];
  const byPerson = r.actions.some((a) => a.action === 'resolve');
  if (r.status === 'resolved' && !byPerson) {
    entries.push({ at: r.resolvedAt ?? r.updatedAt, event: 'resolved', detail: r.outcome ?? 'resolved' });
  }
  // Stable: entries of the same time keep their order.
  return entries
    .map((e, i) => [e, i] as const)
    .sort(([a, i], [b, j]) => a.at - b.at || i - j)
    .map(([e]) => e);
}

/** The requests an incident caused (its remediations), in the order they were made. */
function incidentRequests(store: StateStore, r: IncidentRecord): IncidentRequestView[] {
  const ids = [
    ...new Set(r.actions.filter((a) => a.requestId && !PERSON_ACTIONS.has(a.action)).map((a) => a.requestId)),
  ];
  const out: IncidentRequestView[] = [];
  for (const id of ids) {
    const q = id ? store.requests.get(id) : undefined;
    if (!q) continue;
    out.push({
      id: q.id,
      action: q.action,
      target: q.target,
      status: q.status,
      ...(q.decision !== undefined ? { decision: q.decision } : {}),
      reasons: q.reasons,
      ...(q.error !== undefined ? { error: q.error } : {}),
      submittedAt: q.submittedAt,
      updatedAt: q.updatedAt,
    });
  }
  return out;
}

export function incidentDetail(store: StateStore, r: IncidentRecord): IncidentDetail {
  return {
    ...incidentView(r),
    ...(r.data !== undefined ? { data: { ...r.data } } : {}),
    timeline: incidentTimeline(r),
    requests: incidentRequests(store, r),
  };
}

/** A page of incidents, newest first, and how many match. */
export function listIncidents(store: StateStore, payload: IncidentListPayload): IncidentListReply {
  const filter: IncidentFilter = {
    status: payload.state === 'unresolved' ? UNRESOLVED : payload.state,
    kind: payload.kind,
    subject: payload.guest !== undefined ? `vm:${payload.guest}` : undefined,
  };
  const limit = Math.min(payload.limit ?? DEFAULT_INCIDENT_PAGE, MAX_INCIDENT_PAGE);
  const offset = payload.offset ?? 0;
  const items = store.incidents.list({ ...filter, limit, offset }).map(incidentView);
  return { items, total: store.incidents.count(filter), limit, offset };
}

/** Incidents not yet resolved, counted by severity (the `status` query's `incidents`). */
export function openIncidentsBySeverity(store: StateStore): NonNullable<StatusReply['incidents']> {
  const bySeverity: Record<string, number> = {};
  let open = 0;
  for (const { severity, count } of store.incidents.openCounts()) {
    bySeverity[severity] = (bySeverity[severity] ?? 0) + count;
    open += count;
  }
  // Most severe first, as people read them.
  const ordered: Record<string, number> = {};
  for (const s of [...INCIDENT_SEVERITIES].reverse()) if (bySeverity[s] !== undefined) ordered[s] = bySeverity[s];
  return { open, bySeverity: ordered };
}

const answer = (result: IncidentActResult) =>
  result.ok ? { ok: true as const, incident: incidentView(result.incident) } : result;

/** The four incident handlers, for actors/core-service.ts. */
export function incidentQueries(deps: IncidentQueryDeps): IncidentQueryHandlers {
  const { store } = deps;
  const service = new IncidentService(deps);
  return {
    incidents: (payload) => listIncidents(store, payload),
    incident: ({ id }) => {
      const record = store.incidents.get(id);
      return record ? incidentDetail(store, record) : null;
    },
    incidentAck: ({ id, note }, by) => answer(service.acknowledge(id, by, note)),
    incidentResolve: ({ id, note }, by) => answer(service.resolve(id, by, note)),
  };
}
