// "Nothing to do": a power action on a VM already in the state the action leads to (a stop or shutdown of a stopped
// VM, a start of a running one). When no check denies, the gate's decision is `nothing_to_do` instead of approved or
// awaiting approval: the request ends at once and no operation is asked of the platform. The inventory may be
// behind (a sync interval, a restart), so the runtime confirms the state with the platform first (`powerStatus`).
// A bulk request has nothing to do when every member it expands to has nothing to do (expansion.ts leaves such
// members out of the unit and names them); its result always carries its members when it expands.
import type { GateResult } from '../types';
import { bulkMembers, expandBulk, isBulkRequest } from './expansion';
import { powerActionInEffect } from './in-effect';
import type { GateInput } from './types';

/** Why the request has nothing to do (`VM lab/103 is already stopped`), or undefined when it has work to do. */
export function nothingToDo(input: GateInput): string | undefined {
  if (!isBulkRequest(input.request)) return powerActionInEffect(input);
  const expanded = expandBulk(input);
  if (!expanded.ok) return undefined;
  const { members, leftOut, sentence } = expanded.expansion;
  return members.length === 0 && leftOut.length > 0 ? sentence : undefined;
}

/**
 * The gate's result once "nothing to do" is taken into account: a result no check denied becomes `nothing_to_do`
 * (its checks kept, its one reason saying why) when the VM is already where the action would take it. A bulk
 * request's result gets its members when it lacks them.
 */
export function settleNothingToDo(result: GateResult, input: GateInput): GateResult {
  const bulk = isBulkRequest(input.request);
  let settled = result;
  if (bulk && result.members === undefined) {
    const members = bulkMembers(input);
    if (members) settled = { ...result, members };
  }
  if (settled.decision === 'denied') return settled;
  const why = nothingToDo(input);
  if (why === undefined) return settled;
  return { decision: 'nothing_to_do', checks: settled.checks, reasons: [why], ...(bulk ? { members: [] } : {}) };
}
