// The core's list queries (vms, hosts, requests, tokens): a page (limit, offset) and the total matching, so a
// client can page through any list. A filter naming something the core does not know (a cluster, a node, a VM
// state) is refused with the field named, rather than answered with an empty page that looks like "none".
// A page of guests costs the page: the guests' order is kept while no guest comes or goes (GuestOrder), and only
// the page's views are built.

import type { HostInfo, VmInfo } from '../machines/types';
import { vmMachine } from '../machines/vm.machine';
import type { HostView, QueryHandlers, RequestView, VmView } from '../protocol';
import { InputRefusedError } from '../protocol';
import type { RequestRecord, StateStore } from '../state';
import type { OverseerConfig } from './config';
import type { Overseer } from './overseer';

/** Most items in one page, whatever the client asks. */
export const MAX_PAGE = 1000;
/** Items in a page when the client does not say. */
export const DEFAULT_REQUEST_PAGE = 100;

/** The states a VM's actor can be in, and `unknown` (a VM without an actor). */
export const VM_STATE_NAMES: readonly string[] = [
  ...new Set([...Object.keys(vmMachine.config.states ?? {}), 'unknown']),
];

export interface ListQueryDeps {
  overseer: Overseer;
  store: StateStore;
  config: OverseerConfig;
  vmView(info: VmInfo): VmView;
  hostView(info: HostInfo): HostView;
  /** A token's name (undefined when unknown). */
  tokenName(id: string): string | undefined;
  /** A stored request as the protocol shows it, naming token ids with `nameOf`. */
  requestView(record: RequestRecord, nameOf: (id: string) => string | undefined): RequestView;
}

/** `items` from `offset`, at most `limit` (capped at MAX_PAGE), and how many there were. */
export function page<T>(items: T[], limit: number | undefined, offset: number | undefined, fallback = MAX_PAGE) {
  const from = offset ?? 0;
  const size = Math.min(limit ?? fallback, MAX_PAGE);
  return { items: items.slice(from, from + size), total: items.length };
}

const list = (values: Iterable<string>) => [...values].sort().join(', ') || 'none';

/**
 * The guests' keys in list order — cluster (localeCompare), then VMID — and each cluster's range in it. Sorted again
 * only when the set of guests changed: checking that is one Map lookup per guest, no view built and no sort.
 */
export class GuestOrder {
  private sorted: string[] = [];
  private readonly ranges = new Map<string, readonly [number, number]>();

  /** The keys of `vms` in list order. */
  keys(vms: ReadonlyMap<string, VmInfo>): readonly string[] {
    if (!this.holds(vms)) this.sort(vms);
    return this.sorted;
  }

  /** The clusters that hold guests of `vms`. */
  clusters(vms: ReadonlyMap<string, VmInfo>): Iterable<string> {
    this.keys(vms);
    return this.ranges.keys();
  }

  /** Where `cluster`'s guests are in the keys last returned (all of them when undefined; empty when it has none). */
  range(cluster: string | undefined): readonly [number, number] {
    if (cluster === undefined) return [0, this.sorted.length];
    return this.ranges.get(cluster) ?? [0, 0];
  }

  /** Same size and every key still there: the same guests. */
  private holds(vms: ReadonlyMap<string, VmInfo>): boolean {
    if (vms.size !== this.sorted.length) return false;
    for (const key of this.sorted) if (!vms.has(key)) return false;
    return true;
  }

  private sort(vms: ReadonlyMap<string, VmInfo>): void {
    const entries: { key: string; cluster: string; vmid: number }[] = [];
    for (const [key, info] of vms) entries.push({ key, cluster: info.cluster, vmid: info.vmid });
    const names = [...new Set(entries.map((e) => e.cluster))].sort((a, b) => a.localeCompare(b));
    const rank = new Map(names.map((name, i) => [name, i]));
    entries.sort((a, b) => rank.get(a.cluster)! - rank.get(b.cluster)! || a.vmid - b.vmid);
    this.sorted = entries.map((e) => e.key);
    this.ranges.clear();
    let from = 0;
    for (let i = 1; i <= entries.length; i++) {
      if (i === entries.length || entries[i]!.cluster !== entries[from]!.cluster) {
        this.ranges.set(entries[from]!.cluster, [from, i]);
        from = i;
      }
    }
  }
}

/** `name` looked up once per id (a page of requests names the same few people many times). */
function memo(name: (id: string) => string | undefined): (id: string) => string | undefined {
  const known = new Map<string, string | undefined>();
  return (id) => {
    if (!known.has(id)) known.set(id, name(id));
    return known.get(id);
  };
}

