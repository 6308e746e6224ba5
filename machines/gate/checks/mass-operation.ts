// Check 5, mass-operation brake: too many VMs in one request, or too many destructive operations in a
// sliding window, are denied or sent for approval (config.massOperation.onExceed). A bulk request is braked as one
// unit: every member counts towards the per-request limit, and each destructive member adds to the window's earlier
// operations; the sentence lists the members.
import { DESTRUCTIVE_ACTIONS } from '../../types';
import { plural } from '../describe';
import { vmsTouched } from '../subject';
import type { CheckVerdict, GateCheck, GateInput } from '../types';

/** Earlier destructive requests submitted within (now - window, now]. */
export function destructiveInWindow(input: GateInput): number {
  const start = input.now - input.config.massOperation.windowSeconds * 1000;
  return input.recentDestructive.filter((at) => at > start && at <= input.now).length;
}

/** The brake's verdict on `what` touching `touched` guests, `destructive` of them destroyed or rolled back. */
function brake(
  input: GateInput,
  what: string,
  touched: number,
  destructive: number,
  noun: string,
  listed = '',
): CheckVerdict {
  const { maxVmsPerRequest, maxDestructivePerWindow, windowSeconds, onExceed } = input.config.massOperation;
  const exceeded: string[] = [];
  const within: string[] = [];

  if (touched > maxVmsPerRequest) {
    exceeded.push(`${what} touches ${plural(touched, noun)}, more than the limit of ${maxVmsPerRequest} per request`);
  } else {
    within.push(`${what} touches ${plural(touched, noun)} (limit ${maxVmsPerRequest} per request)`);
  }

  if (destructive > 0) {
    const recent = destructiveInWindow(input);
    const window = `${windowSeconds} s`;
    const single = destructive === 1;
    if (recent + destructive > maxDestructivePerWindow) {
      exceeded.push(
        single
          ? `${plural(recent, 'destructive operation')} already in the last ${window} (limit ${maxDestructivePerWindow} per ${window})`
          : `${plural(recent, 'destructive operation')} already in the last ${window} and ${destructive} more in this request (limit ${maxDestructivePerWindow} per ${window})`,
      );
    } else {
      within.push(
        single
          ? `${plural(recent, 'earlier destructive operation')} in the last ${window} (limit ${maxDestructivePerWindow})`
          : `${plural(recent, 'earlier destructive operation')} in the last ${window} and ${destructive} in this request (limit ${maxDestructivePerWindow})`,
      );
    }
  }

  if (exceeded.length > 0)
    return { outcome: onExceed, reason: `mass-operation brake: ${exceeded.join('; ')}${listed}` };
  return { outcome: 'pass', reason: within.join('; ') };
}

export const massOperationCheck: GateCheck = {
  name: 'massOperation',
  run(input) {
    const { request } = input;
    const destructive = DESTRUCTIVE_ACTIONS.has(request.action) ? 1 : 0;
    return brake(input, request.action, vmsTouched(request), destructive, 'VM');
  },
  runUnit(input, unit) {
    const destructive = unit.members.filter((m) => DESTRUCTIVE_ACTIONS.has(m.action)).length;
    const listed = `: ${unit.members.map((m) => unit.memberLabel(m)).join(', ')}`;
    const what = input.request.action === 'drain' ? unit.label : `${input.request.action} of ${unit.label}`;
    return brake(input, what, unit.members.length, destructive, 'guest', listed);
  },
};
