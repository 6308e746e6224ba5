// A person's word on an incident: acknowledge it (once; it then pages no one until it is resolved) or resolve it.
// The word goes to the incident's live actor, held by the Monitor, whose hooks store it, publish it and audit it as
// the person's. An incident stored as unresolved with no live actor (its snapshot could not be restored) is updated
// in the store directly, and audited the same way.
import type { Clock } from '../adapters/clock';
import type { IncidentActionEntry, IncidentMachine, IncidentNotice } from '../machines/incident.machine';
import { acknowledgementOf } from '../machines/incident.machine';
import type { IncidentRecord, StateStore } from '../state';
import type { ActorSet } from './actor-set';
import { stateName } from './watch';

/** Who acts: the principal the core resolved from the call's credential. */
export interface IncidentActor {
  id: string;
  name?: string | undefined;
}

export type IncidentActResult =
  | { ok: true; incident: IncidentRecord }
  | { ok: false; code: 'not_found' | 'conflict'; reason: string };

export interface IncidentServiceDeps {
  store: StateStore;
  clock: Clock;
  /** The Monitor's live incident actors, by incident id. */
  incidents: ActorSet<IncidentMachine>;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const nameOf = (entry: IncidentActionEntry): string => entry.byName ?? entry.by ?? 'someone';

export class IncidentService {
  constructor(private readonly deps: IncidentServiceDeps) {}

  /** Acknowledges an incident not yet resolved and not acknowledged before. */
  acknowledge(id: string, by: IncidentActor, note?: string): IncidentActResult {
    const found = this.current(id);
    if (!found.ok) return found;
    const earlier = acknowledgementOf(found.actions);
    if (earlier) {
      return {
        ok: false,
        code: 'conflict',
        reason: `incident ${id} was already acknowledged by ${nameOf(earlier)} at ${iso(earlier.at)}`,
      };
    }
    const at = this.deps.clock.now();
    const event = { type: 'ACKNOWLEDGE', at, by: by.id, byName: by.name, note } as const;
    const live = this.deps.incidents.get(id);
    if (live) {
      live.send(event);
    } else {
      const entry: IncidentActionEntry = {
        at,
        action: 'acknowledge',
        by: by.id,
        byName: by.name,
        result: note,
      };
      const record = found.record;
      this.writeWithoutActor(record, { actions: [...record.actions, entry] }, at, {
        type: 'incident.acknowledged',
        message: `incident ${id} acknowledged by ${by.name ?? by.id}${note ? `: ${note}` : ''}`,
        by: by.id,
        acknowledgedBy: by.id,
      });
    }
    return this.answer(id);
  }

  /** Resolves an incident not yet resolved. The condition, if still present, opens a new incident. */
  resolve(id: string, by: IncidentActor, note?: string): IncidentActResult {
    const found = this.current(id);
    if (!found.ok) return found;
    const at = this.deps.clock.now();
    const live = this.deps.incidents.get(id);
    if (live) {
      live.send({ type: 'RESOLVE', at, by: by.id, byName: by.name, note });
    } else {
      const record = found.record;
      const who = by.name ?? by.id;
      const outcome = `resolved by ${who}${note ? `: ${note}` : ''}`;
      const entry: IncidentActionEntry = {
        at,
        action: 'resolve',
        by: by.id,
        byName: by.name,
        result: note,
      };
      this.writeWithoutActor(
        record,
        { status: 'resolved', actions: [...record.actions, entry], outcome, resolvedAt: at },
        at,
        {
          type: 'incident.resolved',
          message: `incident ${id} resolved: ${outcome}`,
          by: by.id,
          acknowledgedBy: acknowledgementOf(record.actions)?.by,
        },
      );
    }
    return this.answer(id);
  }

  /** The stored incident and its timeline as it stands (the live actor's, when there is one), unless resolved. */
  private current(
    id: string,
  ):
    | { ok: true; record: IncidentRecord; actions: readonly IncidentActionEntry[] }
    | { ok: false; code: 'not_found' | 'conflict'; reason: string } {
    const record = this.deps.store.incidents.get(id);
    if (!record) return { ok: false, code: 'not_found', reason: `no incident ${id}` };
    const live = this.deps.incidents.get(id)?.getSnapshot();
    const status = live ? stateName(live.value) : record.status;
    if (status === 'resolved') {
      const outcome = live?.context.outcome ?? record.outcome;
      return {
        ok: false,
        code: 'conflict',
        reason: `incident ${id} is already resolved${outcome ? ` (${outcome})` : ''}`,
      };
    }
    return { ok: true, record, actions: live?.context.actions ?? record.actions };
  }

  private answer(id: string): IncidentActResult {
    const record = this.deps.store.incidents.get(id);
    return record ? { ok: true, incident: record } : { ok: false, code: 'not_found', reason: `no incident ${id}` };
  }

  /** Stores the change and audits it as the person's, in one transaction. */
  private writeWithoutActor(
    record: IncidentRecord,
    patch: Parameters<StateStore['incidents']['update']>[1],
    at: number,
    notice: Pick<IncidentNotice, 'type' | 'message' | 'by' | 'acknowledgedBy'>,
  ): void {
    const { store } = this.deps;
    store.transaction(() => {
      const next = store.incidents.update(record.id, patch, at);
      const data: IncidentNotice = {
        incidentId: record.id,
        status: next.status,
        at,
        kind: record.kind,
        subject: record.subject,
        severity: record.severity,
        ...notice,
      };
      store.audit.append({ at, actor: notice.by ?? 'overseer', kind: notice.type, data });
    });
  }
}
