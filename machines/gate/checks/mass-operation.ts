// Check 5, mass-operation brake: too many VMs in one request, or too many destructive operations in a
// sliding window, are denied or sent for approval (config.massOperation.onExceed).
import { DESTRUCTIVE_ACTIONS } from '../../types';
import { plural } from '../describe';
import { vmsTouched } from '../subject';
import type { GateCheck, GateInput } from '../types';

/** Earlier destructive requests submitted within (now - window, now]. */
export function destructiveInWindow(input: GateInput): number {
  const start = input.now - input.config.massOperation.windowSeconds * 1000;
  return input.recentDestructive.filter((at) => at > start && at <= input.now).length;
}

export const massOperationCheck: GateCheck = {
  name: 'massOperation',
  run(input) {
    const { request } = input;
    const { maxVmsPerRequest, maxDestructivePerWindow, windowSeconds, onExceed } = input.config.massOperation;
    const exceeded: string[] = [];
    const within: string[] = [];

    const touched = vmsTouched(request);
    if (touched > maxVmsPerRequest) {
      exceeded.push(
        `${request.action} touches ${plural(touched, 'VM')}, more than the limit of ${maxVmsPerRequest} per request`,
      );
    } else {
      within.push(`${request.action} touches ${plural(touched, 'VM')} (limit ${maxVmsPerRequest} per request)`);
    }

    if (DESTRUCTIVE_ACTIONS.has(request.action)) {
      const recent = destructiveInWindow(input);
      const window = `${windowSeconds} s`;
      if (recent >= maxDestructivePerWindow) {
        exceeded.push(
          `${plural(recent, 'destructive operation')} already in the last ${window} (limit ${maxDestructivePerWindow} per ${window})`,
        );
      } else {
        within.push(
          `${plural(recent, 'earlier destructive operation')} in the last ${window} (limit ${maxDestructivePerWindow})`,
        );
      }
    }

    if (exceeded.length > 0) return { outcome: onExceed, reason: `mass-operation brake: ${exceeded.join('; ')}` };
    return { outcome: 'pass', reason: within.join('; ') };
  },
};
