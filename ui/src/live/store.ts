// The live store: what the page knows of the fleet (guests, nodes and their load over time, the core's summary)
// kept current by the event feed, and a topic per kind of change so that each view re-renders or reloads only when
// something it shows changed — once per frame at most, however many events arrived.
import { allVms, api } from '../api/endpoints';
import type { HostView, SummaryReply, VmView } from '../api/types';
import { effectsOf, type StateChange, type Topic, vmKey } from './event-effects';
import { type ConnState, EventFeed, type LiveEvent } from './feed';

export type { StateChange, Topic } from './event-effects';
export { vmKey } from './event-effects';

/** One reading of a node's load. */
export interface LoadSample {
  at: number;
  cpu: number;
  mem: number;
}

const HISTORY_PER_GUEST = 100;
const SAMPLES_PER_NODE = 90;
const HOST_POLL_MS = 10_000;
const VM_RELOAD_MIN_MS = 5_000;

const byClusterThenVmid = (a: VmView, b: VmView): number =>
  a.cluster < b.cluster ? -1 : a.cluster > b.cluster ? 1 : a.vmid - b.vmid;

export class LiveStore {
  readonly vms = new Map<string, VmView>();
  /** Every guest, by cluster then VMID; a new array whenever a guest or its state changes. */
  vmList: VmView[] = [];
  /** How many guests each cluster has in each state, kept as events arrive. */
  readonly stateCounts = new Map<string, Map<string, number>>();
  /** Changes when guests come or go (not when a guest's state changes). */
  membershipVersion = 0;
  vmsLoaded = false;
  vmsError: string | undefined;
  readonly hosts = new Map<string, HostView>();
  readonly samples = new Map<string, LoadSample[]>();
  readonly history = new Map<string, StateChange[]>();
  summary: SummaryReply | undefined;
  conn: ConnState = 'connecting';
  lastEventAt: number | undefined;
  /** Why the page last reloaded its data instead of applying events. */
  lastResync: string | undefined;

  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly touched = new Set<string>();
  private membershipChanged = false;
  private listDirty = false;
  /** Guests whose row changed since the last frame (same guests). */
  private readonly changedKeys = new Set<string>();
  /** Each guest's index in vmList. */
  private indexOf = new Map<string, number>();
  private readonly feed: EventFeed;
  private hostTimer: ReturnType<typeof setInterval> | undefined;
  private vmReload: { running: boolean; again: boolean; last: number; timer?: ReturnType<typeof setTimeout> } = {
    running: false,
    again: false,
    last: 0,
  };
  private unknownGuests = new Set<string>();
  private unknownTimer: ReturnType<typeof setTimeout> | undefined;
  private running = false;

  constructor() {
    this.feed = new EventFeed({
      batch: (events) => this.applyBatch(events),
      resync: (reason) => this.resync(reason),
      state: (state) => {
        this.conn = state;
        this.touch('conn');
        this.notify();
      },
      // A call that answers 401 signs the page out (the session ended, e.g. the gateway restarted).
      closed: () => void api.summary().catch(() => undefined),
    });
  }

  get eventsReceived(): number {
    return this.feed.received;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.feed.start();
    void this.reloadVms();
    void this.loadHosts();
    void this.loadSummary();
    this.hostTimer = setInterval(() => void this.loadHosts(), HOST_POLL_MS);
  }

  /** Signs out: forgets everything. */
  stop(): void {
    this.running = false;
    this.feed.stop();
    if (this.hostTimer !== undefined) clearInterval(this.hostTimer);
    if (this.vmReload.timer !== undefined) clearTimeout(this.vmReload.timer);
    if (this.unknownTimer !== undefined) clearTimeout(this.unknownTimer);
    this.vms.clear();
    this.vmList = [];
    this.indexOf.clear();
    this.stateCounts.clear();
    this.vmsLoaded = false;
    this.hosts.clear();
    this.samples.clear();
    this.history.clear();
    this.summary = undefined;
  }

  subscribe(topics: readonly Topic[], listener: () => void): () => void {
    for (const topic of topics) {
      let set = this.listeners.get(topic);
      if (!set) {
        set = new Set();
        this.listeners.set(topic, set);
      }
      set.add(listener);
    }
    return () => {
      for (const topic of topics) this.listeners.get(topic)?.delete(listener);
    };
  }

  private touch(topic: Topic): void {
    this.touched.add(topic);
  }

  /** Tells each listener once, whatever number of its topics changed. */
  private notify(): void {
    if (this.listDirty) {
      this.listDirty = false;
      if (this.membershipChanged) {
        this.membershipChanged = false;
        this.membershipVersion += 1;
        this.vmList = [...this.vms.values()].sort(byClusterThenVmid);
        this.indexOf = new Map(this.vmList.map((vm, i) => [vmKey(vm.cluster, vm.vmid), i]));
        this.stateCounts.clear();
        for (const vm of this.vmList) this.count(vm.cluster, vm.state, 1);
      } else {
        // Same guests: a copy of the sorted list with the changed rows replaced (no sort, no full rebuild).
        const list = this.vmList.slice();
        for (const key of this.changedKeys) {
          const i = this.indexOf.get(key);
          const vm = this.vms.get(key);
          if (i !== undefined && vm) list[i] = vm;
        }
        this.vmList = list;
      }
      this.changedKeys.clear();
    }
    if (this.touched.size === 0) return;
    const called = new Set<() => void>();
    const topics = [...this.touched];
    this.touched.clear();
    for (const topic of topics) {
      for (const listener of this.listeners.get(topic) ?? []) {
        if (called.has(listener)) continue;
        called.add(listener);
        listener();
      }
    }
  }

