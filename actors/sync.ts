// State sync: reconciles the VM and host actors with one cluster's inventory. A failed, partial, non-quorate or
// suspiciously empty answer never removes anything: a VM is taken as gone only when a complete, quorate answer
// has lacked it twice in a row (the VM machine counts), or when a request destroyed it.
import type { Clock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import type { Inventory, Platform } from '../adapters/platform/types';
import type { HostMachine, HostThresholds } from '../machines/host.machine';
import type { ClusterInfo, HostInfo, VmInfo } from '../machines/types';
import { hostKey, vmKey } from '../machines/types';
import type { VmMachine } from '../machines/vm.machine';
import type { ActorSet } from './actor-set';
import type { SystemView } from './system-view';

export interface SyncTargets {
  clock: Clock;
  log: Log;
  view: SystemView;
  vms: ActorSet<VmMachine>;
  hosts: ActorSet<HostMachine>;
  hostThresholds: HostThresholds;
  /** Records what is known of a cluster (reachable, quorate) in the view and in the store. */
  setCluster: (info: ClusterInfo) => void;
}

export interface ClusterSyncReport {
  cluster: string;
  ok: boolean;
  complete: boolean;
  quorate: boolean;
  vms: number;
  created: number;
  changed: number;
  missing: number;
  unreachableNodes: string[];
  error?: string | undefined;
}

/** Fields whose change is a change of the VM itself (metrics like cpu and mem only refresh the view). */
export function sameVm(a: VmInfo, b: VmInfo): boolean {
  return (
    a.status === b.status &&
    a.lock === b.lock &&
    a.node === b.node &&
    a.name === b.name &&
    a.template === b.template &&
    a.haManaged === b.haManaged &&
    a.cpus === b.cpus &&
    a.maxmem === b.maxmem &&
    a.maxdisk === b.maxdisk &&
    a.tags.length === b.tags.length &&
    a.tags.every((t, i) => t === b.tags[i])
  );
}

export async function syncCluster(platform: Platform, t: SyncTargets): Promise<ClusterSyncReport> {
  const cluster = platform.cluster;
  let inventory: Inventory;
  try {
    inventory = await platform.inventory();
  } catch (error) {
    markClusterUnreachable(cluster, t);
    const message = error instanceof Error ? error.message : String(error);
    t.log.warn(`sync ${cluster}: inventory failed, nothing changed: ${message}`);
    return {
      cluster,
      ok: false,
      complete: false,
      quorate: false,
      vms: 0,
      created: 0,
      changed: 0,
      missing: 0,
      unreachableNodes: [],
      error: message,
    };
  }
  return applyInventory(inventory, t);
}

function markClusterUnreachable(cluster: string, t: SyncTargets): void {
  const previous = t.view.clusters.get(cluster);
  t.setCluster({ cluster, reachable: false, quorate: previous?.quorate ?? false });
  const at = t.clock.now();
  for (const [key, host] of t.hosts.entries()) {
    if (key.startsWith(`${cluster}/`)) host.send({ type: 'CLUSTER_UNREACHABLE', at });
  }
}

export function applyInventory(inventory: Inventory, t: SyncTargets): ClusterSyncReport {
  const { cluster, quorate } = inventory;
  const at = inventory.fetchedAt;
  t.setCluster({ cluster, reachable: true, quorate });
  for (const host of inventory.hosts) observeHost(host, quorate, at, t);

  let created = 0;
  let changed = 0;
  const seen = new Set<string>();
  for (const info of inventory.vms) {
    const key = vmKey(info.cluster, info.vmid);
    seen.add(key);
    t.view.setVm(info);
    const actor = t.vms.get(key);
    if (!actor) {
      t.vms.create(key, { info, at });
      created++;
    } else if (!sameVm(actor.getSnapshot().context.info, info)) {
      actor.send({ type: 'OBSERVED', info, at });
      changed++;
    }
  }

  const unreachable = new Set(inventory.unreachableNodes);
  const known = t.view.vmsOfCluster(cluster).filter((vm) => !seen.has(vmKey(vm.cluster, vm.vmid)));
  // An empty answer for a cluster we know VMs of is suspicious: never count it as "all gone".
  const trustworthy = inventory.complete && quorate && inventory.vms.length > 0;
  let missing = 0;
  for (const vm of known) {
    const actor = t.vms.get(vmKey(vm.cluster, vm.vmid));
    if (!actor) continue;
    if (unreachable.has(vm.node)) actor.send({ type: 'UNREACHABLE', at });
    else if (trustworthy) {
      actor.send({ type: 'MISSING', at });
      missing++;
    }
  }
  if (!trustworthy && known.length > 0) {
    const why = !quorate
      ? 'the cluster has no quorum'
      : inventory.vms.length === 0
        ? 'the answer was empty'
        : 'the answer was partial';
    t.log.warn(`sync ${cluster}: ${known.length} known VMs not in the answer; nothing removed because ${why}`);
  }
  return {
    cluster,
    ok: true,
    complete: inventory.complete,
    quorate,
    vms: inventory.vms.length,
    created,
    changed,
    missing,
    unreachableNodes: inventory.unreachableNodes,
  };
}

function observeHost(info: HostInfo, quorate: boolean, at: number, t: SyncTargets): void {
  const key = hostKey(info.cluster, info.node);
  t.view.setHost(info);
  const actor = t.hosts.get(key);
  if (!actor) t.hosts.create(key, { info, quorate, at, thresholds: t.hostThresholds });
  else actor.send({ type: 'OBSERVED', info, quorate, at });
}
