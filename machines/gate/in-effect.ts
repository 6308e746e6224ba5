// A power action already in effect: a stop or shutdown of a stopped guest, a start of a running one. The state is the
// one the platform reported just before the checks (`powerStatus`) when the runtime read it, else the inventory's.
// nothing-to-do.ts turns this into the `nothing_to_do` decision; a bulk request leaves such members out.
import type { Action, VmPowerStatus } from '../types';
import { guestNoun } from './describe';
import { targetVm } from './subject';
import type { GateInput } from './types';

/** The power state in which each action has nothing left to do. */
const DONE_WHEN: Partial<Record<Action, VmPowerStatus>> = {
  start: 'running',
  stop: 'stopped',
  shutdown: 'stopped',
};

/** The state the request's power action leads to when the guest is already in it; undefined when it has work to do. */
export function powerStateReached(input: GateInput): VmPowerStatus | undefined {
  const done = DONE_WHEN[input.request.action];
  const target = targetVm(input);
  if (!done || !target?.vm) return undefined;
  const status = input.powerStatus?.get(target.key) ?? target.vm.status;
  return status === done ? done : undefined;
}

/** `VM lab/103 is already stopped` when the request's power action is in effect; undefined when it has work to do. */
export function powerActionInEffect(input: GateInput): string | undefined {
  const reached = powerStateReached(input);
  const target = targetVm(input);
  if (reached === undefined || !target?.vm) return undefined;
  return `${guestNoun(target.vm)} ${target.key} is already ${reached}`;
}
