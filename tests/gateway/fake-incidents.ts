// The fake core's incidents (tests/gateway/fake-core.ts): two of them, answered through the same query schemas as the
// real core's. i1: a critical unexpected stop of lab/101 being remediated by request r9; i2: a warning on host pve2,
// resolved. Acknowledging or resolving follows the real rules (once; never a resolved one; operator and up).
import type { IncidentDetail, IncidentView, Principal, QueryMap } from '../../protocol';

type Handlers = {
  [W in 'incidents' | 'incident' | 'incidentAck' | 'incidentResolve']: (
    p: QueryMap[W]['payload'],
    principal: Principal,
  ) => QueryMap[W]['reply'];
};

export interface FakeIncidents {
  items: Map<string, IncidentDetail>;
  handlers: Handlers;
  /** The `status` query's `incidents`. */
  openBySeverity(): { open: number; bySeverity: Record<string, number> };
}

const view = ({ timeline: _t, requests: _r, data: _d, ...rest }: IncidentDetail): IncidentView => rest;

export function createFakeIncidents(now: () => number): FakeIncidents {
  const t0 = now() - 120_000;
  const items = new Map<string, IncidentDetail>([
    [
      'i1',
      {
        id: 'i1',
        kind: 'vm-unexpected-stop',
        subject: 'vm:lab/101',
        guest: 'lab/101',
        severity: 'critical',
        state: 'remediating',
        detail: 'VM lab/101 (vm101) stopped with no request behind it',
        openedAt: t0,
        updatedAt: t0 + 1000,
        lastSeenAt: t0 + 1000,
        occurrences: 1,
        remediationAttempts: 1,
        timeline: [
          { at: t0, event: 'opened', detail: 'critical vm-unexpected-stop on vm:lab/101' },
          {
            at: t0 + 1000,
            event: 'remediation',
            action: 'start',
            requestId: 'r9',
            detail: 'start as request r9: under way',
          },
        ],
        requests: [
          {
            id: 'r9',
            action: 'start',
            target: { cluster: 'lab', vmid: 101 },
            status: 'executing',
            decision: 'approved',
            reasons: [],
            submittedAt: t0 + 1000,
            updatedAt: t0 + 1000,
          },
        ],
      },
    ],
    [
      'i2',
      {
        id: 'i2',
        kind: 'host-overload',
        subject: 'host:lab/pve2',
        severity: 'warning',
        state: 'resolved',
        detail: 'host lab/pve2 memory at 95%',
        openedAt: t0 - 60_000,
        updatedAt: t0 - 30_000,
        lastSeenAt: t0 - 30_000,
        occurrences: 2,
        remediationAttempts: 0,
        resolvedAt: t0 - 30_000,
        outcome: 'the condition cleared by itself',
        timeline: [],
        requests: [],
      },
    ],
  ]);

  const act = (id: string, by: Principal, word: 'ack' | 'resolve', note?: string): QueryMap['incidentAck']['reply'] => {
    const i = items.get(id);
    if (!i) return { ok: false, code: 'not_found', reason: `no incident ${id}` };
    if (i.state === 'resolved') return { ok: false, code: 'conflict', reason: `incident ${id} is already resolved` };
    const person = { by: by.id, name: by.name, at: now(), ...(note !== undefined ? { note } : {}) };
    if (word === 'ack') {
      if (i.acknowledged) {
        return {
          ok: false,
          code: 'conflict',
          reason: `incident ${id} was already acknowledged by ${i.acknowledged.name}`,
        };
      }
      i.acknowledged = person;
      i.timeline.push({ at: now(), event: 'acknowledged', detail: note ?? `acknowledged by ${by.name}`, by: by.id });
    } else {
      i.state = 'resolved';
      i.resolvedAt = now();
      i.resolvedBy = person;
      i.outcome = `resolved by ${by.name}${note ? `: ${note}` : ''}`;
      i.timeline.push({ at: now(), event: 'resolved', detail: i.outcome, by: by.id });
    }
    i.updatedAt = now();
    return { ok: true, incident: view(i) };
  };

  const handlers: Handlers = {
    incidents: (p) => {
      const matching = [...items.values()]
        .filter(
          (i) =>
            (p.state === undefined || (p.state === 'unresolved' ? i.state !== 'resolved' : i.state === p.state)) &&
            (p.kind === undefined || i.kind === p.kind) &&
            (p.guest === undefined || i.guest === p.guest),
        )
        .sort((a, b) => b.openedAt - a.openedAt);
      const limit = p.limit ?? 100;
      const offset = p.offset ?? 0;
      return { items: matching.slice(offset, offset + limit).map(view), total: matching.length, limit, offset };
    },
    incident: (p) => {
      const i = items.get(p.id);
      return i ? structuredClone(i) : null;
    },
    incidentAck: (p, by) => act(p.id, by, 'ack', p.note),
    incidentResolve: (p, by) => act(p.id, by, 'resolve', p.note),
  };

  return {
    items,
    handlers,
    openBySeverity: () => {
      const bySeverity: Record<string, number> = {};
      let open = 0;
      for (const i of items.values()) {
        if (i.state === 'resolved') continue;
        bySeverity[i.severity] = (bySeverity[i.severity] ?? 0) + 1;
        open += 1;
      }
      return { open, bySeverity };
    },
  };
}
