// The backup check: destroy and rollback of a guest a gate.backup rule covers (by tag, or every guest for a rule with
// no tag) need its newest backup to be newer than the rule's maxAgeHours; no backup, a stale one, backups not read or a
// read that failed deny, naming the age and the rule. Re-checked before execution.
import { describe, expect, it } from 'vitest';
import type { BackupFact, GateInput } from '../../machines/gate';
import { backupCheck, backupRuleFor, evaluateGate, recheckedChecks } from '../../machines/gate';
import type { GateConfig, RequestSpec } from '../../machines/types';
import { gateInput, makeWorld, NOW, patchVm, vmRequest } from './fixtures';

const HOUR = 3_600_000;

function input(request: RequestSpec, rules: GateConfig['backup'], backups?: Record<string, BackupFact>): GateInput {
  const world = makeWorld();
  world.config.backup = rules;
  patchVm(world, 101, { tags: ['web'] });
  return { ...gateInput(request, world), ...(backups ? { backups: new Map(Object.entries(backups)) } : {}) };
}

const destroy101 = vmRequest('destroy', 101);
const webRule = [{ tag: 'web', maxAgeHours: 24 }];

describe('backup check', () => {
  it('gate - a fresh backup passes, naming its age and the rule', () => {
    expect(backupCheck.run(input(destroy101, webRule, { 'lab/101': { newestAt: NOW - 2 * HOUR } }))).toEqual({
      outcome: 'pass',
      reason:
        "the newest backup of VM lab/101 (web) is 2.0 h old (2025-01-15T10:00:00Z), within the gate.backup rule for tag 'web' (at most 24 h)",
    });
  });

  it('gate - a backup older than the rule allows denies destroy and rollback', () => {
    const stale = { 'lab/101': { newestAt: NOW - 30.5 * HOUR } };
    expect(backupCheck.run(input(destroy101, webRule, stale))).toEqual({
      outcome: 'deny',
      reason:
        "the newest backup of VM lab/101 (web) is 30.5 h old (2025-01-14T05:30:00Z): destroy needs a newer one under the gate.backup rule for tag 'web' (at most 24 h)",
    });
    const rollback = vmRequest('rollback', 101, { params: { snapname: 'before' } });
    expect(backupCheck.run(input(rollback, webRule, stale)).outcome).toBe('deny');
  });

  it('gate - no backup, backups not read, or a failed read deny (fail closed)', () => {
    expect(backupCheck.run(input(destroy101, webRule, { 'lab/101': { newestAt: undefined } }))).toEqual({
      outcome: 'deny',
      reason:
        "VM lab/101 (web) has no backup: destroy needs one under the gate.backup rule for tag 'web' (at most 24 h)",
    });
    expect(backupCheck.run(input(destroy101, webRule))).toEqual({
      outcome: 'deny',
      reason:
        "the backups of VM lab/101 (web) were not read: the gate.backup rule for tag 'web' (at most 24 h) cannot be checked",
    });
    expect(backupCheck.run(input(destroy101, webRule, { 'lab/101': { error: 'storage pbs unreachable' } }))).toEqual({
      outcome: 'deny',
      reason:
        "could not read the backups of VM lab/101 (web): storage pbs unreachable; the gate.backup rule for tag 'web' (at most 24 h) cannot be checked",
    });
  });

  it('gate - a guest no rule covers passes, and so do other actions', () => {
    expect(backupCheck.run(input(vmRequest('destroy', 102), webRule))).toEqual({
      outcome: 'pass',
      reason: 'no gate.backup rule covers VM lab/102 (build)',
    });
    expect(backupCheck.run(input(destroy101, undefined)).outcome).toBe('pass');
    expect(backupCheck.run(input(vmRequest('stop', 101), webRule))).toEqual({
      outcome: 'pass',
      reason: 'stop needs no fresh backup',
    });
  });

  it('gate - a rule without a tag covers every guest; the strictest covering rule counts', () => {
    const rules = [{ maxAgeHours: 48 }, { tag: 'WEB', maxAgeHours: 6 }];
    expect(backupRuleFor({ tags: ['web'] }, { ...makeWorld().config, backup: rules })).toEqual(rules[1]);
    expect(backupRuleFor({ tags: [] }, { ...makeWorld().config, backup: rules })).toEqual(rules[0]);
    const tenHours = { 'lab/101': { newestAt: NOW - 10 * HOUR }, 'lab/102': { newestAt: NOW - 10 * HOUR } };
    expect(backupCheck.run(input(destroy101, rules, tenHours)).reason).toMatch(/rule for tag 'WEB' \(at most 6 h\)$/);
    expect(backupCheck.run(input(vmRequest('destroy', 102), rules, tenHours))).toMatchObject({
      outcome: 'pass',
      reason: expect.stringMatching(/within the gate.backup rule for every guest \(at most 48 h\)$/),
    });
  });

  it('gate - in the gate it runs after snapshotName and its denial is the decision; it is re-checked', () => {
    const result = evaluateGate(input(destroy101, webRule, { 'lab/101': { newestAt: undefined } }));
    expect(result.checks.map((c) => c.check).slice(-2)).toEqual(['snapshotName', 'backup']);
    expect(result.decision).toBe('denied');
    expect(result.reasons).toEqual([
      "VM lab/101 (web) has no backup: destroy needs one under the gate.backup rule for tag 'web' (at most 24 h)",
    ]);
    expect(recheckedChecks.map((c) => c.name)).toContain('backup');
  });
});
