// The maintenance check: a guest in maintenance (itself, its node or its tag) — or a deploy onto a node in
// maintenance — is denied for the Overseer's own requests and needs a second person's approval for a person's; the
// sentence names the window. Windows are in force from `from` until `until` (expiry by the gate's `now`), and the
// check is re-checked at approval and before execution.
import { describe, expect, it } from 'vitest';
import { evaluateGate, maintenanceCheck, recheckedChecks, recheckRequest } from '../../machines/gate';
import type { MaintenanceWindow } from '../../machines/maintenance';
import { OVERSEER_IDENTITY } from '../../machines/types';
import { deployRequest, gateInput, makeWorld, NOW, nodeRequest, patchVm, vmRequest } from './fixtures';

const HOUR = 3_600_000;

function window(scope: MaintenanceWindow['scope'], target: string, patch: Partial<MaintenanceWindow> = {}) {
  return {
    id: 'm1',
    scope,
    target,
    from: NOW - HOUR,
    until: NOW + HOUR,
    reason: 'disk swap',
    by: 'tok-olga',
    byName: 'olga',
    ...patch,
  } satisfies MaintenanceWindow;
}

const withWindows = (request: Parameters<typeof gateInput>[0], windows: MaintenanceWindow[], now = NOW) => ({
  ...gateInput(request, makeWorld(), now),
  maintenance: windows,
});

const overseerStart = (vmid: number) => vmRequest('start', vmid, { requester: OVERSEER_IDENTITY, origin: 'overseer' });

