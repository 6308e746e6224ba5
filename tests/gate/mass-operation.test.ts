import { describe, expect, it } from 'vitest';
import { massOperationCheck } from '../../machines/gate';
import { deployRequest, gateInput, makeWorld, NOW, vmRequest } from './fixtures';

const minutesAgo = (m: number) => NOW - m * 60_000;

describe('massOperation check', () => {
  it('massOperation - a single-VM action passes', () => {
    expect(massOperationCheck.run(gateInput(vmRequest('stop', 101)))).toEqual({
      outcome: 'pass',
      reason: 'stop touches 1 VM (limit 10 per request)',
    });
  });

  it('massOperation - a deploy at the per-request limit passes', () => {
    expect(massOperationCheck.run(gateInput(deployRequest({ count: 10 }))).outcome).toBe('pass');
  });

  it('massOperation - a deploy over the per-request limit needs approval', () => {
    expect(massOperationCheck.run(gateInput(deployRequest({ count: 11 })))).toEqual({
      outcome: 'approval',
      reason: 'mass-operation brake: deploy touches 11 VMs, more than the limit of 10 per request',
    });
  });

  it('massOperation - onExceed deny denies instead', () => {
    const world = makeWorld();
    world.config.massOperation.onExceed = 'deny';
    expect(massOperationCheck.run(gateInput(deployRequest({ count: 11 }), world)).outcome).toBe('deny');
  });

  it('massOperation - a destroy under the destructive limit passes', () => {
    const world = makeWorld();
    world.recentDestructive = [minutesAgo(1), minutesAgo(2)];
    expect(massOperationCheck.run(gateInput(vmRequest('destroy', 101), world))).toEqual({
      outcome: 'pass',
      reason:
        'destroy touches 1 VM (limit 10 per request); 2 earlier destructive operations in the last 600 s (limit 3)',
    });
  });

  it('massOperation - a destroy at the destructive limit needs approval naming the numbers and window', () => {
    const world = makeWorld();
    world.recentDestructive = [minutesAgo(1), minutesAgo(5), minutesAgo(9)];
    expect(massOperationCheck.run(gateInput(vmRequest('destroy', 101), world))).toEqual({
      outcome: 'approval',
      reason: 'mass-operation brake: 3 destructive operations already in the last 600 s (limit 3 per 600 s)',
    });
  });

  it('massOperation - destroys outside the window do not count', () => {
    const world = makeWorld();
    // exactly 600 s ago is outside (now - window, now]; a future timestamp is not counted either
    world.recentDestructive = [minutesAgo(10), minutesAgo(30), minutesAgo(1), NOW + 1000];
    expect(massOperationCheck.run(gateInput(vmRequest('destroy', 101), world)).outcome).toBe('pass');
  });

  it('massOperation - the destructive window does not brake non-destructive actions', () => {
    const world = makeWorld();
    world.recentDestructive = [minutesAgo(1), minutesAgo(2), minutesAgo(3), minutesAgo(4)];
    expect(massOperationCheck.run(gateInput(vmRequest('stop', 101), world)).outcome).toBe('pass');
  });
});
