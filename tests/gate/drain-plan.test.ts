// The drain plan: each guest of the drained node goes to another online node out of maintenance, by free memory after
// the reserve, counting the plan's earlier placements; running guests move online, stopped ones offline, templates
// stay; a guest that fits nowhere, an unknown or offline node, or a node with nothing to move, fail with one sentence.
import { describe, expect, it } from 'vitest';
import type { DrainPlanning } from '../../machines/gate';
import { describeDrainPlan, drainMembers, planDrain } from '../../machines/gate';
import type { MaintenanceWindow } from '../../machines/maintenance';
import type { World } from './fixtures';
import { addVms, GiB, gateInput, makeVm, makeWorld, NOW, nodeRequest, patchHost } from './fixtures';

const plan = (world: World, node: string, maintenance: MaintenanceWindow[] = []): DrainPlanning =>
  planDrain({ ...gateInput(nodeRequest('drain', node), world), maintenance }, node);

function planned(world: World, node: string, maintenance: MaintenanceWindow[] = []) {
  const result = plan(world, node, maintenance);
  if (!result.ok) throw new Error(result.reason);
  return result.plan;
}

/** pve1 holds 101 (web, running, 4 GiB), 106 (big, running, 16 GiB), 107 (cold, stopped, 8 GiB) and template 9000. */
function drainWorld(): World {
  const world = makeWorld();
  addVms(
    world,
    makeVm(106, { name: 'big', maxmem: 16 * GiB }),
    makeVm(107, { name: 'cold', status: 'stopped', maxmem: 8 * GiB }),
  );
  // After the 10% reserve: pve2 has 20 GiB free, pve3 18 GiB.
  patchHost(world, 'pve2', { mem: 95.2 * GiB });
  patchHost(world, 'pve3', { mem: 97.2 * GiB });
  return world;
}

describe('drain plan', () => {
  it('gate - guests are placed largest first on the node with the most memory free, counting earlier placements', () => {
    const result = planned(drainWorld(), 'pve1');
    expect(result.moves.map((m) => [m.vm.vmid, m.target, m.online])).toEqual([
      // 106 (16 GiB) first, to pve2 (20 free, 4 left); 107 (8) to pve3 (18, 10 left); 101 (4) to pve3 again.
      [101, 'pve3', true],
      [106, 'pve2', true],
      [107, 'pve3', false],
    ]);
    expect(result.stays.map((t) => t.vmid)).toEqual([9000]);
  });

  it('gate - running guests migrate online (VMs with their local disks), stopped ones offline; templates stay, and the plan says so', () => {
    const result = planned(drainWorld(), 'pve1');
    expect(drainMembers(result)).toEqual([
      { vmid: 101, action: 'migrate', params: { target: 'pve3', online: true, withLocalDisks: true } },
      { vmid: 106, action: 'migrate', params: { target: 'pve2', online: true, withLocalDisks: true } },
      { vmid: 107, action: 'migrate', params: { target: 'pve3' } },
    ]);
    expect(describeDrainPlan(result)).toBe(
      '101 (web) to pve3 online, 106 (big) to pve2 online, 107 (cold) to pve3 offline; ' +
        'template 9000 (debian-12-tpl) stays on pve1',
    );
  });

  it('gate - a guest that fits nowhere fails the plan, naming it and the roomiest node', () => {
    const world = drainWorld();
    addVms(world, makeVm(108, { name: 'huge', maxmem: 24 * GiB }));
    expect(plan(world, 'pve1')).toEqual({
      ok: false,
      reason:
        'VM lab/108 (huge) needs 24.0 GiB memory, but no other online node of cluster lab out of maintenance has ' +
        "that much free after its 10% reserve and the plan's earlier moves (most: pve2, 20.0 GiB)",
    });
    const crowded = drainWorld();
    addVms(crowded, makeVm(108, { name: 'mid', maxmem: 12 * GiB }));
    // 106 (16) → pve2 (4 left), 108 (12) → pve3 (6 left), 107 (8) fits nowhere any more.
    expect(plan(crowded, 'pve1')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^VM lab\/107 \(cold\) needs 8\.0 GiB memory.*\(most: pve3, 6\.0 GiB\)$/),
    });
  });

  it('gate - nodes offline or in maintenance take nothing', () => {
    const world = drainWorld();
    patchHost(world, 'pve2', { status: 'offline' });
    const window: MaintenanceWindow = {
      id: 'm1',
      scope: 'node',
      target: 'lab/pve3',
      from: NOW - 1,
      until: NOW + 1,
      reason: 'firmware',
      by: 'olga',
    };
    expect(plan(world, 'pve1', [window])).toEqual({
      ok: false,
      reason: 'no other node of cluster lab is online and out of maintenance: the guests of pve1 have nowhere to go',
    });
    patchHost(world, 'pve2', { status: 'online', mem: 32 * GiB });
    expect(planned(world, 'pve1', [window]).moves.every((m) => m.target === 'pve2')).toBe(true);
  });

  it('gate - an unknown node, a node not online, or a node with no guest to move fail with one sentence', () => {
    const world = drainWorld();
    expect(plan(world, 'pve9')).toEqual({ ok: false, reason: 'node pve9 does not exist in cluster lab' });
    patchHost(world, 'pve3', { status: 'offline' });
    expect(plan(world, 'pve3')).toEqual({
      ok: false,
      reason: 'node lab/pve3 is offline: its guests cannot be migrated away',
    });
    patchHost(world, 'pve3', { status: 'unknown' });
    expect(plan(world, 'pve3')).toEqual({
      ok: false,
      reason: 'node lab/pve3 is in an unknown state: its guests cannot be migrated away',
    });
    addVms(world, makeVm(9001, { name: 'alpine-tpl', template: true, node: 'pve4' }));
    patchHost(world, 'pve4', {});
    expect(plan(world, 'pve4')).toEqual({
      ok: false,
      reason: 'node lab/pve4 has no guest to move (its template 9001 (alpine-tpl) stays)',
    });
  });
});
