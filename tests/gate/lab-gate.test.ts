// The lab's own gate decision: plans made by the real lab functions (validateLab + planLab / planDestroy) on the demo
// cluster's inventory, judged against a live world built from the same inventory.
import { describe, expect, it } from 'vitest';
import type { LabDecisionInput, LabGateCheck } from '../../machines/gate';
import { createDefaultGateConfig, evaluateLabGate, labGateChecks, SKIPPED_REASON } from '../../machines/gate';
import { type LabActual, type LabPlan, planDestroy, planLab } from '../../machines/lab';
import type { MaintenanceWindow } from '../../machines/maintenance';
import type { ClusterInfo, HostInfo, Requester, VmInfo } from '../../machines/types';
import { hostKey, OVERSEER_IDENTITY, vmKey } from '../../machines/types';
import { appliedAs, demoInventory, resolvedOf } from '../labs/helpers';
import { CLUSTER, GiB, makeHost, makeVm, NOW } from './fixtures';

const MiB = 1024 ** 2;

/** gw on pve1 (1 GiB); app-1 and app-2 on pve2 (2 GiB each), after gw. */
const LAB = `
name: gl
cluster: lab
vms:
  - { name: gw, template: debian-12-template, node: pve1, memory: 1G }
  - { name: app, template: 9000, node: pve2, memory: 2G, count: 2, dependsOn: [gw] }
`;

const OPERATOR: Requester = { id: 'olga', role: 'operator', name: 'Olga' };
const ADMIN: Requester = { id: 'ada', role: 'admin', name: 'Ada' };

const ORDER = [
  'labPlan',
  'authorization',
  'target',
  'maintenance',
  'production',
  'massOperation',
  'capacity',
  'platformHealth',
];

interface LabWorld {
  vms: Map<string, VmInfo>;
  hosts: Map<string, HostInfo>;
  clusters: Map<string, ClusterInfo>;
}

/** The demo cluster as the gate sees it (each node 64 GiB, 8 GiB in use), with the applied lab's guests running. */
function labWorld(actual?: LabActual): LabWorld {
  const guests = demoInventory().guests.map((g) =>
    makeVm(g.vmid, {
      name: g.name,
      node: g.node,
      template: g.template,
      status: g.status ?? 'stopped',
      maxmem: g.maxmem,
      maxdisk: g.maxdisk,
    }),
  );
  for (const m of actual?.members ?? []) {
    if (m.status === 'missing') continue;
    const memory = (m.config.memory ?? 2048) * MiB;
    guests.push(makeVm(m.vmid, { name: `${actual?.name}-${m.name}`, node: m.node, status: m.status, maxmem: memory }));
  }
  const hosts = ['pve1', 'pve2', 'pve3'].map((node) => makeHost(node, { maxmem: 64 * GiB, mem: 8 * GiB }));
  return {
    vms: new Map(guests.map((vm) => [vmKey(CLUSTER, vm.vmid), vm])),
    hosts: new Map(hosts.map((h) => [hostKey(CLUSTER, h.node), h])),
    clusters: new Map([[CLUSTER, { cluster: CLUSTER, reachable: true, quorate: true }]]),
  };
}

function gateInput(
  plan: LabPlan,
  world: LabWorld = labWorld(),
  patch: Partial<LabDecisionInput> = {},
): LabDecisionInput {
  return {
    plan,
    requester: OPERATOR,
    force: false,
    now: NOW,
    config: createDefaultGateConfig(),
    vms: world.vms,
    hosts: world.hosts,
    clusters: world.clusters,
    recentDestructive: [],
    maintenance: [],
    ...patch,
  };
}

const check = (input: LabDecisionInput, name: string) => evaluateLabGate(input).checks.find((c) => c.check === name);

/** The first apply of LAB: the pool and three members to create. */
const firstPlan = (text = LAB) => planLab(resolvedOf(text));

/** LAB applied (gw 500, app-1 501, app-2 502, all running), then `edit` applied to its file. */
function edited(edit: (text: string) => string, change: (a: LabActual) => LabActual = (a) => a) {
  const actual = change(appliedAs(resolvedOf(LAB), 500));
  return { actual, plan: planLab(resolvedOf(edit(LAB), undefined, actual), actual) };
}

