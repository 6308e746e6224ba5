// Check 8, platform health: no mutating operation while the cluster has lost quorum or the node is not online (the
// guest's node, a deploy's node, or a drained node; an undrain only needs quorum).
import { hostKey } from '../../types';
import { deploySubject, targetVm } from '../subject';
import type { GateCheck } from '../types';

export const platformHealthCheck: GateCheck = {
  name: 'platformHealth',
  run(input) {
    const cluster = input.request.target.cluster;
    const info = input.clusters.get(cluster);
    if (!info) return { outcome: 'deny', reason: `cluster ${cluster} is unknown` };
    if (!info.quorate) return { outcome: 'deny', reason: `cluster ${cluster} has lost quorum: no mutating operation` };

    const drained = input.request.action === 'drain' ? input.request.target.node : undefined;
    const node = deploySubject(input.request)?.node ?? targetVm(input)?.vm?.node ?? drained;
    if (node === undefined) return { outcome: 'pass', reason: `cluster ${cluster} is quorate` };
    const host = input.hosts.get(hostKey(cluster, node));
    if (!host) return { outcome: 'deny', reason: `node ${node} is not in the inventory of cluster ${cluster}` };
    if (host.status === 'offline') return { outcome: 'deny', reason: `node ${node} is offline` };
    if (host.status !== 'online') return { outcome: 'deny', reason: `node ${node} is in an unknown state` };
    return { outcome: 'pass', reason: `cluster ${cluster} is quorate and node ${node} is online` };
  },
};
