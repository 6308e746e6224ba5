// VMs holding a PVE lock (clone, migrate, ...) longer than `lockMaxMs`. A running backup holds its guest's lock for
// as long as it runs: that is no incident until `backupLockMaxMs` (work waits for it; see the conflicts check).
import { vmLabel } from '../../gate/describe';
import { condition, duration, subjectOf } from '../condition';
import type { Condition, Detector, MonitorMemory } from '../types';

export const detectStuckLocks: Detector = ({ input, before }) => {
  const { now, vms, thresholds } = input;
  const conditions: Condition[] = [];
  const locks: MonitorMemory['locks'] = {};

  for (const [key, vm] of vms) {
    const lock = vm.info.lock;
    if (!lock) continue;
    const earlier = before.locks[key];
    // The VM actor's own clock for its locked state is the best witness; else when the monitor first saw it.
    const since =
      vm.state === 'locked' && vm.stateSince !== undefined
        ? vm.stateSince
        : earlier && earlier.lock === lock
          ? earlier.since
          : now;
    locks[key] = { lock, since };
    const held = now - since;
    const limit = lock === 'backup' ? thresholds.backupLockMaxMs : thresholds.lockMaxMs;
    if (held < limit) continue;
    conditions.push(
      condition(
        'vm-lock-stuck',
        subjectOf.vm(vm.info.cluster, vm.info.vmid),
        'warning',
        `${vmLabel(vm.info)} has held the '${lock}' lock for ${duration(held)} (limit ${duration(limit)})`,
        { lock, since, heldMs: held },
      ),
    );
  }
  return { conditions, memory: { locks } };
};
