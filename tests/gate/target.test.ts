import { describe, expect, it } from 'vitest';
import { targetCheck } from '../../machines/gate';
import {
  addVms,
  deployRequest,
  gateInput,
  makeVm,
  makeWorld,
  nodeRequest,
  patchCluster,
  patchHost,
  vmRequest,
} from './fixtures';

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

describe('target check: migrate, node actions, containers', () => {
  const migrate = (vmid: number, target: string) => vmRequest('migrate', vmid, { params: { target } });

  it('gate - a migrate to another online node passes naming both nodes', () => {
    expect(targetCheck.run(gateInput(migrate(101, 'pve2')))).toEqual({
      outcome: 'pass',
      reason: 'VM lab/101 (web) exists on node pve1; node pve2 is online',
    });
  });

  it('gate - a migrate to the node the guest is on is denied', () => {
    expect(targetCheck.run(gateInput(migrate(102, 'pve2')))).toEqual({
      outcome: 'deny',
      reason: 'VM lab/102 (build) is already on node pve2',
    });
  });

  it('gate - a migrate to an unknown, offline or unknown-state node is denied', () => {
    expect(targetCheck.run(gateInput(migrate(101, 'pve9'))).reason).toBe('node pve9 does not exist in cluster lab');
    const world = makeWorld();
    patchHost(world, 'pve2', { status: 'offline' });
    patchHost(world, 'pve3', { status: 'unknown' });
    expect(targetCheck.run(gateInput(migrate(101, 'pve2'), world)).reason).toBe(
      'node pve2 is offline: VM lab/101 (web) cannot migrate to it',
    );
    expect(targetCheck.run(gateInput(migrate(101, 'pve3'), world)).reason).toBe(
      'node pve3 is in an unknown state: VM lab/101 (web) cannot migrate to it',
    );
  });

  it('gate - drain and undrain need the node to exist', () => {
    expect(targetCheck.run(gateInput(nodeRequest('undrain', 'pve2')))).toEqual({
      outcome: 'pass',
      reason: 'node pve2 exists in cluster lab',
    });
    expect(targetCheck.run(gateInput(nodeRequest('drain', 'pve9')))).toEqual({
      outcome: 'deny',
      reason: 'node pve9 does not exist in cluster lab',
    });
  });

  it('gate - a container is named as one; suspend and resume are for VMs only', () => {
    const world = makeWorld();
    addVms(world, makeVm(200, { name: 'dns', type: 'lxc', node: 'pve3' }));
    expect(targetCheck.run(gateInput(vmRequest('reboot', 200), world))).toEqual({
      outcome: 'pass',
      reason: 'container lab/200 (dns) exists on node pve3',
    });
    expect(targetCheck.run(gateInput(vmRequest('suspend', 200), world))).toEqual({
      outcome: 'deny',
      reason: 'container lab/200 (dns) is a container: suspend is for VMs only',
    });
    expect(targetCheck.run(gateInput(vmRequest('resume', 200), world)).reason).toBe(
      'container lab/200 (dns) is a container: resume is for VMs only',
    );
    addVms(world, makeVm(201, { name: 'ntp', type: 'lxc', status: 'stopped' }));
    expect(targetCheck.run(gateInput(vmRequest('reboot', 201), world)).reason).toBe(
      'container lab/201 (ntp) is stopped: reboot needs a running container',
    );
  });
});
