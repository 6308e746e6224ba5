// Gating a bulk request (a selector's, or a drain) as ONE unit. A leading check, `expansion`, lists the members
// (machines/gate/expansion.ts) or denies when there are none. Every other check then judges the unit: by its own
// `runUnit` when it has one (massOperation counts every member at once; schema and authorization also look at the
// bulk request itself), else on each member's own request, recording the worst member outcome (deny > approval >
// pass) with a sentence naming each member that did not pass (`105 (db-1): VM lab/105 (db-1) is production: stop
// needs force; ...`). As for a single request, the checks after the first denial are recorded as skipped. When every
// member has nothing to do the members left out are judged instead, so that such a unit is denied for the reasons a
// single request with nothing to do would be (nothing-to-do.ts then makes the rest `nothing_to_do`).
import type { BulkMember, CheckOutcome, CheckResult } from '../types';
import { plural } from './describe';
import { expandBulk, memberInputs, memberLabelIn } from './expansion';
import { isDenial, runCheck, skippedResult, verdictOf, worse } from './run';
import type { BulkUnit, CheckVerdict, GateCheck, GateInput } from './types';

/** The name of the leading check of a bulk request: its expansion into members. */
export const EXPANSION_CHECK = 'expansion';

/** A check on each member: the worst outcome, naming the members that did not pass. */
function judgeMembers(
  check: GateCheck,
  members: readonly BulkMember[],
  inputs: readonly GateInput[],
  label: (member: BulkMember) => string,
): CheckVerdict {
  if (members.length === 0) return { outcome: 'pass', reason: 'no member to check' };
  const verdicts = members.map((member, i) => ({ member, ...runCheck(check, inputs[i] as GateInput) }));
  let outcome: CheckOutcome = 'skipped';
  for (const v of verdicts) outcome = worse(outcome, v.outcome);
  const named = (v: (typeof verdicts)[number]) => `${label(v.member)}: ${v.reason}`;
  if (outcome === 'deny' || outcome === 'approval') {
    const failing = verdicts.filter((v) => v.outcome === 'deny' || v.outcome === 'approval');
    return { outcome, reason: failing.map(named).join('; ') };
  }
  const reasons = new Set(verdicts.map((v) => v.reason));
  if (verdicts.length > 1 && reasons.size === 1) {
    return { outcome, reason: `each of ${plural(verdicts.length, 'guest')}: ${verdicts[0]?.reason}` };
  }
  return { outcome, reason: verdicts.map(named).join('; ') };
}

/** The unit a bulk request stands for, or why it stands for none. */
export function bulkUnit(input: GateInput): { unit: BulkUnit; sentence: string } | { reason: string } {
  const expanded = expandBulk(input);
  if (!expanded.ok) return { reason: expanded.reason };
  const { expansion } = expanded;
  const judged = expansion.members.length > 0 ? expansion.members : expansion.leftOut.map((l) => l.member);
  const inputs = memberInputs(input, judged);
  const label = (member: BulkMember) => memberLabelIn(input, member.vmid);
  const unit: BulkUnit = {
    label: expansion.label,
    members: expansion.members,
    memberLabel: label,
    eachMember: (check) => judgeMembers(check, judged, inputs, label),
  };
  return { unit, sentence: expansion.sentence };
}

/** Runs the checks on a bulk request as one unit: the expansion first, then each check in order. */
export function runBulkChecks(input: GateInput, checks: readonly GateCheck[]): CheckResult[] {
  const found = bulkUnit(input);
  if ('reason' in found) {
    return [
      { check: EXPANSION_CHECK, outcome: 'deny', reason: found.reason },
      ...checks.map((c) => skippedResult(c.name)),
    ];
  }
  const { unit } = found;
  const results: CheckResult[] = [{ check: EXPANSION_CHECK, outcome: 'pass', reason: found.sentence }];
  let denied = false;
  for (const check of checks) {
    if (denied) {
      results.push(skippedResult(check.name));
      continue;
    }
    const verdict = verdictOf(check.name, () => (check.runUnit ? check.runUnit(input, unit) : unit.eachMember(check)));
    const result: CheckResult = { check: check.name, outcome: verdict.outcome, reason: verdict.reason };
    if (isDenial(result)) denied = true;
    results.push(result);
  }
  return results;
}
