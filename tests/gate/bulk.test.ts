// Bulk requests (a selector, a drain) are gated as ONE unit through the same functions as a single request: a leading
// `expansion` check lists the members, every other check runs on each member and records the worst outcome naming the
// members that did not pass, the mass-operation brake counts every member at once, and the result carries them.
import { describe, expect, it } from 'vitest';
import type { GateCheck, GateInput } from '../../machines/gate';
import {
  combineChecks,
  evaluateGate,
  expandBulk,
  gateChecks,
  recheckRequest,
  runChecks,
  settleNothingToDo,
  validateRequest,
} from '../../machines/gate';
import type { GateResult, RequestSpec } from '../../machines/types';
import { CHECK_NAMES } from '../../machines/types';
import type { World } from './fixtures';
import { addVms, GiB, gateInput, makeVm, makeWorld, NOW, nodeRequest, patchHost, selectorRequest } from './fixtures';

/** The fixture world plus web-1..3 (101, 102 on pve1; 103 on pve2) and 106 db-1 (web, production, pve2). */
function webWorld(): World {
  const world = makeWorld();
  addVms(
    world,
    makeVm(101, { name: 'web-1', tags: ['web'] }),
    makeVm(102, { name: 'web-2', tags: ['web'] }),
    makeVm(103, { name: 'web-3', tags: ['web'], node: 'pve2' }),
    makeVm(106, { name: 'db-1', tags: ['web', 'production'], node: 'pve2' }),
  );
  return world;
}

const decide = (input: GateInput) => settleNothingToDo(evaluateGate(input), input);
const check = (result: GateResult, name: string) => result.checks.find((c) => c.check === name);

