import { describe, expect, it } from 'vitest';
import { createDefaultGateConfig, isProductionVm, productionCheck } from '../../machines/gate';
import { deployRequest, gateInput, makeVm, makeWorld, nodeRequest, vmRequest } from './fixtures';

describe('production check', () => {
  it('production - isProductionVm is true for a production tag', () => {
    expect(isProductionVm(makeVm(114, { tags: ['games', 'production'] }), createDefaultGateConfig())).toBe(true);
  });

  it('production - isProductionVm is true for a VM listed by cluster/vmid', () => {
    const config = createDefaultGateConfig();
    config.production.vms = ['lab/101'];
    expect(isProductionVm(makeVm(101), config)).toBe(true);
    expect(isProductionVm(makeVm(101, { cluster: 'other' }), config)).toBe(false);
  });

  it('production - isProductionVm is false without tag or listing', () => {
    expect(isProductionVm(makeVm(101, { tags: ['prod'] }), createDefaultGateConfig())).toBe(false);
  });

  it('production - a non-production VM passes', () => {
    expect(productionCheck.run(gateInput(vmRequest('destroy', 101)))).toEqual({
      outcome: 'pass',
      reason: 'VM lab/101 (web) is not production',
    });
  });

  it('production - destroy without force is denied with the reason', () => {
    expect(productionCheck.run(gateInput(vmRequest('destroy', 114)))).toEqual({
      outcome: 'deny',
      reason: 'VM lab/114 (minecraft) is production: destroy needs force',
    });
  });

  it('production - every disruptive action without force is denied', () => {
    for (const action of ['stop', 'shutdown', 'reboot', 'suspend'] as const) {
      expect(productionCheck.run(gateInput(vmRequest(action, 114)))).toEqual({
        outcome: 'deny',
        reason: `VM lab/114 (minecraft) is production: ${action} needs force`,
      });
    }
  });

  it('production - forced destroy needs a second approval', () => {
    expect(productionCheck.run(gateInput(vmRequest('destroy', 114, { force: true })))).toEqual({
      outcome: 'approval',
      reason: "VM lab/114 (minecraft) is production: forced destroy needs a second person's approval",
    });
  });

  it('production - forced destroy passes when no second approval is configured', () => {
    const world = makeWorld();
    world.config.production.requireApproval = false;
    expect(productionCheck.run(gateInput(vmRequest('destroy', 114, { force: true }), world))).toEqual({
      outcome: 'pass',
      reason: 'VM lab/114 (minecraft) is production: forced destroy allowed (no second approval configured)',
    });
  });

  it('production - a non-disruptive action on a production VM passes', () => {
    expect(productionCheck.run(gateInput(vmRequest('snapshot', 114, { params: { snapname: 'nightly' } })))).toEqual({
      outcome: 'pass',
      reason: 'VM lab/114 (minecraft) is production, but snapshot does not disrupt it',
    });
  });

  it('production - a VM listed in the config is protected', () => {
    const world = makeWorld();
    world.config.production.vms = ['lab/101'];
    expect(productionCheck.run(gateInput(vmRequest('reboot', 101), world)).reason).toBe(
      'VM lab/101 (web) is production: reboot needs force',
    );
  });

  it('production - a deploy passes', () => {
    expect(productionCheck.run(gateInput(deployRequest()))).toEqual({
      outcome: 'pass',
      reason: 'deploy touches no existing VM',
    });
  });
});

describe('production check: moves and rollback', () => {
  const migrate = (patch = {}) => vmRequest('migrate', 114, { params: { target: 'pve1' }, ...patch });

  it('gate - moving a production guest needs a second person, not force', () => {
    const expected = {
      outcome: 'approval',
      reason: "VM lab/114 (minecraft) is production: migrate needs a second person's approval",
    };
    expect(productionCheck.run(gateInput(migrate()))).toEqual(expected);
    expect(productionCheck.run(gateInput(migrate({ force: true })))).toEqual(expected);
  });

  it('gate - without requireApproval a production move passes', () => {
    const world = makeWorld();
    world.config.production.requireApproval = false;
    expect(productionCheck.run(gateInput(migrate(), world))).toEqual({
      outcome: 'pass',
      reason: 'VM lab/114 (minecraft) is production: migrate allowed (no second approval configured)',
    });
  });

  it('gate - a rollback is disruptive: production needs force, then approval', () => {
    const rollback = (force: boolean) => vmRequest('rollback', 114, { params: { snapname: 'before' }, force });
    expect(productionCheck.run(gateInput(rollback(false)))).toEqual({
      outcome: 'deny',
      reason: 'VM lab/114 (minecraft) is production: rollback needs force',
    });
    expect(productionCheck.run(gateInput(rollback(true)))).toEqual({
      outcome: 'approval',
      reason: "VM lab/114 (minecraft) is production: forced rollback needs a second person's approval",
    });
  });

  it('gate - a delsnapshot does not disrupt a production guest; a node action touches none', () => {
    expect(productionCheck.run(gateInput(vmRequest('delsnapshot', 114, { params: { snapname: 'old' } })))).toEqual({
      outcome: 'pass',
      reason: 'VM lab/114 (minecraft) is production, but delsnapshot does not disrupt it',
    });
    expect(productionCheck.run(gateInput(nodeRequest('undrain', 'pve3'))).outcome).toBe('pass');
  });
});
