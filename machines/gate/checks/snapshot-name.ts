// Check snapshotName: a snapshot request names a snapshot the guest does not have yet (PVE refuses a name already used
// at execution: "snapshot name '...' already used"), nor one PVE keeps for itself ('pending' for VMs, 'vzdump' for
// containers; 'current' is refused by the schema for both); a rollback or delsnapshot names one it has (PVE: "snapshot
// '...' does not exist"). The names are listed from the platform before the checks run (actors/gate-facts.ts); a
// listing that failed, or is missing, denies: the gate fails closed.
import type { Action } from '../../types';
import { guestTypeOf } from '../../types';
import { vmLabel } from '../describe';
import { snapshotNameOf, targetVm } from '../subject';
import type { GateCheck } from '../types';

/** Actions that name a snapshot. */
const NAMES_SNAPSHOT: ReadonlySet<Action> = new Set(['snapshot', 'rollback', 'delsnapshot']);

export const snapshotNameCheck: GateCheck = {
  name: 'snapshotName',
  run(input) {
    const { request } = input;
    const action = request.action;
    if (!NAMES_SNAPSHOT.has(action)) return { outcome: 'pass', reason: `not a snapshot: ${action} names no snapshot` };
    const snapname = snapshotNameOf(request);
    const target = targetVm(input);
    if (snapname === undefined || !target) {
      return { outcome: 'deny', reason: `the ${action} request names no VM or no snapshot name` };
    }
    const label = target.vm ? vmLabel(target.vm) : `VM ${target.key}`;
    if (action === 'snapshot' && target.vm) {
      const container = guestTypeOf(target.vm) === 'lxc';
      const reserved = container ? 'vzdump' : 'pending';
      const taken = container ? snapname === reserved : snapname.toLowerCase() === reserved;
      if (taken) {
        return { outcome: 'deny', reason: `'${snapname}' is a snapshot name Proxmox reserves: ${label} cannot use it` };
      }
    }
    const listing = input.snapshots?.get(target.key);
    if (!listing) {
      return { outcome: 'deny', reason: `the snapshots of ${label} were not listed: the name cannot be checked` };
    }
    if ('error' in listing) {
      return { outcome: 'deny', reason: `could not list the snapshots of ${label}: ${listing.error}` };
    }
    const has = listing.names.includes(snapname);
    if (action === 'snapshot') {
      if (has) return { outcome: 'deny', reason: `${label} already has a snapshot named '${snapname}'` };
      return { outcome: 'pass', reason: `${label} has no snapshot named '${snapname}' yet` };
    }
    if (!has) return { outcome: 'deny', reason: `${label} has no snapshot named '${snapname}'` };
    return {
      outcome: 'pass',
      reason: `${label} has a snapshot named '${snapname}' to ${action === 'rollback' ? 'roll back to' : 'delete'}`,
    };
  },
};
