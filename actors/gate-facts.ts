// Facts the gate reads from the platform before its synchronous checks run (the inventory does not hold them, or
// may be behind):
// - for a snapshot request, the names of the target VM's snapshots: the snapshotName check denies a name already
//   used, as PVE would at execution. A listing that fails is handed to the check as an error, and the check denies
//   with it: the gate fails closed.
// - for a power action the inventory says has nothing to do (a stop of a stopped VM), the VM's power state now: only
//   a state the platform confirms makes the decision `nothing_to_do`. A read that fails leaves the request to the
//   ordinary decision (`unknown`), so a stale inventory never swallows a request.
import type { Platform } from '../adapters/platform/types';
import type { GateInput, SnapshotListing } from '../machines/gate';
import { nothingToDo } from '../machines/gate';
import type { VmPowerStatus } from '../machines/types';
import { hostKey, vmKey } from '../machines/types';

/** Where the gate reads what the inventory does not say. */
export interface PlatformFacts {
  snapshotNames(cluster: string, node: string, vmid: number): Promise<readonly string[]>;
  powerStatus(cluster: string, node: string, vmid: number): Promise<VmPowerStatus>;
}

/** The facts from the clusters' platforms. */
export function platformFacts(platforms: ReadonlyMap<string, Platform>): PlatformFacts {
  const platformOf = (cluster: string): Platform => {
    const platform = platforms.get(cluster);
    if (!platform) throw new Error(`no platform is configured for cluster ${cluster}`);
    return platform;
  };
  return {
    snapshotNames: async (cluster, node, vmid) =>
      (await platformOf(cluster).listSnapshots(node, vmid)).map((s) => s.name),
    powerStatus: (cluster, node, vmid) => platformOf(cluster).vmStatus(node, vmid),
  };
}

/** What the gate adds to its input once the platform was asked. */
export type GatheredFacts = Pick<GateInput, 'snapshots' | 'powerStatus'>;

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * The facts `input.request` needs, keyed by VM key. Nothing is asked when an earlier check denies anyway and says
 * why better: a VM not in the inventory, a cluster that is unreachable, the VM's node offline.
 */
export async function gatherFacts(input: GateInput, source: PlatformFacts | undefined): Promise<GatheredFacts> {
  const { cluster, vmid } = input.request.target;
  if (vmid === undefined) return {};
  const key = vmKey(cluster, vmid);
  const vm = input.vms.get(key);
  if (!vm || input.clusters.get(cluster)?.reachable !== true) return {};
  if (input.hosts.get(hostKey(cluster, vm.node))?.status === 'offline') return {};
  if (input.request.action === 'snapshot') {
    if (!source) return { snapshots: new Map([[key, { error: 'no platform facts are available' }]]) };
    let listing: SnapshotListing;
    try {
      listing = { names: [...(await source.snapshotNames(cluster, vm.node, vmid))] };
    } catch (error) {
      listing = { error: message(error) };
    }
    return { snapshots: new Map([[key, listing]]) };
  }
  if (nothingToDo(input) !== undefined) {
    let status: VmPowerStatus = 'unknown';
    try {
      if (source) status = await source.powerStatus(cluster, vm.node, vmid);
    } catch {
      // the ordinary decision, then: execution finds out what the platform says
    }
    return { powerStatus: new Map([[key, status]]) };
  }
  return {};
}
