// The guests the page knows, in list order (cluster, then VMID), and how many each cluster has in each state.
// Changed by pages of GET /v1/vms (as each arrives), by a new guest fetched alone, and by state events; turned into
// a new list at most once a frame (`commit`). A guest whose actor reached `destroyed` leaves the list, as it
// leaves the API's. A page read before an event is older than it: the event's state stands, and a guest destroyed
// meanwhile is not brought back. Pure (no DOM, no network): the live store drives it.
import type { VmView } from '../api/types';

/** The end state of a VM actor: the guest is gone. */
export const DESTROYED = 'destroyed';

export const vmKeyOf = (vm: Pick<VmView, 'cluster' | 'vmid'>): string => `${vm.cluster}/${vm.vmid}`;

const byClusterThenVmid = (a: VmView, b: VmView): number =>
  a.cluster < b.cluster ? -1 : a.cluster > b.cluster ? 1 : a.vmid - b.vmid;

export class FleetIndex {
  readonly vms = new Map<string, VmView>();
  /** Every guest, by cluster then VMID; a new array at each commit that changed something. */
  list: VmView[] = [];
  /** How many guests each cluster has in each state. */
  readonly stateCounts = new Map<string, Map<string, number>>();
  /** Changes when guests come or go (not when a guest's state changes). */
  membershipVersion = 0;

  /** Each guest's index in `list`. */
  private indexOf = new Map<string, number>();
  /** Guests added since the last commit (none removed: they may be appended). */
  private added: VmView[] = [];
  private removed = false;
  /** Guests whose object changed since the last commit (same guests). */
  private readonly changed = new Set<string>();
  /** Counts every change made by an event; `changedAt` says when (in this count) a guest last changed by one. */
  private seq = 0;
  private readonly changedAt = new Map<string, number>();

  /** Whether a commit would change the list. */
  get dirty(): boolean {
    return this.added.length > 0 || this.removed || this.changed.size > 0;
  }

  /** The point in the event sequence a reload starts at (see `put` and `retain`). */
  mark(): number {
    return this.seq;
  }

  /**
   * Guests as the API listed them, read from `since` (a `mark()`): each is added or replaces what was known, except
   * that a state an event brought after `since` stands, and a guest destroyed after `since` stays gone.
   */
  put(vms: readonly VmView[], since = this.seq): void {
    for (const vm of vms) {
      const key = vmKeyOf(vm);
      const known = this.vms.get(key);
      const newer = (this.changedAt.get(key) ?? -1) > since;
      if (newer && !known) continue;
      this.set(key, newer && known ? { ...vm, state: known.state } : vm, known);
    }
  }

  /** A guest fetched alone after an event named it: it is as new as that event. */
  putFromEvent(vm: VmView): void {
    const key = vmKeyOf(vm);
    this.changedAt.set(key, ++this.seq);
    this.set(key, vm, this.vms.get(key));
  }

  /**
   * A guest's actor changed state; false when the guest is not known. `destroyed` takes it out of the list.
   */
  setState(key: string, to: string): boolean {
    this.changedAt.set(key, ++this.seq);
    const known = this.vms.get(key);
    if (!known) return false;
    if (to === DESTROYED) {
      this.remove(key);
      return true;
    }
    if (known.state !== to) this.set(key, { ...known, state: to }, known);
    return true;
  }

  /** After a reload read from `since`: guests it did not list go, unless an event brought them after `since`. */
  retain(listed: ReadonlySet<string>, since: number): void {
    for (const key of [...this.vms.keys()]) {
      if (!listed.has(key) && (this.changedAt.get(key) ?? -1) <= since) this.remove(key);
    }
  }

  /** Forgets everything (signed out). */
  clear(): void {
    this.vms.clear();
    this.list = [];
    this.indexOf.clear();
    this.stateCounts.clear();
    this.added = [];
    this.removed = false;
    this.changed.clear();
    this.changedAt.clear();
  }

  /** Makes `list` (a new array) and the counts say what changed; false when nothing did. */
  commit(): boolean {
    if (!this.dirty) return false;
    let list: VmView[];
    if (this.removed || this.added.length > 0) {
      this.membershipVersion += 1;
      const added = this.added.sort(byClusterThenVmid);
      const last = this.list[this.list.length - 1];
      const first = added[0];
      if (!this.removed && first && (!last || byClusterThenVmid(last, first) < 0)) {
        // Guests that all come after the known ones (the next page): appended, no sort.
        const at = this.list.length;
        list = this.list.concat(added);
        for (const [i, vm] of added.entries()) this.indexOf.set(vmKeyOf(vm), at + i);
      } else {
        list = [...this.vms.values()].sort(byClusterThenVmid);
        this.indexOf = new Map(list.map((vm, i) => [vmKeyOf(vm), i]));
      }
    } else {
      list = this.list.slice();
    }
    // Guests changed in place (added ones are already there as they are now).
    for (const key of this.changed) {
      const i = this.indexOf.get(key);
      const vm = this.vms.get(key);
      if (i !== undefined && vm) list[i] = vm;
    }
    this.list = list;
    this.added = [];
    this.removed = false;
    this.changed.clear();
    return true;
  }

  private set(key: string, vm: VmView, known: VmView | undefined): void {
    if (known) {
      if (known === vm) return;
      this.count(known.cluster, known.state, -1);
      this.changed.add(key);
    } else {
      this.added.push(vm);
    }
    this.count(vm.cluster, vm.state, 1);
    this.vms.set(key, vm);
  }

  private remove(key: string): void {
    const known = this.vms.get(key);
    if (!known) return;
    this.vms.delete(key);
    this.count(known.cluster, known.state, -1);
    this.removed = true;
    this.changed.delete(key);
  }

  private count(cluster: string, state: string, delta: number): void {
    let states = this.stateCounts.get(cluster);
    if (!states) {
      states = new Map();
      this.stateCounts.set(cluster, states);
    }
    const n = (states.get(state) ?? 0) + delta;
    if (n > 0) states.set(state, n);
    else states.delete(state);
    if (states.size === 0) this.stateCounts.delete(cluster);
  }
}
