import { describe, expect, it } from 'vitest';
import { schemaCheck, validateRequest } from '../../machines/gate';
import type { RequestSpec } from '../../machines/types';
import { deployRequest, gateInput, nodeRequest, selectorRequest, vmRequest } from './fixtures';

const run = (request: RequestSpec) => schemaCheck.run(gateInput(request));
const broken = (patch: Record<string, unknown>, base: RequestSpec = vmRequest('start', 101)) =>
  ({ ...base, ...patch }) as unknown as RequestSpec;

describe('schema check', () => {
  it('schema - a VM action without params passes', () => {
    expect(run(vmRequest('stop', 101))).toEqual({ outcome: 'pass', reason: 'stop of VM lab/101 is well-formed' });
  });

  it('schema - a full deploy passes', () => {
    expect(run(deployRequest({ count: 3, full: true }))).toEqual({
      outcome: 'pass',
      reason: 'deploy on cluster lab is well-formed',
    });
  });

  it('schema - a snapshot name with a dash passes, as Proxmox takes it (pve-configid)', () => {
    const request = vmRequest('snapshot', 101, { params: { snapname: 'pre-upgrade' } });
    expect(run(request).outcome).toBe('pass');
  });

  it('schema - a snapshot with a name and description passes', () => {
    const request = vmRequest('snapshot', 101, { params: { snapname: 'before_upgrade', description: 'pre 2.0' } });
    expect(run(request).outcome).toBe('pass');
  });

  it('schema - an unknown action is denied', () => {
    expect(run(broken({ action: 'hibernate' }))).toEqual({
      outcome: 'deny',
      reason:
        'invalid request: unknown action "hibernate" (expected one of deploy, destroy, start, stop, shutdown, reboot, suspend, resume, snapshot, command, migrate, rollback, delsnapshot, drain, undrain)',
    });
  });

  it('schema - an empty cluster is denied', () => {
    expect(run(broken({ target: { cluster: '', vmid: 101 } })).reason).toBe(
      'invalid request: target.cluster is missing',
    );
  });

  it('schema - an invalid cluster name is denied', () => {
    expect(run(broken({ target: { cluster: '-lab', vmid: 101 } })).reason).toBe(
      'invalid request: target.cluster "-lab" is not a valid cluster name',
    );
  });

  it('schema - a missing target is denied', () => {
    expect(run(broken({ target: null })).reason).toBe('invalid request: target is missing');
  });

  it('schema - a VM action with a vmid below 100 is denied', () => {
    expect(run(vmRequest('start', 99))).toEqual({
      outcome: 'deny',
      reason: 'invalid request: target.vmid must be a VMID from 100 to 999999999 (got 99)',
    });
  });

  it('schema - a VM action with a fractional or missing vmid is denied', () => {
    expect(run(vmRequest('start', 101.5)).reason).toBe(
      'invalid request: target.vmid must be a VMID from 100 to 999999999 (got 101.5)',
    );
    expect(run(broken({ target: { cluster: 'lab' } })).reason).toBe(
      'invalid request: target.vmid must be a VMID from 100 to 999999999 (got nothing)',
    );
  });

  it('schema - a deploy with a target vmid is denied', () => {
    expect(run(deployRequest({}, { target: { cluster: 'lab', vmid: 200 } })).reason).toBe(
      'invalid request: deploy takes no target.vmid (its clones get new VMIDs)',
    );
  });

  it('schema - a deploy with a bad template, node and name lists every problem', () => {
    expect(run(deployRequest({ template: 'tpl', node: 'pve 1', name: 'web_1' }))).toEqual({
      outcome: 'deny',
      reason:
        'invalid request: params.template must be a VMID from 100 to 999999999 (got "tpl"); ' +
        'params.node must be a node name (got "pve 1"); params.name must be a valid DNS label (got "web_1")',
    });
  });

  it('schema - a deploy with a missing name is denied', () => {
    expect(run(deployRequest({ name: undefined })).reason).toBe(
      'invalid request: params.name must be a valid DNS label (got nothing)',
    );
  });

  it('schema - a deploy count of zero is denied', () => {
    expect(run(deployRequest({ count: 0 })).reason).toBe(
      'invalid request: params.count must be a whole number of at least 1 (got 0)',
    );
  });

  it('schema - a deploy with a non-boolean full is denied', () => {
    expect(run(deployRequest({ full: 'yes' })).reason).toBe(
      'invalid request: params.full must be true or false (got "yes")',
    );
  });

  it('schema - a deploy may not choose its own VMIDs', () => {
    expect(run(deployRequest({ count: 2, newids: [200, 201] })).outcome).toBe('deny');
  });

  it('schema - an unknown deploy parameter is denied naming the key', () => {
    expect(run(deployRequest({ storage: 'local-lvm' }))).toEqual({
      outcome: 'deny',
      reason: 'invalid request: unknown parameter "storage" for deploy',
    });
  });

  it('schema - a VM action with params is denied naming the key', () => {
    expect(run(vmRequest('reboot', 101, { params: { timeout: 30 } })).reason).toBe(
      'invalid request: reboot takes no parameters (got "timeout")',
    );
  });

  it('schema - a snapshot with an invalid name is denied', () => {
    expect(run(vmRequest('snapshot', 101, { params: { snapname: '1st' } })).reason).toBe(
      `invalid request: params.snapname must start with a letter and hold 2 to 40 letters, digits, '_' or '-' (got "1st")`,
    );
  });

  it('schema - a snapshot description over 1000 characters is denied', () => {
    const request = vmRequest('snapshot', 101, { params: { snapname: 'snap1', description: 'x'.repeat(1001) } });
    expect(run(request).reason).toBe('invalid request: params.description is 1001 characters long (at most 1000)');
  });

  it('schema - a non-object params is denied', () => {
    expect(run(broken({ params: [] })).reason).toBe('invalid request: params must be an object (got [])');
  });

  it('schema - a non-boolean force is denied', () => {
    expect(run(broken({ force: 'true' })).reason).toBe('invalid request: force must be true or false (got "true")');
  });

  it('schema - validateRequest records the result under the schema check', () => {
    expect(validateRequest(vmRequest('start', 99))).toEqual({
      check: 'schema',
      outcome: 'deny',
      reason: 'invalid request: target.vmid must be a VMID from 100 to 999999999 (got 99)',
    });
  });
});