describe('bulk requests', () => {
  it('gate - a selector request leads with its expansion, runs every check on each member, and carries the members', () => {
    const result = evaluateGate(gateInput(selectorRequest('reboot', '@tag:web,-106'), webWorld()));
    expect(result.decision).toBe('approved');
    expect(result.checks.map((c) => c.check)).toEqual(['expansion', ...CHECK_NAMES]);
    expect(check(result, 'expansion')).toEqual({
      check: 'expansion',
      outcome: 'pass',
      reason: '@tag:web,-106 expands to 3 guests: 101 (web-1), 102 (web-2), 103 (web-3)',
    });
    expect(check(result, 'authorization')?.reason).toBe('role admin may reboot (needs operator)');
    expect(check(result, 'target')?.reason).toBe(
      '101 (web-1): VM lab/101 (web-1) exists on node pve1; 102 (web-2): VM lab/102 (web-2) exists on node pve1; ' +
        '103 (web-3): VM lab/103 (web-3) exists on node pve2',
    );
    expect(check(result, 'conflicts')?.reason).toMatch(/^101 \(web-1\): VM lab\/101 \(web-1\) has no other active/);
    expect(check(result, 'ha')?.reason).toMatch(/^101 \(web-1\): VM lab\/101 \(web-1\) is not managed by Proxmox HA;/);
    expect(check(result, 'snapshotName')?.reason).toBe('each of 3 guests: not a snapshot: reboot names no snapshot');
    expect(result.members).toEqual([101, 102, 103].map((vmid) => ({ vmid, action: 'reboot', params: {} })));
  });

  it('gate - an empty expansion denies with one sentence naming the selector and cluster; nothing else runs', () => {
    const result = evaluateGate(gateInput(selectorRequest('stop', '@tag:web,-101,-102,-103,-106'), webWorld()));
    expect(result.decision).toBe('denied');
    expect(result.reasons).toEqual(['selector @tag:web,-101,-102,-103,-106 matches no guest in cluster lab']);
    expect(result.checks.slice(1).every((c) => c.outcome === 'skipped')).toBe(true);
    expect(result.members).toBeUndefined();
    const templateOnly = evaluateGate(gateInput(selectorRequest('stop', '9000'), webWorld()));
    expect(templateOnly.reasons).toEqual([
      'selector 9000 matches no guest in cluster lab (template 9000 (debian-12-tpl) is never a member)',
    ]);
  });

  it('gate - an unknown selector kind is refused by validation and by the gate, by name', () => {
    const request = selectorRequest('stop', '@foo:web');
    expect(validateRequest(request).reason).toMatch(
      /^invalid request: target.selector "@foo:web" is malformed: unknown selector kind '@foo'/,
    );
    const result = evaluateGate(gateInput(request, webWorld()));
    expect(result.decision).toBe('denied');
    expect(result.reasons).toHaveLength(1);
    expect(result.reasons[0]).toMatch(/^selector @foo:web is malformed: unknown selector kind '@foo'/);
  });

  it('gate - an unknown or unreachable cluster cannot be expanded', () => {
    const world = webWorld();
    expect(
      evaluateGate(
        gateInput(selectorRequest('stop', '@all', {}, { target: { cluster: 'nope', selector: '@all' } }), world),
      ).reasons,
    ).toEqual(['cluster nope is unknown: @all cannot be expanded']);
    world.clusters.set('lab', { cluster: 'lab', reachable: false, quorate: true });
    expect(evaluateGate(gateInput(selectorRequest('stop', '@all'), world)).reasons).toEqual([
      'cluster lab is unreachable (its last inventory read failed): @all cannot be expanded',
    ]);
  });

  it('gate - the worst member outcome is recorded, its sentence naming the members that did not pass', () => {
    const denied = evaluateGate(gateInput(selectorRequest('stop', '@tag:web'), webWorld()));
    expect(denied.decision).toBe('denied');
    expect(check(denied, 'production')).toEqual({
      check: 'production',
      outcome: 'deny',
      reason: '106 (db-1): VM lab/106 (db-1) is production: stop needs force',
    });
    expect(denied.reasons).toEqual(['106 (db-1): VM lab/106 (db-1) is production: stop needs force']);
    expect(denied.members?.map((m) => m.vmid)).toEqual([101, 102, 103, 106]);

    const world = webWorld();
    world.config.ha = 'approval';
    addVms(world, makeVm(104, { name: 'web-4', tags: ['web'], haManaged: true }));
    const waiting = evaluateGate(gateInput(selectorRequest('stop', '@tag:web', {}, { force: true }), world));
    expect(waiting.decision).toBe('awaiting_approval');
    expect(waiting.reasons).toEqual([
      "106 (db-1): VM lab/106 (db-1) is production: forced stop needs a second person's approval",
      '104 (web-4): VM lab/104 (web-4) is managed by Proxmox HA: change its HA state instead',
    ]);
  });

  it('gate - a selector of 40 guests is braked by massOperation as one unit, the members listed', () => {
    const world = webWorld();
    const fleet = Array.from({ length: 40 }, (_, i) => makeVm(1001 + i, { name: `f-${i + 1}`, tags: ['fleet'] }));
    addVms(world, ...fleet);
    const listed = fleet.map((vm) => `${vm.vmid} (${vm.name})`).join(', ');
    const request = selectorRequest('reboot', '@tag:fleet');

    const braked = evaluateGate(gateInput(request, world));
    expect(braked.decision).toBe('awaiting_approval');
    expect(braked.reasons).toEqual([
      `mass-operation brake: reboot of @tag:fleet touches 40 guests, more than the limit of 10 per request: ${listed}`,
    ]);
    expect(braked.members).toHaveLength(40);

    world.config.massOperation.onExceed = 'deny';
    const denied = evaluateGate(gateInput(request, world));
    expect(denied.decision).toBe('denied');
    expect(denied.reasons[0]).toBe(braked.reasons[0]);
    expect(check(denied, 'capacity')?.outcome).toBe('skipped');
    expect(denied.members).toHaveLength(40);
  });

  it('gate - destructive members all count in the window, with the earlier ones', () => {
    const world = webWorld();
    world.recentDestructive = [NOW - 1000];
    const result = evaluateGate(gateInput(selectorRequest('destroy', '@tag:web,-106'), world));
    expect(check(result, 'massOperation')).toEqual({
      check: 'massOperation',
      outcome: 'approval',
      reason:
        'mass-operation brake: 1 destructive operation already in the last 600 s and 3 more in this request ' +
        '(limit 3 per 600 s): 101 (web-1), 102 (web-2), 103 (web-3)',
    });
    world.recentDestructive = [];
    expect(check(evaluateGate(gateInput(selectorRequest('destroy', '@tag:web,-106'), world)), 'massOperation')).toEqual(
      {
        check: 'massOperation',
        outcome: 'pass',
        reason:
          'destroy of @tag:web,-106 touches 3 guests (limit 10 per request); 0 earlier destructive operations in the last 600 s and 3 in this request (limit 3)',
      },
    );
  });

  it('gate - members already in the state a power action leads to are left out and named', () => {
    const world = webWorld();
    addVms(world, makeVm(102, { name: 'web-2', tags: ['web'], status: 'stopped' }));
    const result = decide(gateInput(selectorRequest('stop', '@tag:web,-106'), world));
    expect(result.decision).toBe('approved');
    expect(check(result, 'expansion')?.reason).toBe(
      '@tag:web,-106 expands to 2 guests: 101 (web-1), 103 (web-3); left out: 102 (web-2) is already stopped',
    );
    expect(result.members?.map((m) => m.vmid)).toEqual([101, 103]);
  });

  it('gate - when every member is already there the decision is nothing_to_do, unless a check denies', () => {
    const world = webWorld();
    for (const vmid of [101, 102, 103])
      addVms(world, makeVm(vmid, { ...world.vms.get(`lab/${vmid}`), status: 'stopped' }));
    const input = gateInput(selectorRequest('stop', '@tag:web,-106'), world);
    expect(evaluateGate(input).decision).toBe('approved');
    expect(decide(input)).toMatchObject({
      decision: 'nothing_to_do',
      reasons: [
        '@tag:web,-106 matches 3 guests, none with anything to do: 101 (web-1) is already stopped, ' +
          '102 (web-2) is already stopped, 103 (web-3) is already stopped',
      ],
      members: [],
    });
    // The platform says 101 runs after all: it has work to do.
    const confirmed = decide({ ...input, powerStatus: new Map([['lab/101', 'running']]) });
    expect(confirmed.decision).toBe('approved');
    expect(confirmed.members?.map((m) => m.vmid)).toEqual([101]);
    // A lost quorum still denies, as for a single request with nothing to do.
    world.clusters.set('lab', { cluster: 'lab', reachable: true, quorate: false });
    expect(decide(gateInput(selectorRequest('stop', '@tag:web,-106'), world)).decision).toBe('denied');
  });

  it('gate - a selector migrate leaves out guests already on the destination and counts earlier moves against it', () => {
    const world = webWorld();
    // pve2 keeps 6 GiB free after its reserve: room for one 4 GiB guest, not two.
    patchHost(world, 'pve2', { mem: 109.2 * GiB });
    const result = evaluateGate(gateInput(selectorRequest('migrate', '@tag:web,-106', { target: 'pve2' }), world));
    expect(check(result, 'expansion')?.reason).toBe(
      '@tag:web,-106 expands to 2 guests: 101 (web-1), 102 (web-2); left out: 103 (web-3) is already on node pve2',
    );
    expect(result.decision).toBe('denied');
    expect(result.reasons).toEqual([
      '102 (web-2): node pve2 has 2.0 GiB memory free after its 10% reserve, but VM lab/102 (web-2) needs 4.0 GiB',
    ]);
  });

  it('gate - a drain is one unit of migrates: a production guest on the node makes it wait for approval', () => {
    const world = webWorld();
    const result = evaluateGate(gateInput(nodeRequest('drain', 'pve3'), world));
    expect(result.decision).toBe('awaiting_approval');
    expect(check(result, 'expansion')?.reason).toBe(
      'drain of node lab/pve3 moves 1 guest: 114 (minecraft) to pve1 online',
    );
    expect(result.reasons).toEqual([
      "114 (minecraft): VM lab/114 (minecraft) is production: migrate needs a second person's approval",
    ]);
    expect(result.members).toEqual([
      { vmid: 114, action: 'migrate', params: { target: 'pve1', online: true, withLocalDisks: true } },
    ]);
  });

  it('gate - a drain moves HA guests through HA and stopped guests offline; every move is checked', () => {
    const world = webWorld();
    addVms(world, makeVm(105, { name: 'db', node: 'pve2', haManaged: true }));
    world.vms.delete('lab/106');
    const result = evaluateGate(gateInput(nodeRequest('drain', 'pve2'), world));
    expect(result.decision).toBe('approved');
    expect(result.members).toEqual([
      { vmid: 103, action: 'migrate', params: { target: 'pve1', online: true, withLocalDisks: true } },
      { vmid: 105, action: 'migrate', params: { target: 'pve3', online: true, withLocalDisks: true } },
    ]);
    expect(check(result, 'ha')?.reason).toContain(
      '105 (db): VM lab/105 (db) is managed by Proxmox HA: migrate moves it through the HA manager',
    );
    expect(check(result, 'authorization')?.reason).toBe('role operator may drain (needs operator)');
  });

  it('gate - a drain that cannot be planned denies at its expansion; a drain needs its own role', () => {
    expect(evaluateGate(gateInput(nodeRequest('drain', 'pve9'), webWorld())).reasons).toEqual([
      'node pve9 does not exist in cluster lab',
    ]);
    const observer = nodeRequest('drain', 'pve3', {}, { requester: { id: 'olga', role: 'observer' } });
    expect(evaluateGate(gateInput(observer, webWorld())).reasons).toEqual([
      'role observer may not drain (needs operator)',
    ]);
  });

  it('gate - single requests are unchanged: no expansion, no members', () => {
    const result = evaluateGate(gateInput({ ...selectorRequest('stop', ''), target: { cluster: 'lab', vmid: 101 } }));
    expect(result.checks.map((c) => c.check)).toEqual([...CHECK_NAMES]);
    expect(result).not.toHaveProperty('members');
    expect(combineChecks(runChecks(gateInput(nodeRequest('undrain', 'pve2'))))).not.toHaveProperty('members');
  });

  it('gate - the runtime path (runChecks, combineChecks, settleNothingToDo) gives a bulk result its members', () => {
    const input = gateInput(selectorRequest('reboot', '@tag:web,-106'), webWorld());
    const bare = combineChecks(runChecks(input));
    expect(bare.members).toBeUndefined();
    expect(settleNothingToDo(bare, input).members?.map((m) => m.vmid)).toEqual([101, 102, 103]);
    expect(combineChecks(runChecks(input), input).members?.map((m) => m.vmid)).toEqual([101, 102, 103]);
  });

  it('gate - custom checks run on each member; a check that throws on one member denies naming the error', () => {
    const fussy: GateCheck = {
      name: 'fussy',
      run: ({ request }) => {
        if (request.target.vmid === 102) throw new Error('no data for 102');
        return { outcome: 'pass', reason: 'fine' };
      },
    };
    const results = runChecks(gateInput(selectorRequest('reboot', '@tag:web,-106'), webWorld()), [fussy]);
    expect(results).toEqual([
      expect.objectContaining({ check: 'expansion', outcome: 'pass' }),
      { check: 'fussy', outcome: 'deny', reason: '102 (web-2): check fussy failed: no data for 102' },
    ]);
  });

  it('gate - each member is judged on its own request: the bulk request with its action, VMID and parameters', () => {
    const seen: RequestSpec[] = [];
    const spy: GateCheck = {
      name: 'spy',
      run: ({ request }) => {
        seen.push(request);
        return { outcome: 'pass', reason: 'seen' };
      },
    };
    runChecks(gateInput(nodeRequest('drain', 'pve3', {}, { force: true }), webWorld()), [spy]);
    expect(seen).toEqual([
      {
        ...nodeRequest('drain', 'pve3', {}, { force: true }),
        action: 'migrate',
        target: { cluster: 'lab', vmid: 114 },
        params: { target: 'pve1', online: true, withLocalDisks: true },
        parent: 'req-drain',
      },
    ]);
  });

  it('gate - a re-check of a bulk request runs the re-checked checks on its current members', () => {
    const world = webWorld();
    const input = gateInput(selectorRequest('reboot', '@tag:web,-106'), world);
    expect(recheckRequest(input, 'execution', false).reason).toBeUndefined();
    patchHost(world, 'pve2', { status: 'offline' });
    expect(recheckRequest(input, 'execution', false).reason).toBe(
      'no longer passes the gate before execution: 103 (web-3): node pve2 is offline',
    );
  });

  it('gate - expandBulk gives the runtime the members and those left out', () => {
    const world = webWorld();
    addVms(world, makeVm(102, { name: 'web-2', tags: ['web'], status: 'stopped' }));
    const expanded = expandBulk(gateInput(selectorRequest('start', '@tag:web,-106'), world));
    expect(expanded).toMatchObject({
      ok: true,
      expansion: {
        label: '@tag:web,-106',
        members: [{ vmid: 102, action: 'start', params: {} }],
        leftOut: [
          { member: { vmid: 101, action: 'start' }, why: 'is already running' },
          { member: { vmid: 103, action: 'start' }, why: 'is already running' },
        ],
      },
    });
    expect(gateChecks.some((c) => c.name === 'expansion')).toBe(false);
  });
});
