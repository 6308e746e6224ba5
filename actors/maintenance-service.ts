// The core's answers to the maintenance queries (protocol/maintenance-schemas.ts): list, start and end maintenance
// windows; list, add and remove silences. Each change is stored, audited as the caller, published on
// `overseer.evt.loop.monitor.maintenance` (or `.silence`) and applied at once to the live view the gate and the
// monitor read. Input the schemas cannot judge alone — times against now, a target the inventory does not know —
// is refused naming the field.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../adapters/clock';
import type { MaintenanceScope } from '../machines/maintenance';
import { hostKey } from '../machines/types';
import type { MaintenanceListPayload, MaintenanceView, Principal, QueryHandlers, SilenceView } from '../protocol';
import { InputRefusedError, MAX_MAINTENANCE_SECONDS, subjects } from '../protocol';
import type { EntryFilter, MaintenanceRecord, SilenceRecord, StateStore } from '../state';
import { entryState } from '../state';
import type { SystemView } from './system-view';

export interface MaintenanceServiceDeps {
  store: StateStore;
  clock: Clock;
  /** The live view: its inventory judges targets, its board is what the gate and the monitor read. */
  view: Pick<SystemView, 'vms' | 'hosts' | 'clusters' | 'maintenance'>;
  /** Where changes are published (the bus); a failure is not the caller's. */
  publish?: ((subject: string, payload: unknown) => void) | undefined;
  /** Ids of new windows and silences (default `m-<8 hex>`, `s-<8 hex>`; scenario tests number them). */
  newId?: ((kind: 'maintenance' | 'silence') => string) | undefined;
  /**
   * In a cluster runtime (several cores): resolves once every commit made before the call is in the replicated
   * record. A start, end, add or remove is answered only after it, so a core taking the cluster over has it.
   */
  durable?: (() => Promise<void>) | undefined;
}

type MaintenanceHandlers = Pick<
  QueryHandlers,
  'maintenanceList' | 'maintenanceStart' | 'maintenanceEnd' | 'silenceList' | 'silenceAdd' | 'silenceRemove'
>;

const DEFAULT_PAGE = 100;

/** What the handlers need of a table of timed entries (state/maintenance-repo.ts). */
interface EntryTable<R> {
  get(id: string): R | undefined;
  end(id: string, at: number, by: string): R | undefined;
  list(filter: EntryFilter, now: number): R[];
  count(filter: EntryFilter, now: number): number;
}

type Timed = { id: string; from: number; until: number; endedAt?: number | undefined };

const randomId = (kind: 'maintenance' | 'silence'): string =>
  `${kind === 'maintenance' ? 'm' : 's'}-${randomBytes(4).toString('hex')}`;

/** Puts the windows and silences not yet over at `now` on the view's board (at start). */
export function loadMaintenance(view: Pick<SystemView, 'maintenance'>, store: StateStore, now: number): void {
  view.maintenance.load(store.maintenance.windows.current(now), store.maintenance.silences.current(now));
}

export const maintenanceView = (r: MaintenanceRecord, now: number): MaintenanceView => ({
  ...r,
  state: entryState(r, now),
});
export const silenceView = (r: SilenceRecord, now: number): SilenceView => ({ ...r, state: entryState(r, now) });

/** When an entry holds, from the payload: from (default now) until `until` or for `durationSeconds`. */
function period(
  p: { from?: number | undefined; until?: number | undefined; durationSeconds?: number | undefined },
  now: number,
): { from: number; until: number } {
  const from = p.from ?? now;
  const until = p.until ?? from + (p.durationSeconds ?? 0) * 1000;
  const field = p.until !== undefined ? 'until' : 'durationSeconds';
  if (until <= now) throw new InputRefusedError(`${field}: the end must be in the future`, field);
  if (until <= from) throw new InputRefusedError(`${field}: the end must come after the start (from)`, field);
  if (until - Math.max(from, now) > MAX_MAINTENANCE_SECONDS * 1000) {
    throw new InputRefusedError(`${field}: at most ${MAX_MAINTENANCE_SECONDS / 86_400} days from now`, field);
  }
  return { from, until };
}

