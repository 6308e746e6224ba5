// Before a sync tells the VM actors what it saw: for every VM that its actor knows as running and the platform now
// reports stopped, the VM's task log since its run began is read to tell an operator's stop (a task Overseer did
// not issue) from a guest that died (no task). The decision itself is pure (machines/vm-stop.ts).
import type { Log } from '../adapters/log';
import type { Inventory, Platform } from '../adapters/platform/types';
import { vmKey } from '../machines/types';
import type { VmMachine } from '../machines/vm.machine';
import type { VmStopCause } from '../machines/vm-stop';
import { explainStop, runStartedAt } from '../machines/vm-stop';
import type { ActorSet } from './actor-set';
import { stateName } from './watch';

/** Task logs read at once (one per VM seen stopping). */
export const STOP_LOOKUP_CONCURRENCY = 4;

export interface StopLookup {
  vms: ActorSet<VmMachine>;
  log: Log;
  /** The Overseer request that recorded a task id, if one did. */
  taskOwner?: ((upid: string) => string | undefined) | undefined;
}

/** Why each VM stopped that its actor knows as running and the answer lists as stopped, by VM key. */
export async function explainStops(
  platform: Platform,
  inventory: Inventory,
  t: StopLookup,
): Promise<Map<string, VmStopCause>> {
  const causes = new Map<string, VmStopCause>();
  const pending: { key: string; node: string; vmid: number; since: number; haManaged: boolean; haState?: string }[] =
    [];
  for (const info of inventory.vms) {
    if (info.status !== 'stopped') continue;
    const key = vmKey(info.cluster, info.vmid);
    const snapshot = t.vms.peek(key);
    if (!snapshot || snapshot.status !== 'active' || stateName(snapshot.value) !== 'running') continue;
    const { lastSeen, info: known } = snapshot.context;
    pending.push({
      key,
      node: info.node,
      vmid: info.vmid,
      since: runStartedAt(lastSeen, known.uptime),
      haManaged: info.haManaged,
      haState: info.haState,
    });
  }
  const ownerOf = (upid: string) => t.taskOwner?.(upid);
  const next = async (): Promise<void> => {
    for (let vm = pending.shift(); vm; vm = pending.shift()) {
      try {
        const tasks = await platform.recentTasks(vm.node, vm.vmid, vm.since);
        const cause = explainStop({
          tasks,
          since: vm.since,
          haManaged: vm.haManaged,
          haState: vm.haState,
          ownerOf,
        });
        causes.set(vm.key, cause);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        t.log.warn(`sync ${platform.cluster}: VM ${vm.vmid} stopped, but its task log could not be read: ${message}`);
        causes.set(vm.key, { by: 'unknown', error: message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(STOP_LOOKUP_CONCURRENCY, pending.length) }, next));
  return causes;
}