  private applyBatch(events: LiveEvent[]): void {
    this.lastEventAt = Date.now();
    for (const event of events) this.apply(event);
    this.notify();
  }

  private apply(event: LiveEvent): void {
    const effects = effectsOf(event);
    for (const topic of effects.topics) this.touched.add(topic);
    if (effects.vm) {
      const { key, change, cluster, vmid } = effects.vm;
      const list = this.history.get(key) ?? [];
      list.push(change);
      if (list.length > HISTORY_PER_GUEST) list.splice(0, list.length - HISTORY_PER_GUEST);
      this.history.set(key, list);
      const vm = this.vms.get(key);
      if (vm) {
        if (vm.state !== change.to) {
          this.count(vm.cluster, vm.state, -1);
          this.count(vm.cluster, change.to, 1);
        }
        this.vms.set(key, { ...vm, state: change.to });
        this.changedKeys.add(key);
        this.listDirty = true;
      } else if (change.to !== 'destroyed') {
        this.fetchUnknown(cluster, vmid);
      }
    }
    if (effects.host) {
      const host = this.hosts.get(effects.host.key);
      if (host) this.hosts.set(effects.host.key, { ...host, state: effects.host.to });
    }
    if (effects.summary) this.summary = effects.summary;
    if (effects.reloadVms) this.scheduleVmReload();
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
  }

  /** A guest the page has not seen (a new clone): fetched, a few at a time. */
  private fetchUnknown(cluster: string, vmid: number): void {
    if (!this.vmsLoaded || !Number.isInteger(vmid)) return;
    this.unknownGuests.add(vmKey(cluster, vmid));
    if (this.unknownGuests.size > 50) {
      this.unknownGuests.clear();
      this.scheduleVmReload();
      return;
    }
    this.unknownTimer ??= setTimeout(() => {
      this.unknownTimer = undefined;
      const keys = [...this.unknownGuests];
      this.unknownGuests.clear();
      for (const key of keys) {
        const [c = '', id = ''] = key.split('/');
        api.vm(c, Number(id)).then(
          (vm) => {
            if (!this.running) return;
            this.vms.set(key, vm);
            this.membershipChanged = this.listDirty = true;
            this.touch('vms');
            this.notify();
          },
          () => undefined,
        );
      }
    }, 500);
  }

  private resync(reason: string): void {
    this.lastResync = reason;
    this.scheduleVmReload();
    void this.loadHosts();
    // Every view reloads what it shows.
    for (const topic of this.listeners.keys()) this.touched.add(topic);
    this.notify();
  }

  /** Reloads every guest, at most once per VM_RELOAD_MIN_MS (a later call runs after the current one). */
  scheduleVmReload(): void {
    const r = this.vmReload;
    if (r.running) {
      r.again = true;
      return;
    }
    if (r.timer !== undefined) return;
    const wait = Math.max(0, r.last + VM_RELOAD_MIN_MS - Date.now());
    r.timer = setTimeout(() => {
      r.timer = undefined;
      void this.reloadVms();
    }, wait);
  }

  async reloadVms(): Promise<void> {
    const r = this.vmReload;
    r.running = true;
    r.last = Date.now();
    const startedAt = Date.now();
    try {
      const items = await allVms();
      if (!this.running) return;
      const seenSince = new Map<string, string>();
      // A state event that arrived while the pages were read is newer than the pages.
      for (const [key, changes] of this.history) {
        const last = changes[changes.length - 1];
        if (last && last.at >= startedAt) seenSince.set(key, last.to);
      }
      this.vms.clear();
      for (const vm of items) {
        const key = vmKey(vm.cluster, vm.vmid);
        const state = seenSince.get(key);
        this.vms.set(key, state === undefined ? vm : { ...vm, state });
      }
      this.vmsLoaded = true;
      this.vmsError = undefined;
      this.membershipChanged = this.listDirty = true;
    } catch (error) {
      this.vmsError = (error as Error).message;
    } finally {
      r.running = false;
      this.touch('vms');
      this.notify();
      if (r.again) {
        r.again = false;
        this.scheduleVmReload();
      }
    }
  }

  async loadHosts(): Promise<void> {
    try {
      const { items } = await api.hosts();
      if (!this.running) return;
      const at = Date.now();
      for (const host of items) {
        const key = `${host.cluster}/${host.node}`;
        this.hosts.set(key, host);
        const list = this.samples.get(key) ?? [];
        list.push({
          at,
          cpu: host.cpu,
          mem: host.maxmem > 0 ? host.mem / host.maxmem : 0,
        });
        if (list.length > SAMPLES_PER_NODE) list.splice(0, list.length - SAMPLES_PER_NODE);
        this.samples.set(key, list);
      }
      this.touch('hosts');
      this.notify();
    } catch {
      // The next poll tries again; the connection indicator tells whether Overseer is reachable.
    }
  }

  async loadSummary(): Promise<void> {
    try {
      const summary = await api.summary();
      if (!this.running) return;
      this.summary = { ...this.summary, ...summary };
      this.touch('hosts');
      this.notify();
    } catch {
      // The health loop publishes it again shortly.
    }
  }
}

export const store = new LiveStore();
