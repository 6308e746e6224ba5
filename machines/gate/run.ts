// Running one check and recording its result: the pieces evaluate.ts (single requests) and bulk.ts (bulk requests)
// share.
import type { CheckName, CheckOutcome, CheckResult } from '../types';
import type { CheckVerdict, GateCheck, GateInput } from './types';

export const SKIPPED_REASON = 'not evaluated: an earlier check denied';

/** The recorded result of a check that did not run because an earlier one denied. */
export function skippedResult(check: CheckName): CheckResult {
  return { check, outcome: 'skipped', reason: SKIPPED_REASON };
}

export const isDenial = (result: CheckResult): boolean => result.outcome === 'deny';

/** A verdict from `judge`; one that throws denies, naming the check and the error. */
export function verdictOf(check: CheckName, judge: () => CheckVerdict): CheckVerdict {
  try {
    return judge();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { outcome: 'deny', reason: `check ${check} failed: ${message}` };
  }
}

/** Runs one check; a check that throws denies, naming itself and the error. */
export function runCheck(check: GateCheck, input: GateInput): CheckResult {
  const verdict = verdictOf(check.name, () => check.run(input));
  return { check: check.name, outcome: verdict.outcome, reason: verdict.reason };
}

const SEVERITY: Readonly<Record<CheckOutcome, number>> = { skipped: 0, pass: 1, approval: 2, deny: 3 };

/** The worse of two outcomes: deny > approval > pass > skipped. */
export const worse = (a: CheckOutcome, b: CheckOutcome): CheckOutcome => (SEVERITY[b] > SEVERITY[a] ? b : a);
