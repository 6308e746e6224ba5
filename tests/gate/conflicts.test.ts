import { describe, expect, it } from 'vitest';
import { conflictsCheck } from '../../machines/gate';
import { deployRequest, gateInput, makeWorld, patchVm, vmRequest } from './fixtures';

describe('conflicts check', () => {
  it('conflicts - a free, unlocked VM passes', () => {
    expect(conflictsCheck.run(gateInput(vmRequest('stop', 101)))).toEqual({
      outcome: 'pass',
      reason: 'VM lab/101 (web) has no other active request and no PVE lock',
    });
  });

  it('conflicts - a VM with another active request is denied naming it', () => {
    const world = makeWorld();
    world.activeRequests.set('lab/101', { id: 'req-7', action: 'reboot' });
    expect(conflictsCheck.run(gateInput(vmRequest('stop', 101), world))).toEqual({
      outcome: 'deny',
      reason: 'VM lab/101 (web) has another active request: req-7 (reboot)',
    });
  });

  it('conflicts - the request itself being active is no conflict', () => {
    const world = makeWorld();
    world.activeRequests.set('lab/101', { id: 'req-1', action: 'stop' });
    expect(conflictsCheck.run(gateInput(vmRequest('stop', 101), world)).outcome).toBe('pass');
  });

  it('conflicts - an active request on another VM is no conflict', () => {
    const world = makeWorld();
    world.activeRequests.set('lab/102', { id: 'req-7', action: 'reboot' });
    expect(conflictsCheck.run(gateInput(vmRequest('stop', 101), world)).outcome).toBe('pass');
  });

  it('conflicts - a VM with a PVE lock is denied naming the lock', () => {
    const world = makeWorld();
    patchVm(world, 101, { lock: 'migrate' });
    expect(conflictsCheck.run(gateInput(vmRequest('stop', 101), world))).toEqual({
      outcome: 'deny',
      reason: 'VM lab/101 (web) is locked by PVE (migrate)',
    });
  });

  it('conflicts - a deploy from an unlocked template passes', () => {
    expect(conflictsCheck.run(gateInput(deployRequest()))).toEqual({
      outcome: 'pass',
      reason: 'template lab/9000 (debian-12-tpl) has no PVE lock',
    });
  });

  it('conflicts - a deploy from a locked template is denied', () => {
    const world = makeWorld();
    patchVm(world, 9000, { lock: 'clone' });
    expect(conflictsCheck.run(gateInput(deployRequest(), world))).toEqual({
      outcome: 'deny',
      reason: 'template lab/9000 (debian-12-tpl) is locked by PVE (clone)',
    });
  });
});

describe('conflicts check: backups', () => {
  it('gate - a guest locked by a running backup passes: execution waits for the backup to end', () => {
    const world = makeWorld();
    patchVm(world, 101, { lock: 'backup' });
    expect(conflictsCheck.run(gateInput(vmRequest('destroy', 101), world))).toEqual({
      outcome: 'pass',
      reason: 'VM lab/101 (web) is locked by a running backup: execution waits for the backup to end',
    });
  });

  it('gate - other locks still deny, and another active request still wins over a backup lock', () => {
    const world = makeWorld();
    for (const lock of ['clone', 'migrate', 'rollback', 'snapshot', 'snapshot-delete', 'suspended']) {
      patchVm(world, 101, { lock });
      expect(conflictsCheck.run(gateInput(vmRequest('stop', 101), world)).reason).toBe(
        `VM lab/101 (web) is locked by PVE (${lock})`,
      );
    }
    patchVm(world, 101, { lock: 'backup' });
    world.activeRequests.set('lab/101', { id: 'req-7', action: 'reboot' });
    expect(conflictsCheck.run(gateInput(vmRequest('stop', 101), world))).toEqual({
      outcome: 'deny',
      reason: 'VM lab/101 (web) has another active request: req-7 (reboot)',
    });
  });
});
