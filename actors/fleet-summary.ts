// The summary the core publishes at every health cycle (`overseer.evt.loop.health.summary`), which the gateway's
// /metrics renders without asking the core anything: the counts by state of VMs, hosts and requests, plus the loops'
// heartbeats, the open incidents by kind and severity, each cluster's quorum and each node's state.
import type { HostMachine } from '../machines/host.machine';
import { hostKey } from '../machines/types';
import type { SummaryReply } from '../protocol';
import type { StateStore, SystemSummary } from '../state';
import type { ActorSet } from './actor-set';
import type { LoopHeartbeat } from './health';
import type { SystemView } from './system-view';
import { stateName } from './watch';

export interface FleetSummaryInput {
  /** The counts by state (the system summary store). */
  counts: SystemSummary;
  /** Now, on the core's clock. */
  at: number;
  loops: readonly LoopHeartbeat[];
  view: SystemView;
  hosts: ActorSet<HostMachine>;
  store: StateStore;
}

export function fleetSummary({ counts, at, loops, view, hosts, store }: FleetSummaryInput): SummaryReply {
  const nodes: NonNullable<SummaryReply['nodes']> = [];
  for (const info of view.hosts.values()) {
    const actor = hosts.get(hostKey(info.cluster, info.node));
    nodes.push({
      cluster: info.cluster,
      node: info.node,
      state: actor ? stateName(actor.getSnapshot().value) : 'unknown',
    });
  }
  nodes.sort((a, b) => a.cluster.localeCompare(b.cluster) || a.node.localeCompare(b.node));
  const clusters = [...view.clusters.values()]
    .map(({ cluster, reachable, quorate }) => ({ cluster, reachable, quorate }))
    .sort((a, b) => a.cluster.localeCompare(b.cluster));
  return {
    vms: counts.vms,
    hosts: counts.hosts,
    requests: counts.requests,
    at,
    loops: loops.map(({ loop, lastBeatAt, ok }) => ({ loop, lastBeatAt, ok })),
    incidents: store.incidents.openCounts(),
    clusters,
    nodes,
  };
}
