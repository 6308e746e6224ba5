// State sync: reconciles the VM and host actors with one cluster's inventory. A failed, partial, non-quorate or
// suspiciously empty answer never removes anything: a VM is taken as gone only when a complete, quorate answer
// has lacked it twice in a row (the VM machine counts), or when a request destroyed it.
// A VM its actor knows as running that the answer lists as stopped is explained from the platform's task log first
// (vm-stop-causes.ts): an operator's stop is recorded and left alone, a guest that died is an issue. A VMID that is
// listed again after its VM was destroyed belongs to a new VM: a new actor, the old one's history archived.
import type { Clock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import type { Inventory, Platform } from '../adapters/platform/types';
import type { HostMachine, HostThresholds } from '../machines/host.machine';
import type { ClusterInfo, HostInfo, VmInfo } from '../machines/types';
import { hostKey, vmKey } from '../machines/types';
import type { VmMachine } from '../machines/vm.machine';
import type { VmStopCause } from '../machines/vm-stop';
import type { ActorSet } from './actor-set';
import type { SystemView } from './system-view';
import { explainStops } from './vm-stop-causes';

export interface SyncTargets {
  clock: Clock;
  log: Log;
  view: SystemView;
  vms: ActorSet<VmMachine>;
  hosts: ActorSet<HostMachine>;
  hostThresholds: HostThresholds;
  /** Records what is known of a cluster (reachable, quorate) in the view and in the store. */
  setCluster: (info: ClusterInfo) => void;
  /** The Overseer request that recorded a platform task id, if one did (a stop by any other task is not Overseer's). */
  taskOwner?: ((upid: string) => string | undefined) | undefined;
}

export interface ApplyOptions {
  /** Why VMs known as running and now listed as stopped stopped (read from the task log before). */
  stops?: ReadonlyMap<string, VmStopCause> | undefined;
  /**
   * Keys of VM actors that were already destroyed when the answer was asked for: only these are replaced by a new
   * actor when their VMID is listed (an answer asked for before a destroy ended may still list the old VM).
   * Without it the answer is taken as newer than every destruction.
   */
  destroyedBefore?: ReadonlySet<string> | undefined;
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
  /** VMIDs listed again after their VM was destroyed: each a new VM actor. */
  renewed: number;
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
    a.haState === b.haState &&
    a.cpus === b.cpus &&
    a.maxmem === b.maxmem &&
    a.maxdisk === b.maxdisk &&
    a.tags.length === b.tags.length &&
    a.tags.every((t, i) => t === b.tags[i])
  );
}

/** Keys of the destroyed (final) VM actors of a cluster. */
function destroyedVms(cluster: string, t: SyncTargets): Set<string> {
  const keys = new Set<string>();
  for (const [key, actor] of t.vms.entries()) {
    if (key.startsWith(`${cluster}/`) && actor.getSnapshot().status !== 'active') keys.add(key);
  }
  return keys;
}

export async function syncCluster(platform: Platform, t: SyncTargets): Promise<ClusterSyncReport> {
  const cluster = platform.cluster;
  const destroyedBefore = destroyedVms(cluster, t);
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
      renewed: 0,
      unreachableNodes: [],
      error: message,
    };
  }
  const stops = await explainStops(platform, inventory, t);
  return applyInventory(inventory, t, { stops, destroyedBefore });
}

function markClusterUnreachable(cluster: string, t: SyncTargets): void {
  const previous = t.view.clusters.get(cluster);
  t.setCluster({ cluster, reachable: false, quorate: previous?.quorate ?? false });
  const at = t.clock.now();
  for (const [key, host] of t.hosts.entries()) {
    if (key.startsWith(`${cluster}/`)) host.send({ type: 'CLUSTER_UNREACHABLE', at });
  }
}

export function applyInventory(inventory: Inventory, t: SyncTargets, options: ApplyOptions = {}): ClusterSyncReport {
  const { cluster, quorate } = inventory;
  const at = inventory.fetchedAt;
  t.setCluster({ cluster, reachable: true, quorate });
  for (const host of inventory.hosts) observeHost(host, quorate, at, t);

  let created = 0;
  let changed = 0;
  let renewed = 0;
  const seen = new Set<string>();
  for (const info of inventory.vms) {
    const key = vmKey(info.cluster, info.vmid);
    let actor = t.vms.get(key);
    if (actor && actor.getSnapshot().status !== 'active') {
      // Its VM was destroyed. Listed again in a sound answer asked for after that, the VMID is a new VM's.
      const fresh = inventory.complete && quorate && (options.destroyedBefore?.has(key) ?? true);
      if (!fresh) continue;
      t.log.info(`sync ${cluster}: VMID ${info.vmid} is in use again (${info.name}): a new VM, a new actor`);
      actor = undefined;
      renewed++;
    }
    seen.add(key);
    t.view.setVm(info);
    if (!actor) {
      t.vms.create(key, { info, at });
      created++;
    } else if (!sameVm(actor.getSnapshot().context.info, info)) {
      actor.send({ type: 'OBSERVED', info, at, stop: options.stops?.get(key) });
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
    renewed,
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
