import { describe, expect, it } from 'vitest';
import { capacityCheck } from '../../machines/gate';
import { deployRequest, GiB, gateInput, makeWorld, patchHost, patchVm, vmRequest } from './fixtures';

describe('capacity check', () => {
  it('capacity - a VM action passes as not a deploy', () => {
    expect(capacityCheck.run(gateInput(vmRequest('start', 101)))).toEqual({
      outcome: 'pass',
      reason: 'not a deploy: start needs no new capacity',
    });
  });

  it('capacity - a deploy that fits passes naming the node and numbers in GiB', () => {
    expect(capacityCheck.run(gateInput(deployRequest({ count: 2 })))).toEqual({
      outcome: 'pass',
      reason:
        'node pve1 fits 2 × (4.0 GiB memory, 32.0 GiB storage): 83.2 GiB memory and 1300.0 GiB storage free after reserve, CPU load 20%',
    });
  });

  it('capacity - a deploy over the count limit is denied', () => {
    expect(capacityCheck.run(gateInput(deployRequest({ count: 11 })))).toEqual({
      outcome: 'deny',
      reason: 'deploy of 11 VMs exceeds the limit of 10 per request',
    });
  });

  it('capacity - a deploy that would overfill the cluster is denied', () => {
    const world = makeWorld();
    world.config.deploy.maxVmsPerCluster = 6;
    expect(capacityCheck.run(gateInput(deployRequest({ count: 1 }), world)).outcome).toBe('pass');
    expect(capacityCheck.run(gateInput(deployRequest({ count: 2 }), world))).toEqual({
      outcome: 'deny',
      reason: 'cluster lab holds 5 VMs: 2 more exceeds the limit of 6',
    });
  });

  it('capacity - a node short of memory after its reserve is denied', () => {
    const world = makeWorld();
    patchHost(world, 'pve1', { mem: 110 * GiB });
    expect(capacityCheck.run(gateInput(deployRequest({ count: 2 }), world))).toEqual({
      outcome: 'deny',
      reason: 'node pve1 has 5.2 GiB memory free after its 10% reserve, but 2 × 4.0 GiB needs 8.0 GiB',
    });
  });

  it('capacity - memory exactly enough after the reserve passes', () => {
    const world = makeWorld();
    world.config.capacity.memReserveFraction = 0.25;
    // 128 GiB - 32 GiB reserve - 88 GiB used = 8 GiB free for 2 × 4 GiB
    patchHost(world, 'pve1', { mem: 88 * GiB });
    expect(capacityCheck.run(gateInput(deployRequest({ count: 2 }), world)).outcome).toBe('pass');
  });

  it('capacity - a node short of storage after its reserve is denied', () => {
    const world = makeWorld();
    patchHost(world, 'pve1', { disk: 1750 * GiB });
    expect(capacityCheck.run(gateInput(deployRequest({ count: 2 }), world))).toEqual({
      outcome: 'deny',
      reason: 'node pve1 has 50.0 GiB storage free after its 10% reserve, but 2 × 32.0 GiB needs 64.0 GiB',
    });
  });

  it('capacity - a node over the CPU limit is denied', () => {
    const world = makeWorld();
    patchHost(world, 'pve1', { cpu: 0.95 });
    expect(capacityCheck.run(gateInput(deployRequest(), world))).toEqual({
      outcome: 'deny',
      reason: 'node pve1 CPU load 95% is above the limit of 90%',
    });
  });

  it('capacity - every shortage is named in one reason', () => {
    const world = makeWorld();
    patchHost(world, 'pve1', { mem: 127 * GiB, disk: 2000 * GiB, cpu: 1 });
    expect(capacityCheck.run(gateInput(deployRequest(), world))).toEqual({
      outcome: 'deny',
      reason:
        'node pve1 has 0.0 GiB memory free after its 10% reserve, but 1 × 4.0 GiB needs 4.0 GiB; ' +
        'node pve1 has 0.0 GiB storage free after its 10% reserve, but 1 × 32.0 GiB needs 32.0 GiB; ' +
        'node pve1 CPU load 100% is above the limit of 90%',
    });
  });

  it('capacity - a node missing from the inventory is denied', () => {
    expect(capacityCheck.run(gateInput(deployRequest({ node: 'pve9' })))).toEqual({
      outcome: 'deny',
      reason: 'cannot measure capacity: node pve9 is not in the inventory',
    });
  });
});

describe('capacity check: migrate', () => {
  const migrate = (params: Record<string, unknown>) => vmRequest('migrate', 101, { params });

  it('gate - a migrate passes when the destination has the guest memory free after the reserve', () => {
    expect(capacityCheck.run(gateInput(migrate({ target: 'pve2' })))).toEqual({
      outcome: 'pass',
      reason: 'node pve2 has 83.2 GiB memory free after reserve for the 4.0 GiB of VM lab/101 (web)',
    });
  });

  it('gate - a migrate to a node without the memory free is denied with the numbers', () => {
    const world = makeWorld();
    patchHost(world, 'pve2', { mem: 112 * GiB });
    expect(capacityCheck.run(gateInput(migrate({ target: 'pve2' }), world))).toEqual({
      outcome: 'deny',
      reason: 'node pve2 has 3.2 GiB memory free after its 10% reserve, but VM lab/101 (web) needs 4.0 GiB',
    });
  });

  it('gate - with local disks the destination also needs the storage; without, storage is not asked', () => {
    const world = makeWorld();
    patchHost(world, 'pve2', { disk: 1780 * GiB });
    patchVm(world, 101, { maxdisk: 32 * GiB });
    expect(capacityCheck.run(gateInput(migrate({ target: 'pve2' }), world)).outcome).toBe('pass');
    expect(capacityCheck.run(gateInput(migrate({ target: 'pve2', withLocalDisks: true }), world))).toEqual({
      outcome: 'deny',
      reason:
        'node pve2 has 20.0 GiB storage free after its 10% reserve, but the local disks of VM lab/101 (web) need 32.0 GiB',
    });
    expect(capacityCheck.run(gateInput(migrate({ target: 'pve3', withLocalDisks: true }), world))).toEqual({
      outcome: 'pass',
      reason:
        'node pve3 has 83.2 GiB memory free after reserve for the 4.0 GiB of VM lab/101 (web) and 1300.0 GiB storage for its 32.0 GiB of disks',
    });
  });

  it('gate - a migrate to a node not in the inventory cannot be measured', () => {
    expect(capacityCheck.run(gateInput(migrate({ target: 'pve9' })))).toEqual({
      outcome: 'deny',
      reason: 'cannot measure capacity: node pve9 is not in the inventory',
    });
  });
});
