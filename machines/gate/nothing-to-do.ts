// "Nothing to do": a power action on a VM already in the state the action leads to (a stop or shutdown of a stopped
// VM, a start of a running one). When no check denies, the gate's decision is `nothing_to_do` instead of approved or
// awaiting approval: the request ends at once and no operation is asked of the platform. The inventory may be
// behind (a sync interval, a restart), so the runtime confirms the state with the platform first (`powerStatus`).
import type { Action, GateResult, VmPowerStatus } from '../types';
import { targetVm } from './subject';
import type { GateInput } from './types';

/** The power state in which each action has nothing left to do. */
const DONE_WHEN: Partial<Record<Action, VmPowerStatus>> = {
  start: 'running',
  stop: 'stopped',
  shutdown: 'stopped',
};

/** Why the request has nothing to do (`VM lab/103 is already stopped`), or undefined when it has work to do. */
export function nothingToDo(input: GateInput): string | undefined {
  const done = DONE_WHEN[input.request.action];
  const target = targetVm(input);
  if (!done || !target?.vm) return undefined;
  const status = input.powerStatus?.get(target.key) ?? target.vm.status;
  return status === done ? `VM ${target.key} is already ${done}` : undefined;
}

/**
 * The gate's result once "nothing to do" is taken into account: a result no check denied becomes `nothing_to_do`
 * (its checks kept, its one reason saying why) when the VM is already where the action would take it.
 */
export function settleNothingToDo(result: GateResult, input: GateInput): GateResult {
  if (result.decision === 'denied') return result;
  const why = nothingToDo(input);
  if (why === undefined) return result;
  return { decision: 'nothing_to_do', checks: result.checks, reasons: [why] };
}
