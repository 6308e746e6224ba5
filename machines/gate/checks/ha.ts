// Check 9, HA: VMs managed by Proxmox HA are not fought over; their power state belongs to the HA manager. Moving
// an HA-managed guest (migrate, a drain's moves) passes: the runtime moves it through the HA manager.
import type { Action } from '../../types';
import { MOVING_ACTIONS } from '../../types';
import { vmLabel } from '../describe';
import { targetVm } from '../subject';
import type { GateCheck } from '../types';

/** Actions that change a VM's power state or existence, which Proxmox HA also controls. */
export const HA_CONTROLLED_ACTIONS: ReadonlySet<Action> = new Set([
  'start',
  'stop',
  'shutdown',
  'reboot',
  'suspend',
  'resume',
  'destroy',
]);

export const haCheck: GateCheck = {
  name: 'ha',
  run(input) {
    const { request } = input;
    const vm = targetVm(input)?.vm;
    if (!vm) return { outcome: 'pass', reason: `${request.action} touches no HA-managed VM` };
    const label = vmLabel(vm);
    if (!vm.haManaged) return { outcome: 'pass', reason: `${label} is not managed by Proxmox HA` };
    if (MOVING_ACTIONS.has(request.action)) {
      return {
        outcome: 'pass',
        reason: `${label} is managed by Proxmox HA: ${request.action} moves it through the HA manager`,
      };
    }
    if (!HA_CONTROLLED_ACTIONS.has(request.action)) {
      return {
        outcome: 'pass',
        reason: `${label} is managed by Proxmox HA, but ${request.action} leaves its HA state alone`,
      };
    }
    return { outcome: input.config.ha, reason: `${label} is managed by Proxmox HA: change its HA state instead` };
  },
};
