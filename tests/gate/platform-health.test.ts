import { describe, expect, it } from 'vitest';
import { platformHealthCheck } from '../../machines/gate';
import { deployRequest, gateInput, makeWorld, patchCluster, patchHost, vmRequest } from './fixtures';

describe('platformHealth check', () => {
  it('platformHealth - a quorate cluster with the VM node online passes', () => {
    expect(platformHealthCheck.run(gateInput(vmRequest('stop', 102)))).toEqual({
      outcome: 'pass',
      reason: 'cluster lab is quorate and node pve2 is online',
    });
  });

  it('platformHealth - a cluster without quorum is denied', () => {
    const world = makeWorld();
    patchCluster(world, { quorate: false });
    expect(platformHealthCheck.run(gateInput(vmRequest('stop', 101), world))).toEqual({
      outcome: 'deny',
      reason: 'cluster lab has lost quorum: no mutating operation',
    });
  });

  it("platformHealth - the VM's node offline is denied", () => {
    const world = makeWorld();
    patchHost(world, 'pve2', { status: 'offline' });
    expect(platformHealthCheck.run(gateInput(vmRequest('start', 102), world))).toEqual({
      outcome: 'deny',
      reason: 'node pve2 is offline',
    });
  });

  it("platformHealth - the VM's node in an unknown state is denied", () => {
    const world = makeWorld();
    patchHost(world, 'pve2', { status: 'unknown' });
    expect(platformHealthCheck.run(gateInput(vmRequest('start', 102), world))).toEqual({
      outcome: 'deny',
      reason: 'node pve2 is in an unknown state',
    });
  });

  it('platformHealth - another node offline does not matter', () => {
    const world = makeWorld();
    patchHost(world, 'pve3', { status: 'offline' });
    expect(platformHealthCheck.run(gateInput(vmRequest('start', 102), world)).outcome).toBe('pass');
  });

  it('platformHealth - a deploy checks its target node', () => {
    const world = makeWorld();
    patchHost(world, 'pve3', { status: 'offline' });
    expect(platformHealthCheck.run(gateInput(deployRequest({ node: 'pve1' }), world)).reason).toBe(
      'cluster lab is quorate and node pve1 is online',
    );
    expect(platformHealthCheck.run(gateInput(deployRequest({ node: 'pve3' }), world))).toEqual({
      outcome: 'deny',
      reason: 'node pve3 is offline',
    });
  });

  it('platformHealth - a node missing from the inventory is denied', () => {
    const world = makeWorld();
    world.hosts.delete('lab/pve2');
    expect(platformHealthCheck.run(gateInput(vmRequest('start', 102), world))).toEqual({
      outcome: 'deny',
      reason: 'node pve2 is not in the inventory of cluster lab',
    });
  });
});
