// Bringing the runtime back after a restart: every VM, host and unfinished request actor from its snapshot, the
// gate's holds of the requests that still hold a VM, and the system summary's counts.
import type { Log } from '../adapters/log';
import type { HostMachine } from '../machines/host.machine';
import type { RequestContext, RequestMachine } from '../machines/request.machine';
import { TERMINAL_REQUEST_STATUSES } from '../machines/types';
import type { VmMachine } from '../machines/vm.machine';
import type { StateStore, SummaryStore } from '../state';
import type { ActorSet } from './actor-set';
import type { GateService } from './gate-service';
import type { SystemView } from './system-view';
import { archiveVmSnapshot } from './vm-archive';
import { stateName } from './watch';

export interface RestoreTargets {
  store: StateStore;
  log: Log;
  approvalTimeoutMs: number;
  view: SystemView;
  summary: SummaryStore;
  gate: GateService;
  vms: ActorSet<VmMachine>;
  hosts: ActorSet<HostMachine>;
  requests: ActorSet<RequestMachine>;
  /** Writes every queued request change now. */
  flushRequests: () => void;
}

export interface RestoreReport {
  vms: number;
  hosts: number;
  requests: number;
  /** Labs brought back (restored after the rest, by the lab service). */
  labs?: number;
}

/** Brings back every VM, host and unfinished request actor from its snapshot. */
export function restoreActors(t: RestoreTargets): RestoreReport {
  const { store, log, view } = t;
  let vms = 0;
  let hosts = 0;
  for (const record of store.inventory.listClusters()) view.setCluster(record.info);
  const ended: string[] = [];
  for (const row of store.snapshots.listByKind('vm')) {
    const key = row.actorId.slice('vm:'.length);
    const snapshot = t.vms.restoreResting(key, row.snapshot);
    if (snapshot) {
      view.setVm(snapshot.context.info);
      vms++;
    } else if ((row.snapshot as { status?: string }).status === 'done') ended.push(key);
  }
  // A destroyed VM's actor is not brought back; its history is kept apart, so a new VM given its VMID starts afresh.
  for (const key of ended) archiveVmSnapshot(store, key);
  for (const row of store.snapshots.listByKind('host')) {
    const actor = t.hosts.restore(row.actorId.slice('host:'.length), row.snapshot);
    if (actor) {
      view.setHost(actor.getSnapshot().context.info);
      hosts++;
    }
  }
  const restoredRequests: string[] = [];
  for (const row of store.snapshots.listByKind('request')) {
    const id = row.actorId.slice('req:'.length);
    const snapshot = row.snapshot as { status?: string; value?: string; context?: RequestContext };
    if (snapshot.status !== 'active' || !snapshot.context) continue;
    if (snapshot.value && ['awaiting_approval', 'approved', 'queued', 'executing'].includes(snapshot.value)) {
      t.gate.hold(snapshot.context.spec);
    }
    // Started later, in slices (Overseer.startRequests): a restart with many in flight serves first.
    if (t.requests.restoreDeferred(id, row.snapshot)) restoredRequests.push(id);
  }
  // A request recorded but killed before its actor wrote a first snapshot was never answered nor decided:
  // it is gated afresh. Only a 'received' one can be such a request; when there is none and every active record
  // has its actor back, there is nothing to look for (reading every active request is most of a restart's time
  // with many in flight).
  if (!needsRecordPass(store.requests.countByStatus(), restoredRequests.length)) {
    return finish(t, restoredRequests, vms, hosts);
  }
  for (const record of store.requests.listActive()) {
    if (t.requests.has(record.id)) continue;
    if (record.status === 'received') {
      const { id, action, target, params, force, requester, submittedAt, origin } = record;
      t.requests.create(id, {
        spec: { id, action, target, params, force, requester, submittedAt, origin },
        approvalTimeoutMs: t.approvalTimeoutMs,
      });
      restoredRequests.push(id);
    } else {
      log.error(`request ${record.id} is ${record.status} but has no snapshot; it cannot be restored`);
    }
  }
  return finish(t, restoredRequests, vms, hosts);
}

/** Whether some active request record may lack its actor: one just received, or more records than actors. */
function needsRecordPass(byStatus: Record<string, number>, restored: number): boolean {
  let active = 0;
  for (const [status, n] of Object.entries(byStatus)) {
    if (!TERMINAL_REQUEST_STATUSES.has(status as never)) active += n;
  }
  return (byStatus.received ?? 0) > 0 || active !== restored;
}

/** The system summary's counts, the queued request writes, and the report. */
function finish(t: RestoreTargets, restoredRequests: string[], vms: number, hosts: number): RestoreReport {
  const { store, log } = t;
  t.summary.send({
    type: 'reset',
    vms: countStates(t.vms),
    hosts: countStates(t.hosts),
    requests: store.requests.countByStatus(),
  });
  t.flushRequests();
  log.info(`restored ${vms} VM, ${hosts} host and ${restoredRequests.length} request actors`);
  return { vms, hosts, requests: restoredRequests.length };
}

/** Actors by state name, read without waking those at rest. */
function countStates(set: Pick<ActorSet<VmMachine | HostMachine>, 'keys' | 'peek'>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const key of set.keys()) {
    const value = set.peek(key)?.value;
    if (value === undefined) continue;
    const s = stateName(value as never);
    counts[s] = (counts[s] ?? 0) + 1;
  }
  return counts;
}