export function createListQueries(
  deps: ListQueryDeps,
): Pick<QueryHandlers, 'vms' | 'hosts' | 'requests' | 'tokenList'> {
  const { overseer, store, config } = deps;
  const order = new GuestOrder();

  /** Clusters the core knows: configured, synced, or holding VMs or hosts. */
  const knownClusters = (): Set<string> => {
    const known = new Set<string>(config.clusters.map((c) => c.name));
    for (const name of overseer.view.clusters.keys()) known.add(name);
    for (const name of order.clusters(overseer.view.vms)) known.add(name);
    for (const host of overseer.view.hosts.values()) known.add(host.cluster);
    return known;
  };

  const checkCluster = (cluster: string | undefined) => {
    if (cluster === undefined) return;
    const known = knownClusters();
    // Before anything is known (a first start before its first sync) every name is given the benefit of the doubt.
    if (known.size > 0 && !known.has(cluster)) {
      throw new InputRefusedError(`no cluster '${cluster}' (clusters: ${list(known)})`, 'cluster');
    }
  };

  const checkNode = (node: string | undefined, cluster: string | undefined) => {
    if (node === undefined) return;
    const nodes = new Set<string>();
    for (const h of overseer.view.hosts.values()) if (cluster === undefined || h.cluster === cluster) nodes.add(h.node);
    if (nodes.size > 0 && !nodes.has(node)) {
      const where = cluster === undefined ? '' : ` in cluster '${cluster}'`;
      throw new InputRefusedError(`no node '${node}'${where} (nodes: ${list(nodes)})`, 'node');
    }
  };

  const checkVmState = (state: string | undefined) => {
    if (state !== undefined && !VM_STATE_NAMES.includes(state)) {
      throw new InputRefusedError(`no VM state '${state}' (states: ${VM_STATE_NAMES.join(', ')})`, 'state');
    }
  };

  return {
    vms: ({ cluster, node, state, tag, type, limit, offset }) => {
      checkCluster(cluster);
      checkNode(node, cluster);
      checkVmState(state);
      const vms = overseer.view.vms;
      // The guests in list order (cluster, then VMID): sorted again only when guests came or went.
      const keys = order.keys(vms);
      const [lo, hi] = order.range(cluster);
      const from = offset ?? 0;
      const size = Math.min(limit ?? MAX_PAGE, MAX_PAGE);
      const infoAt = (i: number) => vms.get(keys[i]!)!;
      if (!node && !tag && !type && !state) {
        const items: VmView[] = [];
        for (let i = lo + from; i < Math.min(hi, lo + from + size); i++) items.push(deps.vmView(infoAt(i)));
        return { items, total: hi - lo };
      }
      // Filters on what the guest is: checked on each guest of the range; a view is built for the page only (and
      // for each candidate when filtering on the actor's state, which the view holds).
      const items: VmView[] = [];
      let total = 0;
      for (let i = lo; i < hi; i++) {
        const info = infoAt(i);
        if (node && info.node !== node) continue;
        if (tag && !info.tags.includes(tag)) continue;
        if (type && (info.type ?? 'qemu') !== type) continue;
        let view: VmView | undefined;
        if (state) {
          view = deps.vmView(info);
          if (view.state !== state) continue;
        }
        if (total >= from && items.length < size) items.push(view ?? deps.vmView(info));
        total += 1;
      }
      return { items, total };
    },
    hosts: ({ cluster, limit, offset }) => {
      checkCluster(cluster);
      const items = [...overseer.view.hosts.values()]
        .filter((h) => !cluster || h.cluster === cluster)
        .sort((a, b) => a.cluster.localeCompare(b.cluster) || a.node.localeCompare(b.node))
        .map(deps.hostView);
      return page(items, limit, offset);
    },
    requests: ({ status, requester, idPrefix, guest, limit, offset }) => {
      const filter = { status, requester, idPrefix };
      const size = Math.min(limit ?? DEFAULT_REQUEST_PAGE, MAX_PAGE);
      const from = offset ?? 0;
      const names = memo(deps.tokenName);
      const view = (r: RequestRecord) => deps.requestView(r, names);
      // A guest's requests: its target, or a member a bulk request lists (the store filters on both).
      const [cluster, vmid] = guest === undefined ? [] : guest.split('/');
      const where = guest === undefined ? filter : { ...filter, cluster, vmid: Number(vmid) };
      return {
        items: store.requests.list({ ...where, limit: size, offset: from }).map(view),
        total: store.requests.count(where),
      };
    },
    tokenList: ({ limit, offset }) => page(store.tokens.list(), limit, offset),
  };
}
