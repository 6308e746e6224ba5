// A drain marks its node in maintenance (a node window naming the drain request) before it moves anything, so that
// remediation leaves the node alone and nothing new is placed there without a second look; an undrain ends the
// windows drains set on the node. The window lasts at most MAX_MAINTENANCE_SECONDS (30 days) like any other.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../adapters/clock';
import type { RequestContext } from '../machines/request.machine';
import { MAX_MAINTENANCE_SECONDS, subjects } from '../protocol';
import type { MaintenanceRecord, StateStore } from '../state';
import { maintenanceView } from './maintenance-service';
import type { SystemView } from './system-view';

export interface DrainMaintenanceDeps {
  store: StateStore;
  clock: Clock;
  view: Pick<SystemView, 'maintenance'>;
  publish?: ((subject: string, payload: unknown) => void) | undefined;
  /** Ids of new windows (default `m-<8 hex>`, like a person's). */
  newId?: (() => string) | undefined;
}

const nodeTarget = (context: RequestContext): string => `${context.spec.target.cluster}/${context.spec.target.node}`;

function publish(deps: DrainMaintenanceDeps, event: string, payload: unknown): void {
  try {
    deps.publish?.(subjects.evtLoop('monitor', event), payload);
  } catch {
    // stored and audited; the bus failing does not undo it
  }
}

/** Marks the drained node in maintenance, once per drain request (a restarted drain finds its window). */
export function markDrained(deps: DrainMaintenanceDeps, context: RequestContext): void {
  const { store, clock } = deps;
  const now = clock.now();
  const id = context.spec.id;
  if (store.maintenance.windows.current(now).some((w) => w.request === id)) return;
  const { requester } = context.spec;
  const record: MaintenanceRecord = {
    id: deps.newId?.() ?? `m-${randomBytes(4).toString('hex')}`,
    scope: 'node',
    target: nodeTarget(context),
    from: now,
    until: now + MAX_MAINTENANCE_SECONDS * 1000,
    reason: `drained by request ${id}`,
    by: requester.id,
    byName: requester.name,
    createdAt: now,
    request: id,
  };
  store.transaction(() => {
    store.maintenance.windows.insert(record);
    store.audit.append({
      at: now,
      actor: requester.id,
      kind: 'maintenance.started',
      data: maintenanceView(record, now),
    });
  });
  deps.view.maintenance.setWindow(record);
  publish(deps, 'maintenance', maintenanceView(record, now));
}

/** Ends every window a drain set on the undrained node; how many it ended. */
export function endDrains(deps: DrainMaintenanceDeps, context: RequestContext): number {
  const { store, clock } = deps;
  const now = clock.now();
  const by = context.spec.requester.id;
  const target = nodeTarget(context);
  let ended = 0;
  for (const window of store.maintenance.windows.current(now)) {
    if (window.scope !== 'node' || window.target !== target || window.request === undefined) continue;
    const record = store.transaction(() => {
      const r = store.maintenance.windows.end(window.id, now, by);
      if (r)
        store.audit.append({
          at: now,
          actor: by,
          kind: 'maintenance.ended',
          data: { id: window.id, endedAt: now, entry: r },
        });
      return r;
    });
    if (!record) continue;
    deps.view.maintenance.removeWindow(window.id);
    publish(deps, 'maintenance', maintenanceView(record, now));
    ended++;
  }
  return ended;
}
