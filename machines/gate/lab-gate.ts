// The lab's own gate decision: a lab's plan (machines/lab, planLab or planDestroy) judged as ONE unit, the way the
// request gate judges one request. Checks in a fixed order, each with its sentence (lab-checks.ts): labPlan,
// authorization, target, maintenance, production, massOperation, capacity, platformHealth. After the first deny the
// rest are recorded as skipped; the results combine like combineChecks (deny > approval > approved), so one approval
// covers the whole lab. A plan with nothing in it is `nothing_to_do` unless a check denies. Pure: the runtime hands in
// the plan and the same facts a request's GateInput holds.
import type { LabPlan } from '../lab';
import type { CheckName, CheckResult, GateResult, Requester } from '../types';
import { combineChecks } from './evaluate';
import {
  labAuthorizationCheck,
  labCapacityCheck,
  labMaintenanceCheck,
  labMassOperationCheck,
  labName,
  labPlanCheck,
  labPlatformHealthCheck,
  labProductionCheck,
  labTargetCheck,
} from './lab-checks';
import { isDenial, skippedResult, verdictOf } from './run';
import type { CheckVerdict, GateInput } from './types';

/** Everything the gate looks at to decide a lab's plan. Time comes in as `now`; nothing is read from outside. */
export interface LabDecisionInput
  extends Pick<GateInput, 'now' | 'config' | 'vms' | 'hosts' | 'clusters' | 'recentDestructive' | 'maintenance'> {
  /** What applying (or destroying) the lab would do, in the order it runs. */
  plan: LabPlan;
  /** Who asks (the lab's requester; the Overseer's identity for a drift repair it makes by itself). */
  requester: Requester;
  /** Production guests may be removed, replaced or restarted only with force. */
  force: boolean;
  /** `overseer` for work the Overseer starts by itself (a drift repair): maintenance then denies instead of asking. */
  origin?: 'human' | 'overseer' | undefined;
}

/** One named, pure, synchronous check of a lab's plan. */
export interface LabGateCheck {
  name: CheckName;
  run(input: LabDecisionInput): CheckVerdict;
}

/** The lab gate's checks, in the order they run. */
export const labGateChecks: readonly LabGateCheck[] = [
  labPlanCheck,
  labAuthorizationCheck,
  labTargetCheck,
  labMaintenanceCheck,
  labProductionCheck,
  labMassOperationCheck,
  labCapacityCheck,
  labPlatformHealthCheck,
];

/** Runs the checks in order; after the first deny the rest are recorded as skipped. A check that throws denies. */
export function runLabChecks(input: LabDecisionInput, checks: readonly LabGateCheck[] = labGateChecks): CheckResult[] {
  const results: CheckResult[] = [];
  let denied = false;
  for (const check of checks) {
    if (denied) {
      results.push(skippedResult(check.name));
      continue;
    }
    const verdict = verdictOf(check.name, () => check.run(input));
    const result: CheckResult = { check: check.name, outcome: verdict.outcome, reason: verdict.reason };
    if (isDenial(result)) denied = true;
    results.push(result);
  }
  return results;
}

/**
 * Gates a lab's plan as one unit: denied, awaiting approval (one approval covers the lab), approved, or — for a plan
 * with nothing in it that no check denies — nothing_to_do.
 */
export function evaluateLabGate(input: LabDecisionInput, checks: readonly LabGateCheck[] = labGateChecks): GateResult {
  const result = combineChecks(runLabChecks(input, checks));
  if (result.decision === 'denied' || input.plan.items.length > 0) return result;
  return {
    decision: 'nothing_to_do',
    checks: result.checks,
    reasons: [`${labName(input.plan)}: no changes, the cluster matches the file`],
  };
}
