// The live store: what the page knows of the fleet (guests, nodes and their load over time, the core's summary)
// kept current by the event feed, and a topic per kind of change so that each view re-renders or reloads only when
// something it shows changed — once per frame at most, however many events arrived. The guests are shown as their
// pages arrive (the first page paints at once, the rest are appended); a destroyed guest leaves the list.
import { api, eachVmPage } from '../api/endpoints';
import type { HostView, SummaryReply, VmView } from '../api/types';
import { effectsOf, type StateChange, type Topic, vmKey } from './event-effects';
import { type ConnState, EventFeed, type LiveEvent } from './feed';
import { FleetIndex, vmKeyOf } from './fleet-index';

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

export class LiveStore {
  private readonly fleet = new FleetIndex();
  /** Guests shown: at least the first page arrived. */
  vmsLoaded = false;
  /** Every page of the first reading arrived. */
  vmsComplete = false;
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

  /** Every guest, by key (`lab/101`). */
  get vms(): ReadonlyMap<string, VmView> {
    return this.fleet.vms;
  }

  /** Every guest, by cluster then VMID; a new array whenever a guest or its state changes. */
  get vmList(): VmView[] {
    return this.fleet.list;
  }

  /** How many guests each cluster has in each state, kept as events arrive. */
  get stateCounts(): ReadonlyMap<string, ReadonlyMap<string, number>> {
    return this.fleet.stateCounts;
  }

  /** Changes when guests come or go (not when a guest's state changes). */
  get membershipVersion(): number {
    return this.fleet.membershipVersion;
  }

  /** The last state a guest's events said it reached (also for a guest no longer listed: `destroyed`). */
  lastState(key: string): string | undefined {
    const changes = this.history.get(key);
    return changes?.[changes.length - 1]?.to;
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
    this.fleet.clear();
    this.vmsLoaded = false;
    this.vmsComplete = false;
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
    // The guests' list: a copy with the changed rows replaced, the next page appended, or sorted again when guests
    // came or went in the middle.
    this.fleet.commit();
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
      if (!this.fleet.setState(key, change.to) && change.to !== 'destroyed') this.fetchUnknown(cluster, vmid);
    }
    if (effects.host) {
      const host = this.hosts.get(effects.host.key);
      if (host) this.hosts.set(effects.host.key, { ...host, state: effects.host.to });
    }
    if (effects.summary) this.summary = effects.summary;
    if (effects.reloadVms) this.scheduleVmReload();
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
            this.fleet.putFromEvent(vm);
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

  /**
   * Reads every guest again, page by page: each page is shown as it arrives (the first at once, the others
   * appended); once all arrived, guests no page listed are dropped.
   */
  async reloadVms(): Promise<void> {
    const r = this.vmReload;
    r.running = true;
    r.last = Date.now();
    // Events applied from here on are newer than the pages.
    const since = this.fleet.mark();
    const listed = new Set<string>();
    try {
      await eachVmPage((items) => {
        if (!this.running) return;
        for (const vm of items) listed.add(vmKeyOf(vm));
        this.fleet.put(items, since);
        this.vmsLoaded = true;
        this.vmsError = undefined;
        this.touch('vms');
        this.notify();
      });
      if (!this.running) return;
      this.fleet.retain(listed, since);
      this.vmsComplete = true;
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
