// The fake core's maintenance windows and silences (tests/gateway/fake-core.ts): answered by the real core handlers
// (actors/maintenance-service.ts) on an in-memory SQLite store and a live view holding the fake's inventory (cluster
// lab: nodes pve1, pve2; VMs 101, 102 tagged web, 114), so validation, audit and expiry are the real ones. Seeded
// with window m-seeded (node lab/pve2) and silence s-seeded (vm-crash-loop on lab/114), both for the next hour.
import type { MaintenanceServiceDeps } from '../../actors/maintenance-service';
import { maintenanceQueries } from '../../actors/maintenance-service';
import { SystemView } from '../../actors/system-view';
import type { Principal, QueryMap } from '../../protocol';
import { StateStore } from '../../state';
import { makeHost, makeVm } from '../gate/fixtures';

type Names = 'maintenanceList' | 'maintenanceStart' | 'maintenanceEnd' | 'silenceList' | 'silenceAdd' | 'silenceRemove';
type Handlers = { [W in Names]: (p: QueryMap[W]['payload'], principal: Principal) => QueryMap[W]['reply'] };

export interface FakeMaintenance {
  store: StateStore;
  view: SystemView;
  /** Events published on changes: subject and payload. */
  published: { subject: string; payload: unknown }[];
  handlers: Handlers;
  close(): void;
}

export function createFakeMaintenance(now: () => number): FakeMaintenance {
  const store = StateStore.open(':memory:');
  const view = new SystemView();
  for (const vm of [makeVm(101), makeVm(102, { node: 'pve2', tags: ['web'] }), makeVm(114)]) view.setVm(vm);
  for (const node of ['pve1', 'pve2']) view.setHost(makeHost(node));
  view.setCluster({ cluster: 'lab', reachable: true, quorate: true });
  const seeded = {
    from: now() - 60_000,
    until: now() + 3_600_000,
    by: 'tok3',
    byName: 'ada',
    createdAt: now() - 60_000,
  };
  const window = { ...seeded, id: 'm-seeded', scope: 'node' as const, target: 'lab/pve2', reason: 'kernel update' };
  const silence = { ...seeded, id: 's-seeded', kind: 'vm-crash-loop', guest: 'lab/114', reason: 'known crash' };
  store.maintenance.windows.insert(window);
  store.maintenance.silences.insert(silence);
  view.maintenance.load([window], [silence]);
  const published: FakeMaintenance['published'] = [];
  const deps: MaintenanceServiceDeps = {
    store,
    view,
    clock: { now, setTimeout: () => ({ id: 0 }), clearTimeout: () => {}, sleep: async () => {} },
    publish: (subject, payload) => published.push({ subject, payload }),
  };
  // The real handlers answer synchronously.
  const handlers = maintenanceQueries(deps) as unknown as Handlers;
  return { store, view, published, handlers, close: () => store.close() };
}