export function maintenanceQueries(deps: MaintenanceServiceDeps): MaintenanceHandlers {
  const { store, clock, view } = deps;
  const newId = deps.newId ?? randomId;
  const board = view.maintenance;
  /** The answer to a change, once the change is in the record (at once without one). */
  const answer = <T>(value: T): T | Promise<T> => (deps.durable ? deps.durable().then(() => value) : value);

  const knownCluster = (cluster: string, field: string) => {
    if (!view.clusters.has(cluster)) {
      const known = [...view.clusters.keys()].sort().join(', ') || 'none';
      throw new InputRefusedError(`${field}: no cluster '${cluster}' (clusters: ${known})`, field);
    }
  };
  /** A target the inventory does not know is a typo, not a plan: refused. */
  const checkTarget = (scope: MaintenanceScope, target: string, field: string) => {
    if (scope === 'tag') {
      for (const vm of view.vms.values()) if (vm.tags.includes(target)) return;
      throw new InputRefusedError(`${field}: no guest carries the tag '${target}'`, field);
    }
    const [cluster = '', rest = ''] = target.split('/');
    knownCluster(cluster, field);
    const known = scope === 'guest' ? view.vms.has(target) : view.hosts.has(hostKey(cluster, rest));
    if (!known) throw new InputRefusedError(`${field}: no ${scope} ${target} in the inventory`, field);
  };

  const publish = (event: string, payload: unknown) => {
    try {
      deps.publish?.(subjects.evtLoop('monitor', event), payload);
    } catch {
      // The change is stored and audited; a bus that fails does not undo it (the caller sees the reply).
    }
  };

  const audited = <T>(principal: Principal, kind: string, write: () => T, data: (result: T) => unknown): T => {
    const at = clock.now();
    return store.transaction(() => {
      const result = write();
      store.audit.append({ at, actor: principal.id, kind, data: data(result) });
      return result;
    });
  };

  function list<R extends Timed, V>(table: EntryTable<R>, toView: (r: R, now: number) => V, p: MaintenanceListPayload) {
    const now = clock.now();
    const limit = p.limit ?? DEFAULT_PAGE;
    const offset = p.offset ?? 0;
    const filter = { all: p.all, limit, offset };
    return {
      items: table.list(filter, now).map((r) => toView(r, now)),
      total: table.count(filter, now),
      limit,
      offset,
    };
  }

  /** Ends an entry not yet over; the refusal says why it cannot be. */
  function end<R extends Timed>(
    table: EntryTable<R>,
    what: string,
    id: string,
    principal: Principal,
    kind: string,
  ): { ok: true; record: R } | { ok: false; code: 'not_found' | 'conflict'; reason: string } {
    const existing = table.get(id);
    if (!existing) return { ok: false, code: 'not_found', reason: `no ${what} ${id}` };
    const at = clock.now();
    const state = entryState(existing, at);
    if (state === 'ended' || state === 'expired') {
      return { ok: false, code: 'conflict', reason: `${what} ${id} is already over (${state})` };
    }
    const ended = audited(
      principal,
      kind,
      () => table.end(id, at, principal.id),
      (r) => ({ id, endedAt: at, entry: r }),
    );
    if (!ended) return { ok: false, code: 'conflict', reason: `${what} ${id} is already over` };
    return { ok: true, record: ended };
  }

  return {
    maintenanceList: (p) => list(store.maintenance.windows, maintenanceView, p),

    maintenanceStart: (p, principal) => {
      checkTarget(p.scope, p.target, 'target');
      const now = clock.now();
      const { from, until } = period(p, now);
      const record: MaintenanceRecord = {
        id: newId('maintenance'),
        scope: p.scope,
        target: p.target,
        from,
        until,
        reason: p.reason,
        by: principal.id,
        byName: principal.name,
        createdAt: now,
      };
      audited(
        principal,
        'maintenance.started',
        () => store.maintenance.windows.insert(record),
        () => maintenanceView(record, now),
      );
      board.setWindow(record);
      const window = maintenanceView(record, now);
      publish('maintenance', { type: 'maintenance.started', at: now, window });
      return answer(window);
    },

    maintenanceEnd: ({ id }, principal) => {
      const result = end(store.maintenance.windows, 'maintenance window', id, principal, 'maintenance.ended');
      if (!result.ok) return result;
      board.removeWindow(id);
      const now = clock.now();
      const window = maintenanceView(result.record, now);
      publish('maintenance', { type: 'maintenance.ended', at: now, window });
      return answer({ ok: true as const, window });
    },

    silenceList: (p) => list(store.maintenance.silences, silenceView, p),

    silenceAdd: (p, principal) => {
      checkTarget('guest', p.guest, 'guest');
      const now = clock.now();
      const { from, until } = period(p, now);
      const record: SilenceRecord = {
        id: newId('silence'),
        kind: p.kind,
        guest: p.guest,
        from,
        until,
        reason: p.reason,
        by: principal.id,
        byName: principal.name,
        createdAt: now,
      };
      audited(
        principal,
        'silence.added',
        () => store.maintenance.silences.insert(record),
        () => silenceView(record, now),
      );
      board.setSilence(record);
      const silence = silenceView(record, now);
      publish('silence', { type: 'silence.added', at: now, silence });
      return answer(silence);
    },

    silenceRemove: ({ id }, principal) => {
      const result = end(store.maintenance.silences, 'silence', id, principal, 'silence.removed');
      if (!result.ok) return result;
      board.removeSilence(id);
      const now = clock.now();
      const silence = silenceView(result.record, now);
      publish('silence', { type: 'silence.removed', at: now, silence });
      return answer({ ok: true as const, silence });
    },
  };
}
