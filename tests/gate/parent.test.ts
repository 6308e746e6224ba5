// A bulk member's own request (request.parent set) is covered by its parent: the parent check passes only when the
// parent's recorded members list it with the same action, VMID and parameters; run against gateChecks, a member
// meets schema and this check instead of the whole gate.
import { describe, expect, it } from 'vitest';
import {
  evaluateGate,
  memberChecks,
  parentCheck,
  platformHealthCheck,
  runChecks,
  sameValue,
} from '../../machines/gate';
import type { BulkMember, RequestSpec } from '../../machines/types';
import { gateInput, makeWorld, patchCluster, vmRequest } from './fixtures';

const members: BulkMember[] = [
  { vmid: 101, action: 'migrate', params: { target: 'pve2', online: true } },
  { vmid: 102, action: 'migrate', params: { target: 'pve3' } },
];

const member = (vmid: number, params: Record<string, unknown>, patch: Partial<RequestSpec> = {}) =>
  vmRequest('migrate', vmid, { id: 'req-9', params, parent: 'req-drain', ...patch });

const run = (request: RequestSpec, listed: readonly BulkMember[] | undefined = members) =>
  parentCheck.run({ ...gateInput(request), parentMembers: listed });
const unread = (request: RequestSpec) => parentCheck.run(gateInput(request));

describe('parent check', () => {
  it('gate - a member its parent lists with the same action and parameters passes', () => {
    expect(run(member(101, { online: true, target: 'pve2' }))).toEqual({
      outcome: 'pass',
      reason: 'bulk request req-drain lists migrate of guest lab/101 with these parameters: its decision covers it',
    });
    expect(run(member(102, { target: 'pve3', online: undefined })).outcome).toBe('pass');
  });

  it('gate - a member the parent does not list, or lists otherwise, is denied saying what differs', () => {
    expect(run(member(105, { target: 'pve1' }))).toEqual({
      outcome: 'deny',
      reason: 'bulk request req-drain lists no member for guest lab/105',
    });
    expect(run(vmRequest('destroy', 101, { parent: 'req-drain' }))).toEqual({
      outcome: 'deny',
      reason: 'bulk request req-drain lists guest lab/101 for migrate, not destroy',
    });
    expect(run(member(101, { target: 'pve3', online: true }))).toEqual({
      outcome: 'deny',
      reason:
        'bulk request req-drain lists migrate of guest lab/101 with other parameters: {"target":"pve2","online":true}, not {"target":"pve3","online":true}',
    });
  });

  it('gate - a member whose parent members were not read, or a request with no parent, is denied', () => {
    expect(unread(member(101, { target: 'pve2', online: true }))).toEqual({
      outcome: 'deny',
      reason: 'the members of bulk request req-drain were not read: migrate of guest lab/101 cannot be verified',
    });
    expect(run(vmRequest('stop', 101))).toEqual({
      outcome: 'deny',
      reason: 'request req-1 is not a member of a bulk request',
    });
  });

  it('gate - a member run against the gate meets schema and parent only; other check lists are left alone', () => {
    const world = makeWorld();
    patchCluster(world, { quorate: false });
    const input = { ...gateInput(member(101, { target: 'pve2', online: true }), world), parentMembers: members };
    expect(memberChecks.map((c) => c.name)).toEqual(['schema', 'parent']);
    const result = evaluateGate(input);
    expect(result.decision).toBe('approved');
    expect(result.checks.map((c) => c.check)).toEqual(['schema', 'parent']);
    // A re-check (or any explicit list of checks) runs as asked: here the lost quorum is found.
    expect(runChecks(input, [parentCheck, platformHealthCheck]).map((c) => c.outcome)).toEqual(['pass', 'deny']);
    expect(evaluateGate(input, []).checks).toEqual([]);
  });

  it('gate - parameters compare deeply, key order aside, an undefined key counting as absent', () => {
    expect(sameValue({ a: 1, b: [1, { c: 'x' }] }, { b: [1, { c: 'x' }], a: 1 })).toBe(true);
    expect(sameValue({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(sameValue({ a: 1 }, { a: '1' })).toBe(false);
    expect(sameValue([1, 2], { 0: 1, 1: 2 })).toBe(false);
    expect(sameValue({ a: null }, { a: undefined })).toBe(false);
  });
});
