// Check 7, conflicts: a VM with another active request, or with a PVE lock, is not touched.
import { vmLabel } from '../describe';
import { deployTemplate, targetVm } from '../subject';
import type { GateCheck } from '../types';

export const conflictsCheck: GateCheck = {
  name: 'conflicts',
  run(input) {
    const { request } = input;
    const template = deployTemplate(input);
    if (template) {
      const tpl = template.vm;
      if (!tpl) return { outcome: 'pass', reason: `template ${template.key} is not in the inventory` };
      const label = vmLabel(tpl, 'template');
      if (tpl.lock) return { outcome: 'deny', reason: `${label} is locked by PVE (${tpl.lock})` };
      return { outcome: 'pass', reason: `${label} has no PVE lock` };
    }

    const target = targetVm(input);
    if (!target) return { outcome: 'pass', reason: `${request.action} touches no existing VM` };
    const label = target.vm ? vmLabel(target.vm) : `VM ${target.key}`;
    const active = input.activeRequests.get(target.key);
    if (active && active.id !== request.id) {
      return { outcome: 'deny', reason: `${label} has another active request: ${active.id} (${active.action})` };
    }
    if (target.vm?.lock) return { outcome: 'deny', reason: `${label} is locked by PVE (${target.vm.lock})` };
    return { outcome: 'pass', reason: `${label} has no other active request and no PVE lock` };
  },
};
