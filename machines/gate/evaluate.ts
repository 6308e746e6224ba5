// Running the checks in order and combining their results into one decision.
// Kept in two steps so an async check (the knowledge base) can be appended by an async caller:
//   const results = runChecks(input);
//   results.push(results.some(isDenial) ? skippedResult('knowledge') : { check: 'knowledge', ...(await kb(input)) });
//   return combineChecks(results);
import type { CheckName, CheckResult, Decision, GateResult } from '../types';
import { authorizationCheck } from './checks/authorization';
import { capacityCheck } from './checks/capacity';
import { conflictsCheck } from './checks/conflicts';
import { haCheck } from './checks/ha';
import { maintenanceCheck } from './checks/maintenance';
import { massOperationCheck } from './checks/mass-operation';
import { platformHealthCheck } from './checks/platform-health';
import { productionCheck } from './checks/production';
import { schemaCheck } from './checks/schema';
import { snapshotNameCheck } from './checks/snapshot-name';
import { targetCheck } from './checks/target';
import type { CheckVerdict, GateCheck, GateInput } from './types';

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
];

export const SKIPPED_REASON = 'not evaluated: an earlier check denied';

/** The recorded result of a check that did not run because an earlier one denied. */
export function skippedResult(check: CheckName): CheckResult {
  return { check, outcome: 'skipped', reason: SKIPPED_REASON };
}

export const isDenial = (result: CheckResult): boolean => result.outcome === 'deny';

/** Runs one check; a check that throws denies, naming itself and the error. */
export function runCheck(check: GateCheck, input: GateInput): CheckResult {
  let verdict: CheckVerdict;
  try {
    verdict = check.run(input);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    verdict = { outcome: 'deny', reason: `check ${check.name} failed: ${message}` };
  }
  return { check: check.name, outcome: verdict.outcome, reason: verdict.reason };
}

/** Runs the checks in order; after the first deny the rest are recorded as skipped. */
export function runChecks(input: GateInput, checks: readonly GateCheck[] = gateChecks): CheckResult[] {
  const results: CheckResult[] = [];
  let denied = false;
  for (const check of checks) {
    const result = denied ? skippedResult(check.name) : runCheck(check, input);
    if (isDenial(result)) denied = true;
    results.push(result);
  }
  return results;
}

/** The decision the recorded results add up to: any deny → denied; else any approval → awaiting_approval. */
export function combineChecks(results: readonly CheckResult[]): GateResult {
  let decision: Decision = 'approved';
  if (results.some((r) => r.outcome === 'deny')) decision = 'denied';
  else if (results.some((r) => r.outcome === 'approval')) decision = 'awaiting_approval';
  return {
    decision,
    checks: results.map((r) => ({ ...r })),
    reasons: results.filter((r) => r.outcome === 'deny' || r.outcome === 'approval').map((r) => r.reason),
  };
}

/** Gates a request: runs the checks (default: gateChecks) and combines their results. */
export function evaluateGate(input: GateInput, checks: readonly GateCheck[] = gateChecks): GateResult {
  return combineChecks(runChecks(input, checks));
}
