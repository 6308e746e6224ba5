import { describe, expect, it } from 'vitest';
import { schemaCheck, validateRequest } from '../../machines/gate';
import type { RequestSpec } from '../../machines/types';
import { deployRequest, gateInput, vmRequest } from './fixtures';

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

  it('schema - a snapshot name with a dash is denied, as Proxmox would refuse it', () => {
    const request = vmRequest('snapshot', 101, { params: { snapname: 'before-upgrade' } });
    expect(run(request).outcome).toBe('deny');
  });

  it('schema - a snapshot with a name and description passes', () => {
    const request = vmRequest('snapshot', 101, { params: { snapname: 'before_upgrade', description: 'pre 2.0' } });
    expect(run(request).outcome).toBe('pass');
  });

  it('schema - an unknown action is denied', () => {
    expect(run(broken({ action: 'migrate' }))).toEqual({
      outcome: 'deny',
      reason:
        'invalid request: unknown action "migrate" (expected one of deploy, destroy, start, stop, shutdown, reboot, suspend, resume, snapshot, command)',
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
      `invalid request: params.snapname must start with a letter and hold 2 to 40 letters, digits or '_' (got "1st")`,
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
