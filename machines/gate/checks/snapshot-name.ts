// Check snapshotName: a snapshot request names a snapshot the VM does not have yet (PVE refuses a name already used
// at execution: "snapshot name '...' already used"). The names are listed from the platform before the checks
// run (actors/gate-facts.ts); a listing that failed, or is missing, denies: the gate fails closed.
import { vmLabel } from '../describe';
import { targetVm } from '../subject';
import type { GateCheck } from '../types';

export const snapshotNameCheck: GateCheck = {
  name: 'snapshotName',
  run(input) {
    const { request } = input;
    if (request.action !== 'snapshot')
      return { outcome: 'pass', reason: `not a snapshot: ${request.action} names no snapshot` };
    const snapname = (request.params as Record<string, unknown> | null | undefined)?.snapname;
    const target = targetVm(input);
    if (typeof snapname !== 'string' || !target) {
      return { outcome: 'deny', reason: 'the snapshot request names no VM or no snapshot name' };
    }
    const label = target.vm ? vmLabel(target.vm) : `VM ${target.key}`;
    const listing = input.snapshots?.get(target.key);
    if (!listing) {
      return { outcome: 'deny', reason: `the snapshots of ${label} were not listed: the name cannot be checked` };
    }
    if ('error' in listing) {
      return { outcome: 'deny', reason: `could not list the snapshots of ${label}: ${listing.error}` };
    }
    if (listing.names.includes(snapname)) {
      return { outcome: 'deny', reason: `${label} already has a snapshot named '${snapname}'` };
    }
    return { outcome: 'pass', reason: `${label} has no snapshot named '${snapname}' yet` };
  },
};
