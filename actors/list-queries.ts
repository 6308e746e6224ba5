// The core's list queries (vms, hosts, requests, tokens): a page (limit, offset) and the total matching, so a
// client can page through any list. A filter naming something the core does not know (a cluster, a node, a VM
// state) is refused with the field named, rather than answered with an empty page that looks like "none".

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
  requestView(record: RequestRecord): RequestView;
}

/** `items` from `offset`, at most `limit` (capped at MAX_PAGE), and how many there were. */
export function page<T>(items: T[], limit: number | undefined, offset: number | undefined, fallback = MAX_PAGE) {
  const from = offset ?? 0;
  const size = Math.min(limit ?? fallback, MAX_PAGE);
  return { items: items.slice(from, from + size), total: items.length };
}

const list = (values: Iterable<string>) => [...values].sort().join(', ') || 'none';

export function createListQueries(
  deps: ListQueryDeps,
): Pick<QueryHandlers, 'vms' | 'hosts' | 'requests' | 'tokenList'> {
  const { overseer, store, config } = deps;

  /** Clusters the core knows: configured, synced, or holding VMs or hosts. */
  const knownClusters = (): Set<string> => {
    const known = new Set<string>(config.clusters.map((c) => c.name));
    for (const name of overseer.view.clusters.keys()) known.add(name);
    for (const vm of overseer.view.vms.values()) known.add(vm.cluster);
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
      const items: VmView[] = [];
      for (const info of overseer.view.vms.values()) {
        if (cluster && info.cluster !== cluster) continue;
        if (node && info.node !== node) continue;
        if (tag && !info.tags.includes(tag)) continue;
        if (type && (info.type ?? 'qemu') !== type) continue;
        const view = deps.vmView(info);
        if (state && view.state !== state) continue;
        items.push(view);
      }
      items.sort((a, b) => a.cluster.localeCompare(b.cluster) || a.vmid - b.vmid);
      return page(items, limit, offset);
    },
    hosts: ({ cluster, limit, offset }) => {
      checkCluster(cluster);
      const items = [...overseer.view.hosts.values()]
        .filter((h) => !cluster || h.cluster === cluster)
        .sort((a, b) => a.cluster.localeCompare(b.cluster) || a.node.localeCompare(b.node))
        .map(deps.hostView);
      return page(items, limit, offset);
    },
    requests: ({ status, requester, idPrefix, limit, offset }) => {
      const filter = { status, requester, idPrefix };
      const size = Math.min(limit ?? DEFAULT_REQUEST_PAGE, MAX_PAGE);
      return {
        items: store.requests.list({ ...filter, limit: size, offset: offset ?? 0 }).map(deps.requestView),
        total: store.requests.count(filter),
      };
    },
    tokenList: ({ limit, offset }) => page(store.tokens.list(), limit, offset),
  };
}