describe('schema check: new actions and targets', () => {
  const migrate = (params: Record<string, unknown>) => vmRequest('migrate', 101, { params });

  it('gate - migrate takes a target node, and online and withLocalDisks as booleans', () => {
    expect(run(migrate({ target: 'pve2' }))).toEqual({
      outcome: 'pass',
      reason: 'migrate of VM lab/101 is well-formed',
    });
    expect(run(migrate({ target: 'pve2', online: true, withLocalDisks: false })).outcome).toBe('pass');
    expect(run(migrate({})).reason).toBe(
      'invalid request: params.target must be the name of the node to move to (got nothing)',
    );
    expect(run(migrate({ target: 'pve 2', online: 1, withLocalDisks: 'yes' })).reason).toBe(
      'invalid request: params.target must be the name of the node to move to (got "pve 2"); ' +
        'params.online must be true or false (got 1); params.withLocalDisks must be true or false (got "yes")',
    );
    expect(run(migrate({ target: 'pve2', force: true })).reason).toBe(
      'invalid request: unknown parameter "force" for migrate',
    );
  });

  it('gate - rollback and delsnapshot name a snapshot (pve-configid, dashes allowed, at most 40 characters)', () => {
    expect(run(vmRequest('rollback', 101, { params: { snapname: 'pre-upgrade' } })).outcome).toBe('pass');
    expect(run(vmRequest('delsnapshot', 101, { params: { snapname: 'Nightly_2025-01' } })).outcome).toBe('pass');
    expect(run(vmRequest('rollback', 101, { params: {} })).reason).toBe(
      `invalid request: params.snapname must start with a letter and hold 2 to 40 letters, digits, '_' or '-' (got nothing)`,
    );
    expect(run(vmRequest('delsnapshot', 101, { params: { snapname: `a${'b'.repeat(40)}` } })).outcome).toBe('deny');
    expect(run(vmRequest('delsnapshot', 101, { params: { snapname: `a${'b'.repeat(39)}` } })).outcome).toBe('pass');
    expect(run(vmRequest('rollback', 101, { params: { snapname: 'x', start: true } })).reason).toBe(
      `invalid request: unknown parameter "start" for rollback; params.snapname must start with a letter and hold 2 to 40 letters, digits, '_' or '-' (got "x")`,
    );
  });

  it("gate - a snapshot named 'current' is refused: Proxmox reserves it", () => {
    expect(run(vmRequest('snapshot', 101, { params: { snapname: 'current' } })).reason).toBe(
      "invalid request: params.snapname 'current' is reserved by Proxmox (the guest's present state)",
    );
  });

  it('gate - drain names a node and takes a concurrency from 1 to 16; undrain takes nothing', () => {
    expect(run(nodeRequest('drain', 'pve2'))).toEqual({
      outcome: 'pass',
      reason: 'drain of node lab/pve2 is well-formed',
    });
    expect(run(nodeRequest('drain', 'pve2', { concurrency: 16 })).outcome).toBe('pass');
    for (const concurrency of [0, 17, 2.5, '4']) {
      expect(run(nodeRequest('drain', 'pve2', { concurrency })).reason).toMatch(
        /^invalid request: params.concurrency must be a whole number from 1 to 16 \(got /,
      );
    }
    expect(run(nodeRequest('undrain', 'pve2')).outcome).toBe('pass');
    expect(run(nodeRequest('undrain', 'pve2', { concurrency: 2 })).reason).toBe(
      'invalid request: undrain takes no parameters (got "concurrency")',
    );
  });

  it('gate - a node action names target.node and no guest', () => {
    expect(run(broken({ target: { cluster: 'lab' } }, nodeRequest('drain', 'pve2'))).reason).toBe(
      'invalid request: drain needs target.node, a node name (got nothing)',
    );
    expect(
      run(broken({ target: { cluster: 'lab', node: 'pve2', vmid: 101 } }, nodeRequest('undrain', 'pve2'))).reason,
    ).toBe('invalid request: undrain names a node (target.node), not a guest: drop target.vmid and target.selector');
  });

  it('gate - a guest action names exactly one of target.vmid and target.selector, and no node', () => {
    expect(run(selectorRequest('stop', '@tag:web,-105'))).toEqual({
      outcome: 'pass',
      reason: 'stop of @tag:web,-105 in cluster lab is well-formed',
    });
    expect(
      run(broken({ target: { cluster: 'lab', vmid: 101, selector: '@all' } }, vmRequest('stop', 101))).reason,
    ).toBe('invalid request: stop names target.vmid or target.selector, not both');
    expect(run(broken({ target: { cluster: 'lab', vmid: 101, node: 'pve1' } }, vmRequest('stop', 101))).reason).toBe(
      'invalid request: stop takes no target.node (it names a guest)',
    );
    expect(run(broken({ target: { cluster: 'lab', selector: 42 } }, vmRequest('stop', 101))).reason).toBe(
      'invalid request: target.selector must be text such as "@tag:web,-105" (got 42)',
    );
    expect(run(deployRequest({}, { target: { cluster: 'lab', selector: '@all' } })).reason).toBe(
      'invalid request: deploy takes no target.selector (its clones get new VMIDs)',
    );
  });

  it('gate - a malformed selector is refused by name: unknown kind, empty value, malformed exclusion', () => {
    expect(run(selectorRequest('stop', '@foo:bar')).reason).toBe(
      'invalid request: target.selector "@foo:bar" is malformed: unknown selector kind \'@foo\' ' +
        '(expected @tag:<tag>, @pool:<pool>, @node:<node>, @all, a VMID, or one of these after a -)',
    );
    expect(run(selectorRequest('stop', '@pool:')).reason).toBe(
      'invalid request: target.selector "@pool:" is malformed: \'@pool:\' has an empty value (write @pool:<pool>)',
    );
    expect(run(selectorRequest('stop', '@tag:web,-x1')).reason).toMatch(
      /^invalid request: target.selector "@tag:web,-x1" is malformed: malformed exclusion '-x1': /,
    );
  });
});
