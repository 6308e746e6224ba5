// After a task that leaves its guest where it was (a power action, a snapshot, a rollback, a snapshot's deletion),
// that guest alone is read again — GET .../status/current: its status and config lock — instead of the cluster's
// whole inventory: the view and the VM's actor show what the task did at the cost of one small read, not of a sync of
// every VM (a 10k-VM sync per finished task kept the core busy while tasks finished in waves; bench/README.md).
// Only what a task in place changes is taken from the read; the VM's other fields (name, tags, pool, HA, metrics)
// stay as the last sync saw them. What only a sync can judge is left to one (refreshGuest answers false, and the
// caller asks the sync loop for a cycle): a guest whose actor is not active, one the view places on another node than
// the task's, one under HA (its HA state is read from /cluster/resources only), and a read that failed. A stop the
// read finds is explained from the task log as a sync explains it; a sync asked for after the read began has the
// newer word (guest-reads.ts).
import type { GuestState, GuestType, Platform } from '../adapters/platform/types';
import type { VmInfo } from '../machines/types';
import { vmKey } from '../machines/types';
import type { SyncTargets } from './sync';
import { sameVm } from './sync';
import { explainStops } from './vm-stop-causes';

/** A guest a task changed in place: where to read it again. */
export interface GuestRef {
  node: string;
  vmid: number;
  type: GuestType;
}

/** The VM's entry in the view when a read of its guest alone may stand for a sync of it. */
function readable(cluster: string, guest: GuestRef, t: SyncTargets): VmInfo | undefined {
  const key = vmKey(cluster, guest.vmid);
  const snapshot = t.vms.peek(key);
  const info = t.view.vms.get(key);
  if (!snapshot || snapshot.status !== 'active' || !info) return undefined;
  return info.node === guest.node && !info.haManaged ? info : undefined;
}

/** Reads one guest again and applies what it says; false when a sync must tell instead (see the header). */
export async function refreshGuest(platform: Platform, guest: GuestRef, t: SyncTargets): Promise<boolean> {
  const cluster = platform.cluster;
  const key = vmKey(cluster, guest.vmid);
  if (!readable(cluster, guest, t)) return false;
  const reads = t.view.guestReads;
  const began = t.clock.now();
  reads.begin(key, began);
  let state: GuestState;
  try {
    state = await platform.guestState(guest.node, guest.vmid, guest.type);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    t.log.warn(`sync ${cluster}: VM ${guest.vmid} could not be read after its task (${message}): a full sync instead`);
    return false;
  }
  const listed = readable(cluster, guest, t);
  if (!listed) return !reads.current(cluster, began);
  const fetchedAt = t.clock.now();
  const quorate = t.view.clusters.get(cluster)?.quorate ?? false;
  const stops = await explainStops(
    platform,
    {
      cluster,
      fetchedAt,
      quorate,
      complete: false,
      vms: [{ ...listed, status: state.status, lock: state.lock }],
      hosts: [],
      unreachableNodes: [],
    },
    t,
  );
  // A sync asked for after the read began has the newer word (and has applied it, or is applying it).
  if (!reads.current(cluster, began)) return true;
  const latest = readable(cluster, guest, t);
  if (!latest) return false;
  const info: VmInfo = { ...latest, status: state.status, lock: state.lock };
  t.view.setVm(info, key);
  const known = t.vms.peek(key);
  if (known && !sameVm(known.context.info, info)) {
    t.vms.batch(() => {
      const event = { type: 'OBSERVED' as const, info, at: fetchedAt, stop: stops.get(key) };
      if (t.vms.send(key, event) === 'live') t.vms.passivateIdle([key]);
    });
  }
  return true;
}
