import { describe, expect, it } from 'vitest';
import { targetCheck } from '../../machines/gate';
import { deployRequest, gateInput, makeWorld, patchCluster, vmRequest } from './fixtures';

describe('target check', () => {
  it('target - an existing VM passes naming its node', () => {
    expect(targetCheck.run(gateInput(vmRequest('stop', 102)))).toEqual({
      outcome: 'pass',
      reason: 'VM lab/102 (build) exists on node pve2',
    });
  });

  it('target - an unknown cluster is denied', () => {
    expect(targetCheck.run(gateInput(vmRequest('stop', 101, { target: { cluster: 'prod', vmid: 101 } })))).toEqual({
      outcome: 'deny',
      reason: 'cluster prod is unknown',
    });
  });

  it('target - an unreachable cluster is denied', () => {
    const world = makeWorld();
    patchCluster(world, { reachable: false });
    expect(targetCheck.run(gateInput(vmRequest('stop', 101), world))).toEqual({
      outcome: 'deny',
      reason: 'cluster lab is unreachable (its last inventory read failed)',
    });
  });

  it('target - a missing VM is denied', () => {
    expect(targetCheck.run(gateInput(vmRequest('start', 404)))).toEqual({
      outcome: 'deny',
      reason: 'VM lab/404 does not exist',
    });
  });

  it('target - a template cannot be destroyed or started', () => {
    expect(targetCheck.run(gateInput(vmRequest('destroy', 9000)))).toEqual({
      outcome: 'deny',
      reason:
        'VM lab/9000 (debian-12-tpl) is a template: templates cannot be the target of destroy (deploy clones them)',
    });
    expect(targetCheck.run(gateInput(vmRequest('start', 9000))).outcome).toBe('deny');
  });

  it('target - a deploy from an existing template to an existing node passes', () => {
    expect(targetCheck.run(gateInput(deployRequest()))).toEqual({
      outcome: 'pass',
      reason: 'template lab/9000 (debian-12-tpl) and node pve1 exist',
    });
  });

  it('target - a deploy from a missing template is denied', () => {
    expect(targetCheck.run(gateInput(deployRequest({ template: 9001 })))).toEqual({
      outcome: 'deny',
      reason: 'template lab/9001 does not exist',
    });
  });

  it('target - a deploy from a VM that is not a template is denied', () => {
    expect(targetCheck.run(gateInput(deployRequest({ template: 101 })))).toEqual({
      outcome: 'deny',
      reason: 'VM lab/101 (web) is not a template: deploy clones templates only',
    });
  });

  it('target - a deploy to an unknown node is denied', () => {
    expect(targetCheck.run(gateInput(deployRequest({ node: 'pve9' })))).toEqual({
      outcome: 'deny',
      reason: 'node pve9 does not exist in cluster lab',
    });
  });

  it('target - a deploy to an unknown cluster is denied', () => {
    expect(targetCheck.run(gateInput(deployRequest({}, { target: { cluster: 'lab2' } })))).toEqual({
      outcome: 'deny',
      reason: 'cluster lab2 is unknown',
    });
  });
});

describe('target - power state', () => {
  it('target - a reboot of a stopped VM is denied with the reason', () => {
    expect(targetCheck.run(gateInput(vmRequest('reboot', 102)))).toEqual({
      outcome: 'deny',
      reason: 'VM lab/102 (build) is stopped: reboot needs a running VM',
    });
  });

  it('target - a resume needs a paused VM; a start of a stopped VM passes', () => {
    expect(targetCheck.run(gateInput(vmRequest('resume', 102))).reason).toBe(
      'VM lab/102 (build) is stopped: resume needs a paused VM',
    );
    expect(targetCheck.run(gateInput(vmRequest('start', 102))).outcome).toBe('pass');
  });
});