describe('maintenance check', () => {
  it('maintenance - a guest in maintenance: a person needs approval, the sentence names scope, until, who and why', () => {
    expect(maintenanceCheck.run(withWindows(vmRequest('stop', 101), [window('guest', 'lab/101')]))).toEqual({
      outcome: 'approval',
      reason:
        'VM lab/101 (web) is in maintenance (guest lab/101 until 2025-01-15T13:00:00Z, by olga: disk swap (m1)): ' +
        "acting on it needs a second person's approval",
    });
  });

  it("maintenance - the Overseer's own request (remediation) is denied with the same window named", () => {
    expect(maintenanceCheck.run(withWindows(overseerStart(101), [window('guest', 'lab/101')]))).toEqual({
      outcome: 'deny',
      reason:
        'VM lab/101 (web) is in maintenance (guest lab/101 until 2025-01-15T13:00:00Z, by olga: disk swap (m1)): ' +
        'Overseer leaves it alone',
    });
  });

  it('maintenance - a node window covers its guests and deploys onto it; a tag window the guests carrying the tag', () => {
    const node = [window('node', 'lab/pve2', { reason: 'kernel update' })];
    expect(maintenanceCheck.run(withWindows(vmRequest('reboot', 102), node))).toMatchObject({
      outcome: 'approval',
      reason: expect.stringMatching(/^VM lab\/102 \(build\) is in maintenance \(node lab\/pve2 until .*kernel update/),
    });
    expect(maintenanceCheck.run(withWindows(vmRequest('reboot', 101), node)).outcome).toBe('pass');
    expect(maintenanceCheck.run(withWindows(deployRequest({ node: 'pve2' }), node))).toMatchObject({
      outcome: 'approval',
      reason: expect.stringMatching(/^node lab\/pve2 is in maintenance \(node lab\/pve2 until/),
    });
    const tag = [window('tag', 'games')];
    expect(maintenanceCheck.run(withWindows(vmRequest('stop', 114, { force: true }), tag)).outcome).toBe('approval');
    expect(maintenanceCheck.run(withWindows(vmRequest('stop', 101), tag)).outcome).toBe('pass');
  });

  it('maintenance - a window that ran out, or has not begun, or is on another cluster passes', () => {
    const request = overseerStart(101);
    expect(maintenanceCheck.run(withWindows(request, [window('guest', 'lab/101', { until: NOW })]))).toEqual({
      outcome: 'pass',
      reason: 'VM lab/101 (web) is not in maintenance',
    });
    const later = window('guest', 'lab/101', { from: NOW + 1, until: NOW + HOUR });
    expect(maintenanceCheck.run(withWindows(request, [later])).outcome).toBe('pass');
    expect(maintenanceCheck.run(withWindows(request, [later], NOW + 1)).outcome).toBe('deny');
    expect(maintenanceCheck.run(withWindows(request, [window('guest', 'other/101')])).outcome).toBe('pass');
    expect(maintenanceCheck.run(gateInput(request)).outcome).toBe('pass');
  });

  it('maintenance - of several windows the one lasting longest is named', () => {
    const windows = [
      window('guest', 'lab/101', { id: 'm1', until: NOW + HOUR }),
      window('tag', 'web', { id: 'm2', until: NOW + 2 * HOUR }),
      window('node', 'lab/pve1', { id: 'm3', until: NOW + HOUR / 2 }),
    ];
    const world = makeWorld();
    patchVm(world, 101, { tags: ['web'] });
    const input = { ...gateInput(vmRequest('stop', 101), world), maintenance: windows };
    expect(maintenanceCheck.run(input).reason).toContain(
      '(tag web until 2025-01-15T14:00:00Z, by olga: disk swap (m2))',
    );
  });

  it('maintenance - in the gate it runs after target; the decision awaits approval for a person, denies the Overseer', () => {
    const windows = [window('guest', 'lab/101')];
    const person = evaluateGate(withWindows(vmRequest('stop', 101), windows));
    expect(person.decision).toBe('awaiting_approval');
    expect(person.checks.map((c) => c.check).slice(0, 4)).toEqual(['schema', 'authorization', 'target', 'maintenance']);
    const own = evaluateGate(withWindows(overseerStart(101), windows));
    expect(own.decision).toBe('denied');
    expect(own.reasons).toHaveLength(1);
    expect(own.reasons[0]).toMatch(/Overseer leaves it alone$/);
  });

  it('maintenance - re-checked: a window that began while a request waited stops it before execution', () => {
    expect(recheckedChecks.map((c) => c.name)).toContain('maintenance');
    const windows = [window('guest', 'lab/101')];
    // A restart the Overseer queued before the window began.
    expect(recheckRequest(withWindows(overseerStart(101), windows), 'execution', false).reason).toMatch(
      /^no longer passes the gate before execution: VM lab\/101 \(web\) is in maintenance .*Overseer leaves it alone$/,
    );
    // A person's request approved before the window: nobody approved it in view of the window.
    expect(recheckRequest(withWindows(vmRequest('stop', 101), windows), 'execution', false).reason).toMatch(
      /acting on it needs a second person's approval, but nobody approved it$/,
    );
    // Approved by a person (at the approval stage, or later): it may run.
    expect(recheckRequest(withWindows(vmRequest('stop', 101), windows), 'approval', false).reason).toBeUndefined();
    expect(recheckRequest(withWindows(vmRequest('stop', 101), windows), 'execution', true).reason).toBeUndefined();
  });
});

describe('maintenance check: migrate, drain and undrain', () => {
  const migrate = (vmid: number, target: string, patch = {}) =>
    vmRequest('migrate', vmid, { params: { target }, ...patch });

  it('gate - a migrate onto a node in maintenance is treated like a deploy onto it', () => {
    const node = [window('node', 'lab/pve3', { reason: 'firmware' })];
    expect(maintenanceCheck.run(withWindows(migrate(101, 'pve3'), node))).toMatchObject({
      outcome: 'approval',
      reason: expect.stringMatching(
        /^node lab\/pve3 is in maintenance \(node lab\/pve3 until .*firmware.*second person's approval$/,
      ),
    });
    const overseer = migrate(101, 'pve3', { requester: OVERSEER_IDENTITY, origin: 'overseer' });
    expect(maintenanceCheck.run(withWindows(overseer, node)).reason).toMatch(/Overseer leaves it alone$/);
    expect(maintenanceCheck.run(withWindows(migrate(101, 'pve2'), node))).toEqual({
      outcome: 'pass',
      reason: 'VM lab/101 (web) is not in maintenance; node lab/pve2 is not in maintenance',
    });
  });

  it("gate - a drain's own migrate away from the node its window covers passes", () => {
    const drained = [window('node', 'lab/pve2', { request: 'req-drain', reason: 'drain' })];
    expect(maintenanceCheck.run(withWindows(migrate(102, 'pve1', { parent: 'req-drain' }), drained))).toEqual({
      outcome: 'pass',
      reason:
        'VM lab/102 (build) leaves node lab/pve2 for drain request req-drain, which set its maintenance; ' +
        'node lab/pve1 is not in maintenance',
    });
  });

  it("gate - another request's migrate, or a window a person set, still holds the guest", () => {
    const drained = [window('node', 'lab/pve2', { request: 'req-drain' })];
    expect(maintenanceCheck.run(withWindows(migrate(102, 'pve1'), drained)).outcome).toBe('approval');
    expect(maintenanceCheck.run(withWindows(migrate(102, 'pve1', { parent: 'req-other' }), drained)).outcome).toBe(
      'approval',
    );
    const byPerson = [window('node', 'lab/pve2')];
    expect(maintenanceCheck.run(withWindows(migrate(102, 'pve1', { parent: 'req-drain' }), byPerson)).outcome).toBe(
      'approval',
    );
    // The drain's window does not exempt a stop of the same guest.
    expect(maintenanceCheck.run(withWindows(vmRequest('stop', 102, { parent: 'req-drain' }), drained)).outcome).toBe(
      'approval',
    );
  });

  it('gate - an undrain ends the maintenance and passes', () => {
    expect(maintenanceCheck.run(withWindows(nodeRequest('undrain', 'pve2'), [window('node', 'lab/pve2')]))).toEqual({
      outcome: 'pass',
      reason: 'undrain ends the maintenance of node lab/pve2',
    });
  });
});
