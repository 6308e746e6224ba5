// The monitor's view of every VM as its actor knows it, read without waking those at rest. The map is kept from cycle
// to cycle and an entry made again only when the VM's snapshot or its info changed (both are replaced, never changed
// in place), so a cycle over 10k quiet VMs allocates next to nothing. A fleet larger than VMS_PER_SLICE is read in
// slices with the event loop's turns between them (10k VMs took 8–10 ms in one piece); a smaller one at once.
import type { SnapshotFrom } from 'xstate';
import type { MonitoredVm } from '../machines/monitor';
import type { VmMachine } from '../machines/vm.machine';
import { yieldToLoop } from './loop-turns';
import type { MonitorFleet } from './monitor-fleet';
import { stateName } from './watch';

/** VMs read between two turns of the event loop. */
export const VMS_PER_SLICE = 2_500;

export class MonitoredVms {
  private readonly vms = new Map<string, MonitoredVm>();
  /** The snapshot each entry was made from. */
  private readonly snapshots = new Map<string, SnapshotFrom<VmMachine>>();

  constructor(private readonly fleet: Pick<MonitorFleet, 'vms' | 'view'>) {}

  /** Every VM now: at once for a fleet of up to VMS_PER_SLICE, else in slices (a promise). */
  read(): ReadonlyMap<string, MonitoredVm> | Promise<ReadonlyMap<string, MonitoredVm>> {
    const { vms } = this.fleet;
    return vms.size > VMS_PER_SLICE ? this.readInSlices() : this.dropGone(this.refresh(vms.keys()));
  }

  private async readInSlices(): Promise<ReadonlyMap<string, MonitoredVm>> {
    // The keys as they are now: the set may change while the loop has its turns.
    const keys = this.fleet.vms.keyArray();
    let count = 0;
    for (let from = 0; from < keys.length; from += VMS_PER_SLICE) {
      if (from > 0) await yieldToLoop();
      count += this.refresh(keys.slice(from, from + VMS_PER_SLICE));
    }
    return this.dropGone(count);
  }

  /** Makes again the entries of `keys` whose snapshot or info changed; returns how many of them still exist. */
  private refresh(keys: Iterable<string>): number {
    const { vms, view } = this.fleet;
    let count = 0;
    for (const key of keys) {
      const snap = vms.peek(key);
      if (!snap) continue;
      count++;
      const info = view.vms.get(key) ?? snap.context.info;
      const before = this.vms.get(key);
      if (before && this.snapshots.get(key) === snap && before.info === info) continue;
      this.vms.set(key, { info, state: stateName(snap.value), lastOperation: snap.context.lastOperation });
      this.snapshots.set(key, snap);
    }
    return count;
  }

  /** The map without the VMs that are gone (there are some when it holds more than the `count` that exist). */
  private dropGone(count: number): ReadonlyMap<string, MonitoredVm> {
    if (this.vms.size > count) {
      for (const key of this.vms.keys()) {
        if (this.fleet.vms.peek(key)) continue;
        this.vms.delete(key);
        this.snapshots.delete(key);
      }
    }
    return this.vms;
  }
}
