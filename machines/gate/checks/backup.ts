// Check backup: a destroy or rollback loses a guest's state for good, so a guest a `gate.backup` rule covers — by one
// of its tags, or every guest for a rule with no tag — needs a backup newer than the rule's maxAgeHours (the strictest
// covering rule counts). The newest backup of each such guest is read from the platform before the checks run
// (GateInput.backups); none at all, one too old, backups not read, or a read that failed, all deny, naming the age and
// the rule: the gate fails closed. A guest no rule covers, and every other action, pass.

import { isoTime } from '../../maintenance';
import type { GateConfig, VmInfo } from '../../types';
import { vmLabel } from '../describe';
import { targetVm } from '../subject';
import type { GateCheck } from '../types';

type BackupRule = NonNullable<GateConfig['backup']>[number];

/** The actions that need a fresh backup. */
export const BACKUP_GUARDED_ACTIONS: ReadonlySet<string> = new Set(['destroy', 'rollback']);

const HOUR = 3_600_000;

/** The strictest rule covering the guest (by tag, or a rule with no tag), if any. */
export function backupRuleFor(vm: Pick<VmInfo, 'tags'>, config: GateConfig): BackupRule | undefined {
  let found: BackupRule | undefined;
  for (const rule of config.backup ?? []) {
    const covers = rule.tag === undefined || vm.tags.some((tag) => tag.toLowerCase() === rule.tag?.toLowerCase());
    if (covers && (!found || rule.maxAgeHours < found.maxAgeHours)) found = rule;
  }
  return found;
}

/** `the gate.backup rule for tag 'production' (at most 24 h)`. */
const describeRule = (rule: BackupRule): string =>
  `the gate.backup rule for ${rule.tag === undefined ? 'every guest' : `tag '${rule.tag}'`} (at most ${rule.maxAgeHours} h)`;

/** `30.5 h`; under six minutes, `59 s`. */
const hours = (ms: number): string =>
  ms < HOUR / 10 ? `${Math.round(Math.max(0, ms) / 1000)} s` : `${(ms / HOUR).toFixed(1)} h`;

export const backupCheck: GateCheck = {
  name: 'backup',
  run(input) {
    const { request, config } = input;
    if (!BACKUP_GUARDED_ACTIONS.has(request.action)) {
      return { outcome: 'pass', reason: `${request.action} needs no fresh backup` };
    }
    const target = targetVm(input);
    if (!target?.vm) return { outcome: 'pass', reason: `${request.action} touches no guest in the inventory` };
    const label = vmLabel(target.vm);
    const rule = backupRuleFor(target.vm, config);
    if (!rule) return { outcome: 'pass', reason: `no gate.backup rule covers ${label}` };
    const ruleText = describeRule(rule);
    const fact = input.backups?.get(target.key);
    if (!fact) {
      return { outcome: 'deny', reason: `the backups of ${label} were not read: ${ruleText} cannot be checked` };
    }
    if ('error' in fact) {
      return {
        outcome: 'deny',
        reason: `could not read the backups of ${label}: ${fact.error}; ${ruleText} cannot be checked`,
      };
    }
    if (fact.newestAt === undefined) {
      return { outcome: 'deny', reason: `${label} has no backup: ${request.action} needs one under ${ruleText}` };
    }
    const age = input.now - fact.newestAt;
    const when = `${hours(age)} old (${isoTime(fact.newestAt)})`;
    if (age > rule.maxAgeHours * HOUR) {
      return {
        outcome: 'deny',
        reason: `the newest backup of ${label} is ${when}: ${request.action} needs a newer one under ${ruleText}`,
      };
    }
    return { outcome: 'pass', reason: `the newest backup of ${label} is ${when}, within ${ruleText}` };
  },
};
