// Running VMs using more of their memory than the thresholds allow.
import { percent, vmLabel } from '../../gate/describe';
import { condition, conditionKey, subjectOf, usageSeverity } from '../condition';
import type { Condition, Detector } from '../types';

export const detectVmUsage: Detector = ({ input, wasPresent }) => {
  const { vms, thresholds } = input;
  const { vmMem, hysteresis } = thresholds;
  // At or below this, usageSeverity finds nothing whatever was present before: most VMs stop here.
  const floor = Math.min(vmMem.critical, vmMem.warning, vmMem.warning - hysteresis);
  const conditions: Condition[] = [];
  for (const vm of vms.values()) {
    const { info } = vm;
    if (info.status !== 'running' || info.maxmem <= 0) continue;
    const used = info.mem / info.maxmem;
    if (!(used > floor)) continue;
    const subject = subjectOf.vm(info.cluster, info.vmid);
    const severity = usageSeverity(
      used,
      thresholds.vmMem,
      wasPresent(conditionKey('vm-mem-high', subject)),
      thresholds.hysteresis,
    );
    if (!severity) continue;
    conditions.push(
      condition(
        'vm-mem-high',
        subject,
        severity,
        `${vmLabel(info)} uses ${percent(used)} of its memory (warning above ${percent(thresholds.vmMem.warning)})`,
        { used },
      ),
    );
  }
  return { conditions };
};
