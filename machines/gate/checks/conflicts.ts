// Check 7, conflicts: a VM with another active request, or with a PVE lock, is not touched. A running backup's lock
// (`backup`) is the exception: it ends by itself, so the request passes and its execution waits for the backup.
import { vmLabel } from '../describe';
import { deployTemplate, targetVm } from '../subject';
import type { GateCheck } from '../types';

/** The PVE lock a running vzdump backup holds. */
export const BACKUP_LOCK = 'backup';

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
    if (target.vm?.lock === BACKUP_LOCK) {
      return {
        outcome: 'pass',
        reason: `${label} is locked by a running backup: execution waits for the backup to end`,
      };
    }
    if (target.vm?.lock) return { outcome: 'deny', reason: `${label} is locked by PVE (${target.vm.lock})` };
    return { outcome: 'pass', reason: `${label} has no other active request and no PVE lock` };
  },
};
