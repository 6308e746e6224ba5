import { describe, expect, it } from 'vitest';
import { HA_CONTROLLED_ACTIONS, haCheck } from '../../machines/gate';
import { deployRequest, gateInput, makeWorld, vmRequest } from './fixtures';

describe('ha check', () => {
  it('ha - a VM not managed by HA passes', () => {
    expect(haCheck.run(gateInput(vmRequest('stop', 101)))).toEqual({
      outcome: 'pass',
      reason: 'VM lab/101 (web) is not managed by Proxmox HA',
    });
  });

  it('ha - stopping an HA-managed VM is denied by default', () => {
    expect(haCheck.run(gateInput(vmRequest('stop', 105)))).toEqual({
      outcome: 'deny',
      reason: 'VM lab/105 (db) is managed by Proxmox HA: change its HA state instead',
    });
  });

  it('ha - every power action on an HA-managed VM is braked', () => {
    expect([...HA_CONTROLLED_ACTIONS].sort()).toEqual(
      ['destroy', 'reboot', 'resume', 'shutdown', 'start', 'stop', 'suspend'].sort(),
    );
    for (const action of HA_CONTROLLED_ACTIONS) {
      expect(haCheck.run(gateInput(vmRequest(action, 105))).outcome).toBe('deny');
    }
  });

  it('ha - with ha set to approval it needs approval', () => {
    const world = makeWorld();
    world.config.ha = 'approval';
    expect(haCheck.run(gateInput(vmRequest('reboot', 105), world))).toEqual({
      outcome: 'approval',
      reason: 'VM lab/105 (db) is managed by Proxmox HA: change its HA state instead',
    });
  });

  it('ha - a snapshot of an HA-managed VM passes', () => {
    expect(haCheck.run(gateInput(vmRequest('snapshot', 105, { params: { snapname: 'nightly' } })))).toEqual({
      outcome: 'pass',
      reason: 'VM lab/105 (db) is managed by Proxmox HA, but snapshot leaves its HA state alone',
    });
  });

  it('ha - a deploy passes', () => {
    expect(haCheck.run(gateInput(deployRequest()))).toEqual({
      outcome: 'pass',
      reason: 'deploy touches no HA-managed VM',
    });
  });
});

describe('ha check: moves', () => {
  it('gate - migrating an HA-managed guest passes: it moves through the HA manager', () => {
    expect(haCheck.run(gateInput(vmRequest('migrate', 105, { params: { target: 'pve1' } })))).toEqual({
      outcome: 'pass',
      reason: 'VM lab/105 (db) is managed by Proxmox HA: migrate moves it through the HA manager',
    });
  });

  it('gate - the power actions of an HA-managed guest are unchanged, and a rollback leaves its HA state alone', () => {
    expect(haCheck.run(gateInput(vmRequest('stop', 105))).outcome).toBe('deny');
    expect(haCheck.run(gateInput(vmRequest('rollback', 105, { params: { snapname: 'before' } })))).toEqual({
      outcome: 'pass',
      reason: 'VM lab/105 (db) is managed by Proxmox HA, but rollback leaves its HA state alone',
    });
  });
});