const withProduction = (world: LabWorld, vmid: number): LabWorld => {
  const vm = world.vms.get(vmKey(CLUSTER, vmid))!;
  world.vms.set(vmKey(CLUSTER, vmid), { ...vm, tags: ['production'] });
  return world;
};

const window = (patch: Partial<MaintenanceWindow>): MaintenanceWindow => ({
  id: 'm1',
  scope: 'node',
  target: 'lab/pve2',
  from: NOW - 60_000,
  until: NOW + 3_600_000,
  reason: 'disk swap',
  by: 'olga',
  ...patch,
});

describe('gate - lab decision', () => {
  it('gate - lab a first apply on a healthy cluster is approved, its checks in the fixed order with sentences', () => {
    const result = evaluateLabGate(gateInput(firstPlan()));
    expect(result.decision).toBe('approved');
    expect(result.reasons).toEqual([]);
    expect(result.checks.map((c) => c.check)).toEqual(ORDER);
    expect(labGateChecks.map((c) => c.name)).toEqual(ORDER);
    expect(result.checks).toEqual([
      {
        check: 'labPlan',
        outcome: 'pass',
        reason: "the plan of lab 'gl': 4 to create, 0 to change, 0 to replace, 0 to start, 0 to remove",
      },
      { check: 'authorization', outcome: 'pass', reason: "role operator may apply lab 'gl' (needs operator)" },
      {
        check: 'target',
        outcome: 'pass',
        reason: 'cluster lab is reachable; template lab/9000 (debian-12-template) exists',
      },
      {
        check: 'maintenance',
        outcome: 'pass',
        reason: "none of the 2 nodes lab 'gl' touches is in maintenance",
      },
      { check: 'production', outcome: 'pass', reason: "lab 'gl' removes, replaces or restarts no production guest" },
      { check: 'massOperation', outcome: 'pass', reason: "lab 'gl' touches 3 guests (limit 10 per request)" },
      {
        check: 'capacity',
        outcome: 'pass',
        reason:
          'node pve1 fits gw (1.0 GiB): 49.6 GiB memory free after reserve, CPU load 20%; ' +
          'node pve2 fits app-1 (2.0 GiB), app-2 (2.0 GiB): 49.6 GiB memory free after reserve, CPU load 20%',
      },
      { check: 'platformHealth', outcome: 'pass', reason: 'cluster lab is quorate and nodes pve1, pve2 are online' },
    ]);
  });

  it('gate - lab the same file applied again is nothing_to_do', () => {
    const { plan } = edited((t) => t);
    expect(plan.items).toEqual([]);
    const result = evaluateLabGate(gateInput(plan));
    expect(result.decision).toBe('nothing_to_do');
    expect(result.reasons).toEqual(["lab 'gl': no changes, the cluster matches the file"]);
    expect(result.checks.map((c) => c.outcome)).toEqual(ORDER.map(() => 'pass'));
  });

  it('gate - lab an empty plan asked by an observer is still denied', () => {
    const { plan } = edited((t) => t);
    const result = evaluateLabGate(gateInput(plan, labWorld(), { requester: { id: 'otto', role: 'observer' } }));
    expect(result.decision).toBe('denied');
    expect(result.reasons).toEqual(["role observer may not apply lab 'gl' (needs operator)"]);
  });

  it('gate - lab a check that throws denies, naming itself', () => {
    const broken: LabGateCheck = {
      name: 'broken',
      run: () => {
        throw new Error('boom');
      },
    };
    const result = evaluateLabGate(gateInput(firstPlan()), [broken, ...labGateChecks]);
    expect(result.decision).toBe('denied');
    expect(result.reasons).toEqual(['check broken failed: boom']);
    expect(result.checks.slice(1).every((c) => c.outcome === 'skipped')).toBe(true);
  });
});

describe('gate - lab labPlan check', () => {
  it('gate - lab a plan with issues is denied listing them, and every later check is skipped', () => {
    const { plan } = edited(
      (t) => t,
      (a) => ({ ...a, pool: 'other' }),
    );
    expect(plan.issues.length).toBe(1);
    const result = evaluateLabGate(gateInput(plan));
    expect(result.decision).toBe('denied');
    expect(result.reasons).toEqual([
      "the plan of lab 'gl' has 1 problem nothing may be applied with: pool: the lab's pool is 'other': a lab's pool cannot be renamed",
    ]);
    expect(result.checks.slice(1)).toEqual(
      ORDER.slice(1).map((name) => ({ check: name, outcome: 'skipped', reason: SKIPPED_REASON })),
    );
  });
});

