import { describe, expect, it } from 'vitest';
import type { GateCheck } from '../../machines/gate';
import {
  combineChecks,
  defaultGateConfig,
  evaluateGate,
  gateChecks,
  runChecks,
  SKIPPED_REASON,
  skippedResult,
} from '../../machines/gate';
import { CHECK_NAMES } from '../../machines/types';
import { deployRequest, gateInput, makeWorld, patchCluster, patchVm, vmRequest } from './fixtures';

const fixed = (name: string, outcome: 'pass' | 'deny' | 'approval'): GateCheck => ({
  name,
  run: () => ({ outcome, reason: `${name} says ${outcome}` }),
});

describe('evaluateGate', () => {
  it('order - runs the checks in the documented order', () => {
    expect(gateChecks.map((c) => c.name)).toEqual([...CHECK_NAMES]);
    const result = evaluateGate(gateInput(vmRequest('start', 101)));
    expect(result.checks.map((c) => c.check)).toEqual([...CHECK_NAMES]);
  });

  it('decision - a harmless start on a healthy VM is approved with a reason for every check', () => {
    const result = evaluateGate(gateInput(vmRequest('start', 101)));
    expect(result.decision).toBe('approved');
    expect(result.reasons).toEqual([]);
    expect(result.checks.every((c) => c.outcome === 'pass')).toBe(true);
    expect(result.checks.every((c) => c.reason.length > 0)).toBe(true);
    expect(result.checks.find((c) => c.check === 'target')?.reason).toBe('VM lab/101 (web) exists on node pve1');
  });

  it('decision - a valid deploy is approved', () => {
    expect(evaluateGate(gateInput(deployRequest({ count: 2 }))).decision).toBe('approved');
  });

  it('production - destroy without force is denied with the reason', () => {
    const result = evaluateGate(gateInput(vmRequest('destroy', 114)));
    expect(result.decision).toBe('denied');
    expect(result.reasons).toEqual(['VM lab/114 (minecraft) is production: destroy needs force']);
  });

  it('production - destroy with force is awaiting approval with the reason', () => {
    const result = evaluateGate(gateInput(vmRequest('destroy', 114, { force: true })));
    expect(result.decision).toBe('awaiting_approval');
    expect(result.reasons).toEqual([
      "VM lab/114 (minecraft) is production: forced destroy needs a second person's approval",
    ]);
  });

  it('skip - after the first deny the remaining checks are recorded as skipped', () => {
    const result = evaluateGate(gateInput(vmRequest('destroy', 101, { requester: { id: 'carol', role: 'operator' } })));
    expect(result.decision).toBe('denied');
    expect(result.checks.map((c) => [c.check, c.outcome])).toEqual([
      ['schema', 'pass'],
      ['authorization', 'deny'],
      ['target', 'skipped'],
      ['maintenance', 'skipped'],
      ['production', 'skipped'],
      ['massOperation', 'skipped'],
      ['capacity', 'skipped'],
      ['conflicts', 'skipped'],
      ['platformHealth', 'skipped'],
      ['ha', 'skipped'],
      ['snapshotName', 'skipped'],
      ['backup', 'skipped'],
    ]);
    expect(result.checks[2]?.reason).toBe('not evaluated: an earlier check denied');
    expect(result.reasons).toEqual(['role operator may not destroy (needs admin)']);
  });

  it('skip - a deny after an approval keeps the approval reason and denies', () => {
    const world = makeWorld();
    patchVm(world, 114, { lock: 'snapshot' });
    const result = evaluateGate(gateInput(vmRequest('destroy', 114, { force: true }), world));
    expect(result.decision).toBe('denied');
    expect(result.reasons).toEqual([
      "VM lab/114 (minecraft) is production: forced destroy needs a second person's approval",
      'VM lab/114 (minecraft) is locked by PVE (snapshot)',
    ]);
    expect(result.checks.find((c) => c.check === 'platformHealth')?.outcome).toBe('skipped');
  });

  it('decision - several approvals are all listed as reasons', () => {
    const world = makeWorld();
    world.config.ha = 'approval';
    patchVm(world, 105, { tags: ['production'] });
    const result = evaluateGate(gateInput(vmRequest('reboot', 105, { force: true }), world));
    expect(result.decision).toBe('awaiting_approval');
    expect(result.reasons).toEqual([
      "VM lab/105 (db) is production: forced reboot needs a second person's approval",
      'VM lab/105 (db) is managed by Proxmox HA: change its HA state instead',
    ]);
  });

  it('decision - a lost quorum denies even a start', () => {
    const world = makeWorld();
    patchCluster(world, { quorate: false });
    const result = evaluateGate(gateInput(vmRequest('start', 101), world));
    expect(result.decision).toBe('denied');
    expect(result.reasons).toEqual(['cluster lab has lost quorum: no mutating operation']);
  });

  it('custom checks - evaluateGate runs the checks it is given', () => {
    const result = evaluateGate(gateInput(vmRequest('start', 101)), [
      fixed('a', 'pass'),
      fixed('b', 'approval'),
      fixed('c', 'deny'),
      fixed('d', 'pass'),
    ]);
    expect(result).toEqual({
      decision: 'denied',
      checks: [
        { check: 'a', outcome: 'pass', reason: 'a says pass' },
        { check: 'b', outcome: 'approval', reason: 'b says approval' },
        { check: 'c', outcome: 'deny', reason: 'c says deny' },
        { check: 'd', outcome: 'skipped', reason: SKIPPED_REASON },
      ],
      reasons: ['b says approval', 'c says deny'],
    });
  });

  it('custom checks - a check that throws denies naming itself and the error', () => {
    const boom: GateCheck = {
      name: 'boom',
      run: () => {
        throw new Error('inventory is empty');
      },
    };
    const result = evaluateGate(gateInput(vmRequest('start', 101)), [boom, fixed('after', 'pass')]);
    expect(result.decision).toBe('denied');
    expect(result.reasons).toEqual(['check boom failed: inventory is empty']);
    expect(result.checks[1]?.outcome).toBe('skipped');
  });

  it('combine - an async check result appended to the sync results is recombined', () => {
    const input = gateInput(vmRequest('start', 101));
    const results = runChecks(input);
    const combined = combineChecks([
      ...results,
      { check: 'knowledge', outcome: 'approval', reason: 'runbook RB-12: restarts of web need approval' },
    ]);
    expect(combined.decision).toBe('awaiting_approval');
    expect(combined.reasons).toEqual(['runbook RB-12: restarts of web need approval']);
    expect(combined.checks.at(-1)?.check).toBe('knowledge');
  });

  it('combine - an async check after a deny is recorded as skipped', () => {
    const results = runChecks(gateInput(vmRequest('destroy', 114)));
    const combined = combineChecks([...results, skippedResult('knowledge')]);
    expect(combined.decision).toBe('denied');
    expect(combined.checks.at(-1)).toEqual({ check: 'knowledge', outcome: 'skipped', reason: SKIPPED_REASON });
  });

  it('combine - no results is approved with no reasons', () => {
    expect(combineChecks([])).toEqual({ decision: 'approved', checks: [], reasons: [] });
  });

  it('config - the defaults are the documented ones and cannot be mutated', () => {
    expect(defaultGateConfig).toEqual({
      production: { tags: ['production'], vms: [], requireApproval: true },
      massOperation: { maxVmsPerRequest: 10, maxDestructivePerWindow: 3, windowSeconds: 600, onExceed: 'approval' },
      deploy: { maxCount: 10, maxVmsPerCluster: 500 },
      capacity: { memReserveFraction: 0.1, diskReserveFraction: 0.1, maxCpuLoad: 0.9 },
      ha: 'deny',
      commands: { allowed: [] },
      approvalTimeoutSeconds: 3600,
    });
    expect(Object.isFrozen(defaultGateConfig.production.tags)).toBe(true);
  });
});
