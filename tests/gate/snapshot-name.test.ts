// The snapshotName check: a snapshot name the VM already has is denied at the gate (PVE would refuse it at
// execution), from the snapshot names the platform listed just before the checks ran.
import { describe, expect, it } from 'vitest';
import type { GateInput, SnapshotListing } from '../../machines/gate';
import { evaluateGate, snapshotNameCheck } from '../../machines/gate';
import type { RequestSpec } from '../../machines/types';
import { addVms, gateInput, makeVm, makeWorld, vmRequest } from './fixtures';

const snapshot = (snapname: unknown, vmid = 101): RequestSpec => vmRequest('snapshot', vmid, { params: { snapname } });
const withListing = (request: RequestSpec, listing?: SnapshotListing): GateInput => ({
  ...gateInput(request, makeWorld()),
  ...(listing ? { snapshots: new Map([[`lab/${request.target.vmid}`, listing]]) } : {}),
});

describe('snapshotName check', () => {
  it('snapshotName - a name the VM does not have passes', () => {
    expect(snapshotNameCheck.run(withListing(snapshot('before'), { names: ['nightly'] }))).toEqual({
      outcome: 'pass',
      reason: "VM lab/101 (web) has no snapshot named 'before' yet",
    });
  });

  it('snapshotName - a name the VM already has is denied naming it', () => {
    expect(snapshotNameCheck.run(withListing(snapshot('before'), { names: ['nightly', 'before'] }))).toEqual({
      outcome: 'deny',
      reason: "VM lab/101 (web) already has a snapshot named 'before'",
    });
  });

  it('snapshotName - names are compared exactly, as PVE does', () => {
    expect(snapshotNameCheck.run(withListing(snapshot('Before'), { names: ['before'] })).outcome).toBe('pass');
  });

  it('snapshotName - a listing the platform could not give denies with its error (fail closed)', () => {
    const listing = { error: 'PVE answered 500: unable to read config' };
    expect(snapshotNameCheck.run(withListing(snapshot('before'), listing))).toEqual({
      outcome: 'deny',
      reason: 'could not list the snapshots of VM lab/101 (web): PVE answered 500: unable to read config',
    });
  });

  it('snapshotName - no listing at all denies: the name was not checked', () => {
    expect(snapshotNameCheck.run(withListing(snapshot('before')))).toEqual({
      outcome: 'deny',
      reason: 'the snapshots of VM lab/101 (web) were not listed: the name cannot be checked',
    });
  });

  it('snapshotName - other actions pass without a listing', () => {
    expect(snapshotNameCheck.run(gateInput(vmRequest('reboot', 101)))).toEqual({
      outcome: 'pass',
      reason: 'not a snapshot: reboot names no snapshot',
    });
  });

  it('snapshotName - in the gate, the check runs after the others but backup and its denial is the decision', () => {
    const result = evaluateGate(withListing(snapshot('before'), { names: ['before'] }));
    expect(result.checks.at(-2)).toMatchObject({ check: 'snapshotName', outcome: 'deny' });
    expect(result.checks.at(-1)).toMatchObject({ check: 'backup', outcome: 'skipped' });
    expect(result).toMatchObject({
      decision: 'denied',
      reasons: ["VM lab/101 (web) already has a snapshot named 'before'"],
    });
  });
});

describe('snapshotName check: rollback, delsnapshot, reserved names', () => {
  const named = (action: 'rollback' | 'delsnapshot', snapname: string, listing: SnapshotListing) =>
    withListing(vmRequest(action, 101, { params: { snapname } }), listing);

  it('gate - rollback and delsnapshot pass for a snapshot the guest has', () => {
    expect(snapshotNameCheck.run(named('rollback', 'pre-upgrade', { names: ['pre-upgrade'] }))).toEqual({
      outcome: 'pass',
      reason: "VM lab/101 (web) has a snapshot named 'pre-upgrade' to roll back to",
    });
    expect(snapshotNameCheck.run(named('delsnapshot', 'old', { names: ['old'] }))).toEqual({
      outcome: 'pass',
      reason: "VM lab/101 (web) has a snapshot named 'old' to delete",
    });
  });

  it('gate - an unknown snapshot is denied naming it', () => {
    expect(snapshotNameCheck.run(named('rollback', 'x', { names: ['before'] }))).toEqual({
      outcome: 'deny',
      reason: "VM lab/101 (web) has no snapshot named 'x'",
    });
    expect(snapshotNameCheck.run(named('delsnapshot', 'Before', { names: ['before'] })).outcome).toBe('deny');
  });

  it('gate - rollback and delsnapshot without a listing, or with a failed one, deny (fail closed)', () => {
    expect(snapshotNameCheck.run(withListing(vmRequest('rollback', 101, { params: { snapname: 'x' } }))).reason).toBe(
      'the snapshots of VM lab/101 (web) were not listed: the name cannot be checked',
    );
    expect(snapshotNameCheck.run(named('delsnapshot', 'x', { error: 'timeout' })).reason).toBe(
      'could not list the snapshots of VM lab/101 (web): timeout',
    );
  });

  it("gate - 'pending' is reserved for VMs, 'vzdump' for containers, as Proxmox refuses them", () => {
    expect(snapshotNameCheck.run(withListing(snapshot('Pending'), { names: [] }))).toEqual({
      outcome: 'deny',
      reason: "'Pending' is a snapshot name Proxmox reserves: VM lab/101 (web) cannot use it",
    });
    expect(snapshotNameCheck.run(withListing(snapshot('vzdump'), { names: [] })).outcome).toBe('pass');
    const world = makeWorld();
    addVms(world, makeVm(200, { name: 'dns', type: 'lxc' }));
    const ct = (name: string) => ({
      ...gateInput(snapshot(name, 200), world),
      snapshots: new Map([['lab/200', { names: [] }]]),
    });
    expect(snapshotNameCheck.run(ct('vzdump')).reason).toBe(
      "'vzdump' is a snapshot name Proxmox reserves: container lab/200 (dns) cannot use it",
    );
    expect(snapshotNameCheck.run(ct('pending')).outcome).toBe('pass');
  });
});