describe('gate - lab authorization check', () => {
  it('gate - lab an observer may not apply a lab', () => {
    expect(
      check(gateInput(firstPlan(), labWorld(), { requester: { id: 'o', role: 'observer' } }), 'authorization'),
    ).toMatchObject({ outcome: 'deny', reason: "role observer may not apply lab 'gl' (needs operator)" });
  });

  it('gate - lab an unknown role is denied', () => {
    const input = gateInput(firstPlan(), labWorld(), { requester: { id: 'x', role: 'root' as never } });
    expect(check(input, 'authorization')).toMatchObject({
      outcome: 'deny',
      reason: 'unknown role "root" may not apply lab \'gl\' (needs operator)',
    });
  });

  it('gate - lab removing a member needs what destroy needs: an operator is denied, an admin passes', () => {
    const { plan, actual } = edited((t) => t.replace('count: 2', 'count: 1'));
    expect(plan.items.map((i) => i.op)).toEqual(['remove', 'change']);
    expect(check(gateInput(plan, labWorld(actual)), 'authorization')).toMatchObject({
      outcome: 'deny',
      reason: "role operator may not apply lab 'gl': removing app-2 (VM lab/502) needs admin (as destroy does)",
    });
    expect(check(gateInput(plan, labWorld(actual), { requester: ADMIN }), 'authorization')).toMatchObject({
      outcome: 'pass',
      reason: "role admin may apply lab 'gl' (needs admin: removing app-2 (VM lab/502) needs admin (as destroy does))",
    });
  });

  it('gate - lab an edit that only removes members is still an apply', () => {
    const { plan, actual } = edited((t) => t.replace(/ {2}- \{ name: app.*\n/, ''));
    expect(plan.items.map((i) => i.op)).toEqual(['remove', 'remove']);
    expect(check(gateInput(plan, labWorld(actual)), 'authorization')?.reason).toBe(
      "role operator may not apply lab 'gl': removing app-2 (VM lab/502), app-1 (VM lab/501) needs admin (as destroy does)",
    );
  });

  it('gate - lab replacing a member needs what destroy needs too', () => {
    const { plan, actual } = edited((t) => t.replace('node: pve1, memory: 1G', 'node: pve1, memory: 1G, clone: full'));
    expect(plan.items.map((i) => i.op)).toEqual(['replace']);
    expect(check(gateInput(plan, labWorld(actual)), 'authorization')).toMatchObject({
      outcome: 'deny',
      reason: "role operator may not apply lab 'gl': replacing gw (VM lab/500) needs admin (as destroy does)",
    });
  });

  it('gate - lab destroying a lab with members is denied to an operator and named a destroy', () => {
    const actual = appliedAs(resolvedOf(LAB), 500);
    expect(check(gateInput(planDestroy(actual), labWorld(actual)), 'authorization')).toMatchObject({
      outcome: 'deny',
      reason:
        "role operator may not destroy lab 'gl': removing app-2 (VM lab/502), app-1 (VM lab/501), gw (VM lab/500) " +
        'needs admin (as destroy does)',
    });
  });
});

describe('gate - lab target check', () => {
  it('gate - lab an unknown or unreachable cluster is denied', () => {
    const world = labWorld();
    world.clusters.clear();
    expect(check(gateInput(firstPlan(), world), 'target')).toMatchObject({
      outcome: 'deny',
      reason: 'cluster lab is unknown',
    });
    world.clusters.set(CLUSTER, { cluster: CLUSTER, reachable: false, quorate: true });
    expect(check(gateInput(firstPlan(), world), 'target')).toMatchObject({
      outcome: 'deny',
      reason: 'cluster lab is unreachable (its last inventory read failed)',
    });
  });

  it('gate - lab a template that is gone or no longer a template is denied', () => {
    const world = labWorld();
    const template = world.vms.get(vmKey(CLUSTER, 9000))!;
    world.vms.delete(vmKey(CLUSTER, 9000));
    expect(check(gateInput(firstPlan(), world), 'target')).toMatchObject({
      outcome: 'deny',
      reason: "template lab/9000 ('debian-12-template') of gw, app-1, app-2 does not exist",
    });
    world.vms.set(vmKey(CLUSTER, 9000), { ...template, template: false });
    expect(check(gateInput(firstPlan(), world), 'target')).toMatchObject({
      outcome: 'deny',
      reason: 'VM lab/9000 (debian-12-template) is not a template: lab members clone templates only',
    });
  });
});

describe('gate - lab maintenance check', () => {
  it('gate - lab a node a member is placed on in maintenance needs approval from a person', () => {
    const input = gateInput(firstPlan(), labWorld(), { maintenance: [window({})] });
    const result = evaluateLabGate(input);
    expect(result.decision).toBe('awaiting_approval');
    expect(result.reasons).toEqual([
      'node lab/pve2 is in maintenance (node lab/pve2 until 2025-01-15T13:00:00Z, by olga: disk swap (m1)): ' +
        "acting on it needs a second person's approval",
    ]);
  });

  it('gate - lab the Overseer is denied where a person would be asked', () => {
    const input = gateInput(firstPlan(), labWorld(), { maintenance: [window({})], requester: OVERSEER_IDENTITY });
    expect(check(input, 'maintenance')).toMatchObject({
      outcome: 'deny',
      reason:
        'node lab/pve2 is in maintenance (node lab/pve2 until 2025-01-15T13:00:00Z, by olga: disk swap (m1)): ' +
        'Overseer leaves it alone',
    });
    const repair = gateInput(firstPlan(), labWorld(), { maintenance: [window({})], origin: 'overseer' });
    expect(check(repair, 'maintenance')?.outcome).toBe('deny');
  });

  it('gate - lab a guest the plan changes in maintenance needs approval; a window not in force does not', () => {
    const { plan, actual } = edited((t) => t.replace('memory: 2G', 'memory: 3G'));
    const guest = window({ scope: 'guest', target: 'lab/501' });
    expect(check(gateInput(plan, labWorld(actual), { maintenance: [guest] }), 'maintenance')).toMatchObject({
      outcome: 'approval',
      reason: expect.stringMatching(/^VM lab\/501 \(gl-app-1\) is in maintenance \(guest lab\/501 until/),
    });
    const later = window({ scope: 'guest', target: 'lab/501', from: NOW + 60_000 });
    expect(check(gateInput(plan, labWorld(actual), { maintenance: [later] }), 'maintenance')).toMatchObject({
      outcome: 'pass',
      reason: "none of the 1 node and 2 guests lab 'gl' touches is in maintenance",
    });
  });
});

describe('gate - lab production check', () => {
  const replaceGw = () => edited((t) => t.replace('node: pve1, memory: 1G', 'node: pve1, memory: 1G, clone: full'));

  it('gate - lab replacing a production guest without force is denied by the production rule', () => {
    const { plan, actual } = replaceGw();
    const result = evaluateLabGate(gateInput(plan, withProduction(labWorld(actual), 500), { requester: ADMIN }));
    expect(result.decision).toBe('denied');
    expect(result.reasons).toEqual(['gw (VM lab/500) is production: replace needs force']);
    expect(result.checks.map((c) => [c.check, c.outcome])).toEqual([
      ['labPlan', 'pass'],
      ['authorization', 'pass'],
      ['target', 'pass'],
      ['maintenance', 'pass'],
      ['production', 'deny'],
      ['massOperation', 'skipped'],
      ['capacity', 'skipped'],
      ['platformHealth', 'skipped'],
    ]);
  });

  it('gate - lab a forced replacement of a production guest needs approval, or passes when none is configured', () => {
    const { plan, actual } = replaceGw();
    const input = gateInput(plan, withProduction(labWorld(actual), 500), { requester: ADMIN, force: true });
    expect(evaluateLabGate(input)).toMatchObject({
      decision: 'awaiting_approval',
      reasons: ["gw (VM lab/500) is production: forced replace needs a second person's approval"],
    });
    input.config.production.requireApproval = false;
    expect(check(input, 'production')).toMatchObject({
      outcome: 'pass',
      reason: 'gw (VM lab/500) is production: forced replace allowed (no second approval configured)',
    });
  });

  it('gate - lab removing a guest listed in production.vms is denied; restarting production guests is denied', () => {
    const removal = edited((t) => t.replace('count: 2', 'count: 1'));
    const input = gateInput(removal.plan, labWorld(removal.actual), { requester: ADMIN });
    input.config.production.vms = ['lab/502'];
    expect(check(input, 'production')).toMatchObject({
      outcome: 'deny',
      reason: 'app-2 (VM lab/502) is production: remove needs force',
    });
    const restart = edited((t) => t.replace('memory: 2G', 'memory: 3G'));
    const world = withProduction(withProduction(labWorld(restart.actual), 501), 502);
    expect(check(gateInput(restart.plan, world), 'production')).toMatchObject({
      outcome: 'deny',
      reason:
        'app-1 (VM lab/501) is production: restart needs force; app-2 (VM lab/502) is production: restart needs force',
    });
  });

  it('gate - lab moving a production guest needs approval without force', () => {
    const { plan, actual } = edited((t) => t.replace('node: pve1', 'node: pve3'));
    expect(plan.items.map((i) => i.op)).toEqual(['change']);
    expect(check(gateInput(plan, withProduction(labWorld(actual), 500)), 'production')).toMatchObject({
      outcome: 'approval',
      reason: "gw (VM lab/500) is production: moving it to pve3 needs a second person's approval",
    });
  });

  it('gate - lab creating members with a production tag passes and says so', () => {
    const plan = firstPlan(LAB.replace('count: 2,', 'count: 2, tags: [production],'));
    expect(check(gateInput(plan), 'production')).toMatchObject({
      outcome: 'pass',
      reason: 'new members app-1, app-2 carry a production tag: they are production once created',
    });
  });
});

describe('gate - lab massOperation check', () => {
  const BIG = LAB.replace('count: 2', 'count: 11');

  it('gate - lab a lab of more members than the per-request limit is sent for approval by the mass brake', () => {
    const result = evaluateLabGate(gateInput(firstPlan(BIG)));
    expect(result.decision).toBe('awaiting_approval');
    const apps = Array.from({ length: 11 }, (_, i) => `app-${i + 1} (create)`).join(', ');
    expect(result.reasons).toEqual([
      `mass-operation brake: lab 'gl' touches 12 guests, more than the limit of 10 per request: gw (create), ${apps}`,
    ]);
    expect(result.checks.map((c) => c.outcome)).toEqual([
      'pass',
      'pass',
      'pass',
      'pass',
      'pass',
      'approval',
      'pass',
      'pass',
    ]);
  });

  it('gate - lab onExceed deny denies the lab instead', () => {
    const input = gateInput(firstPlan(BIG));
    input.config.massOperation.onExceed = 'deny';
    expect(evaluateLabGate(input).decision).toBe('denied');
  });

  it('gate - lab removals count as destructive operations in the window', () => {
    const actual = appliedAs(resolvedOf(LAB), 500);
    const input = gateInput(planDestroy(actual), labWorld(actual), {
      requester: ADMIN,
      recentDestructive: [NOW - 60_000, NOW - 20 * 60_000],
    });
    expect(check(input, 'massOperation')).toMatchObject({
      outcome: 'approval',
      reason:
        'mass-operation brake: 1 destructive operation already in the last 600 s and 3 more in this lab (limit 3 per 600 s): ' +
        'app-2 (remove, VM 502), app-1 (remove, VM 501), gw (remove, VM 500)',
    });
    input.recentDestructive = [];
    expect(check(input, 'massOperation')).toMatchObject({
      outcome: 'pass',
      reason:
        "lab 'gl' touches 3 guests (limit 10 per request); 0 destructive operations earlier in the last 600 s and 3 in this lab (limit 3)",
    });
  });

  it('gate - lab a member changed and started counts once; a record of a guest already gone counts none', () => {
    const { plan, actual } = edited(
      (t) => t.replace('memory: 2G', 'memory: 3G'),
      (a) => ({ ...a, members: a.members.map((m) => (m.vmid === 501 ? { ...m, status: 'stopped' as const } : m)) }),
    );
    expect(plan.items.map((i) => i.op)).toEqual(['change', 'start', 'change']);
    expect(check(gateInput(plan, labWorld(actual)), 'massOperation')?.reason).toBe(
      "lab 'gl' touches 2 guests (limit 10 per request)",
    );
    const gone = { ...actual, members: actual.members.map((m) => ({ ...m, status: 'missing' as const })) };
    const destroy = gateInput(planDestroy(gone), labWorld(), { requester: ADMIN });
    expect(check(destroy, 'massOperation')?.reason).toBe("lab 'gl' touches no guest");
  });
});

describe('gate - lab capacity check', () => {
  it('gate - lab members placed on one node are checked together against its free memory', () => {
    const world = labWorld();
    world.hosts.set(hostKey(CLUSTER, 'pve2'), makeHost('pve2', { maxmem: 64 * GiB, mem: 54 * GiB }));
    expect(check(gateInput(firstPlan(), world), 'capacity')).toMatchObject({
      outcome: 'deny',
      reason:
        "node pve2 has 3.6 GiB memory free after its 10% reserve, but lab 'gl' needs 4.0 GiB there: " +
        'app-1 (2.0 GiB), app-2 (2.0 GiB)',
    });
  });

  it('gate - lab a node above the CPU limit, or missing from the inventory, is denied', () => {
    const world = labWorld();
    world.hosts.set(hostKey(CLUSTER, 'pve1'), makeHost('pve1', { maxmem: 64 * GiB, mem: 8 * GiB, cpu: 0.95 }));
    world.hosts.delete(hostKey(CLUSTER, 'pve2'));
    expect(check(gateInput(firstPlan(), world), 'capacity')).toMatchObject({
      outcome: 'deny',
      reason:
        'node pve1 CPU load 95% is above the limit of 90%; cannot measure capacity: node pve2 is not in the inventory',
    });
  });

  it('gate - lab running members that grow need only the growth; a stopped one to start needs all of it', () => {
    const { plan, actual } = edited(
      (t) => t.replace('memory: 2G', 'memory: 3G'),
      (a) => ({ ...a, members: a.members.map((m) => (m.vmid === 502 ? { ...m, status: 'stopped' as const } : m)) }),
    );
    expect(check(gateInput(plan, labWorld(actual)), 'capacity')).toMatchObject({
      outcome: 'pass',
      reason: 'node pve2 fits app-1 (1.0 GiB), app-2 (3.0 GiB): 49.6 GiB memory free after reserve, CPU load 20%',
    });
  });

  it('gate - lab the cluster VM limit counts every member created', () => {
    const input = gateInput(firstPlan());
    input.config.deploy.maxVmsPerCluster = input.vms.size + 2;
    expect(check(input, 'capacity')).toMatchObject({
      outcome: 'deny',
      reason: `cluster lab holds ${input.vms.size} VMs: 3 more exceeds the limit of ${input.vms.size + 2}`,
    });
  });

  it('gate - lab a plan that adds no memory needs no capacity', () => {
    const { plan, actual } = edited((t) => t.replace('count: 2', 'count: 1'));
    expect(check(gateInput(plan, labWorld(actual), { requester: ADMIN }), 'capacity')).toMatchObject({
      outcome: 'pass',
      reason: "lab 'gl' needs no more memory on any node",
    });
  });
});

describe('gate - lab platformHealth check', () => {
  it('gate - lab a cluster without quorum is denied', () => {
    const world = labWorld();
    world.clusters.set(CLUSTER, { cluster: CLUSTER, reachable: true, quorate: false });
    expect(check(gateInput(firstPlan(), world), 'platformHealth')).toMatchObject({
      outcome: 'deny',
      reason: 'cluster lab has lost quorum: no mutating operation',
    });
  });

  it('gate - lab a node a member is placed on that is offline or unknown is denied', () => {
    const world = labWorld();
    world.hosts.set(hostKey(CLUSTER, 'pve2'), makeHost('pve2', { maxmem: 64 * GiB, mem: 8 * GiB, status: 'offline' }));
    world.hosts.set(hostKey(CLUSTER, 'pve1'), makeHost('pve1', { maxmem: 64 * GiB, mem: 8 * GiB, status: 'unknown' }));
    const result = evaluateLabGate(gateInput(firstPlan(), world));
    expect(result.decision).toBe('denied');
    expect(result.reasons).toEqual(['node pve1 is in an unknown state; node pve2 is offline']);
  });

  it('gate - lab a removal needs the node its guest is on', () => {
    const { plan, actual } = edited((t) => t.replace('count: 2', 'count: 1'));
    const world = labWorld(actual);
    world.hosts.set(hostKey(CLUSTER, 'pve2'), makeHost('pve2', { maxmem: 64 * GiB, mem: 8 * GiB, status: 'offline' }));
    expect(check(gateInput(plan, world, { requester: ADMIN }), 'platformHealth')).toMatchObject({
      outcome: 'deny',
      reason: 'node pve2 is offline',
    });
  });
});
