// What starting a guest does with its config before it runs: pending changes are applied (qemu-server vm_start and
// pve-container vm_start call vmconfig_apply_pending), then every NIC is plugged into its bridge. A bridge the node
// does not have (a VNet whose SDN change was never applied, or whose zone leaves the node out) fails the start as
// PVE fails it: qemu-server's pve-bridge script dies in tap_create ("bridge '<b>' does not exist", from
// PVE::Network::read_bridge_mtu) and QEMU exits; pve-container's lxcnetaddbr dies the same way and lxc-start fails.
import { TaskError } from './errors';
import { bridgeOf } from './guest-nics';
import { applyPending, hasPending, optionsOf } from './guest-options';
import { bridgeExists } from './sdn';
import type { SimState, SimVm } from './types';

/** The guest's NICs (`netN`), by index. */
function nics(vm: SimVm): Array<[number, string]> {
  return Object.entries(optionsOf(vm))
    .filter(([k]) => /^net\d+$/.test(k))
    .map(([k, v]): [number, string] => [Number(k.slice(3)), v])
    .sort(([a], [b]) => a - b);
}

/** Applies the guest's pending changes (at start, and for a container at stop: its poststop hook). */
export function applyPendingChanges(vm: SimVm): void {
  if (hasPending(vm)) applyPending(vm);
}

/** In a start worker: pending changes applied, then each NIC's bridge must exist on the guest's node. */
export function prepareStart(state: SimState, vm: SimVm, log: (line: string) => void): void {
  applyPendingChanges(vm);
  for (const [index, value] of nics(vm)) {
    const bridge = bridgeOf(vm, value);
    if (bridge === undefined || bridgeExists(state, vm.node, bridge)) continue;
    if (vm.type === 'lxc') {
      log(`WARN: bridge '${bridge}' does not exist`);
      throw new TaskError(`startup for container '${vm.vmid}' failed`);
    }
    const script = '/usr/libexec/qemu-server/pve-bridge';
    log(`bridge '${bridge}' does not exist`);
    log(
      `kvm: -netdev type=tap,id=net${index},ifname=tap${vm.vmid}i${index},script=${script},` +
        `downscript=/usr/libexec/qemu-server/pve-bridgedown,vhost=on: network script ${script} failed with status 512`,
    );
    throw new TaskError('start failed: QEMU exited with code 1');
  }
}
