// Check 4, production protection: disruptive actions on a production VM (rollback among them) need force, and
// (configurable) a second person's approval. Moving a production guest (migrate, a drain's moves) needs no force,
// only that approval.
import type { GateConfig, VmInfo } from '../../types';
import { DISRUPTIVE_ACTIONS, MOVING_ACTIONS, vmKey } from '../../types';
import { vmLabel } from '../describe';
import { targetVm } from '../subject';
import type { GateCheck } from '../types';

/** A VM is production when it carries a production tag or is listed by `<cluster>/<vmid>`. */
export function isProductionVm(vm: VmInfo, config: GateConfig): boolean {
  return (
    vm.tags.some((tag) => config.production.tags.includes(tag)) ||
    config.production.vms.includes(vmKey(vm.cluster, vm.vmid))
  );
}

export const productionCheck: GateCheck = {
  name: 'production',
  run(input) {
    const { request, config } = input;
    const target = targetVm(input);
    if (!target) return { outcome: 'pass', reason: `${request.action} touches no existing VM` };
    const vm = target.vm;
    if (!vm) return { outcome: 'pass', reason: `VM ${target.key} is not in the inventory` };
    const label = vmLabel(vm);
    if (!isProductionVm(vm, config)) return { outcome: 'pass', reason: `${label} is not production` };
    const action = request.action;
    if (MOVING_ACTIONS.has(action)) {
      if (config.production.requireApproval) {
        return { outcome: 'approval', reason: `${label} is production: ${action} needs a second person's approval` };
      }
      return { outcome: 'pass', reason: `${label} is production: ${action} allowed (no second approval configured)` };
    }
    if (!DISRUPTIVE_ACTIONS.has(action)) {
      return { outcome: 'pass', reason: `${label} is production, but ${action} does not disrupt it` };
    }
    if (request.force !== true) return { outcome: 'deny', reason: `${label} is production: ${action} needs force` };
    if (config.production.requireApproval) {
      return {
        outcome: 'approval',
        reason: `${label} is production: forced ${action} needs a second person's approval`,
      };
    }
    return {
      outcome: 'pass',
      reason: `${label} is production: forced ${action} allowed (no second approval configured)`,
    };
  },
};
