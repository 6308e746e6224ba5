// Running the checks in order and combining their results into one decision.
// Kept in two steps so an async check (the knowledge base) can be appended by an async caller:
//   const results = runChecks(input);
//   results.push(results.some(isDenial) ? skippedResult('knowledge') : { check: 'knowledge', ...(await kb(input)) });
//   return combineChecks(results, input);
// Bulk requests (a selector, a drain) go through the same functions: runChecks gates them as one unit (bulk.ts), and
// combineChecks (given the input) or settleNothingToDo adds their members to the result. A bulk member's own request
// (request.parent set) run against gateChecks meets memberChecks instead: its parent was gated for it.
import type { CheckResult, Decision, GateResult } from '../types';
import { runBulkChecks } from './bulk';
import { authorizationCheck } from './checks/authorization';
import { backupCheck } from './checks/backup';
import { capacityCheck } from './checks/capacity';
import { conflictsCheck } from './checks/conflicts';
import { haCheck } from './checks/ha';
import { maintenanceCheck } from './checks/maintenance';
import { massOperationCheck } from './checks/mass-operation';
import { parentCheck } from './checks/parent';
import { platformHealthCheck } from './checks/platform-health';
import { productionCheck } from './checks/production';
import { schemaCheck } from './checks/schema';
import { snapshotNameCheck } from './checks/snapshot-name';
import { targetCheck } from './checks/target';
import { bulkMembers, isBulkRequest } from './expansion';
import { isDenial, runCheck, skippedResult } from './run';
import type { GateCheck, GateInput } from './types';

export { isDenial, runCheck, SKIPPED_REASON, skippedResult } from './run';

/** The gate's checks, in the order they run. */
export const gateChecks: readonly GateCheck[] = [
  schemaCheck,
  authorizationCheck,
  targetCheck,
  maintenanceCheck,
  productionCheck,
  massOperationCheck,
  capacityCheck,
  conflictsCheck,
  platformHealthCheck,
  haCheck,
  snapshotNameCheck,
  backupCheck,
];

/** The checks of a bulk member's own request: well-formed, and listed by its parent as it is. */
export const memberChecks: readonly GateCheck[] = [schemaCheck, parentCheck];

/**
 * Runs the checks in order; after the first deny the rest are recorded as skipped. A bulk request is run as one unit
 * (a leading `expansion` result, then each check on its members); a bulk member run against gateChecks meets
 * memberChecks.
 */
export function runChecks(input: GateInput, checks: readonly GateCheck[] = gateChecks): CheckResult[] {
  const chosen = input.request.parent !== undefined && checks === gateChecks ? memberChecks : checks;
  if (isBulkRequest(input.request)) return runBulkChecks(input, chosen);
  const results: CheckResult[] = [];
  let denied = false;
  for (const check of chosen) {
    const result = denied ? skippedResult(check.name) : runCheck(check, input);
    if (isDenial(result)) denied = true;
    results.push(result);
  }
  return results;
}

/**
 * The decision the recorded results add up to: any deny → denied; else any approval → awaiting_approval. Given the
 * input of a bulk request, the result carries its members.
 */
export function combineChecks(results: readonly CheckResult[], input?: GateInput): GateResult {
  let decision: Decision = 'approved';
  if (results.some((r) => r.outcome === 'deny')) decision = 'denied';
  else if (results.some((r) => r.outcome === 'approval')) decision = 'awaiting_approval';
  const combined: GateResult = {
    decision,
    checks: results.map((r) => ({ ...r })),
    reasons: results.filter((r) => r.outcome === 'deny' || r.outcome === 'approval').map((r) => r.reason),
  };
  const members = input ? bulkMembers(input) : undefined;
  return members ? { ...combined, members } : combined;
}

/** Gates a request: runs the checks (default: gateChecks) and combines their results. */
export function evaluateGate(input: GateInput, checks: readonly GateCheck[] = gateChecks): GateResult {
  return combineChecks(runChecks(input, checks), input);
}
