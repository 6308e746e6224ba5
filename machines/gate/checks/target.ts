// Check 3, target: the cluster is known and reachable; the VM, or the deploy's template and node, exist; the VM is in
// a power state the action can work from; a command's VM has an SSH target to run it on.
import type { Action, VmPowerStatus } from '../../types';
import { hostKey } from '../../types';
import { vmLabel } from '../describe';
import { deploySubject, deployTemplate, targetVm } from '../subject';
import type { GateCheck } from '../types';

export const targetCheck: GateCheck = {
  name: 'target',
  run(input) {
    const { request } = input;
    const cluster = request.target.cluster;
    const info = input.clusters.get(cluster);
    if (!info) return { outcome: 'deny', reason: `cluster ${cluster} is unknown` };
    if (!info.reachable) {
      return { outcome: 'deny', reason: `cluster ${cluster} is unreachable (its last inventory read failed)` };
    }

    const deploy = deploySubject(request);
    if (deploy) {
      const template = deployTemplate(input)?.vm;
      if (!template) return { outcome: 'deny', reason: `template ${cluster}/${deploy.template} does not exist` };
      if (!template.template) {
        return { outcome: 'deny', reason: `${vmLabel(template)} is not a template: deploy clones templates only` };
      }
      if (!input.hosts.has(hostKey(cluster, deploy.node))) {
        return { outcome: 'deny', reason: `node ${deploy.node} does not exist in cluster ${cluster}` };
      }
      return { outcome: 'pass', reason: `${vmLabel(template, 'template')} and node ${deploy.node} exist` };
    }

    const target = targetVm(input);
    if (!target) return { outcome: 'deny', reason: `${request.action} names no VM` };
    const vm = target.vm;
    if (!vm) return { outcome: 'deny', reason: `VM ${target.key} does not exist` };
    if (vm.template) {
      return {
        outcome: 'deny',
        reason: `${vmLabel(vm)} is a template: templates cannot be the target of ${request.action} (deploy clones them)`,
      };
    }
    const needed = NEEDS_STATUS[request.action];
    if (needed && vm.status !== 'unknown' && !needed.includes(vm.status)) {
      return {
        outcome: 'deny',
        reason: `${vmLabel(vm)} is ${vm.status}: ${request.action} needs a ${needed.join(' or ')} VM`,
      };
    }
    if (request.action === 'command') {
      if (!input.sshTargets?.has(target.key)) {
        return {
          outcome: 'deny',
          reason: `${vmLabel(vm)} has no SSH target (ssh.targets): a command cannot be run on it`,
        };
      }
      return { outcome: 'pass', reason: `${vmLabel(vm)} exists on node ${vm.node} and has an SSH target` };
    }
    return { outcome: 'pass', reason: `${vmLabel(vm)} exists on node ${vm.node}` };
  },
};

/** Power states an action can work from (Proxmox refuses the others); an unknown state is left to later checks. */
const NEEDS_STATUS: Partial<Record<Action, readonly VmPowerStatus[]>> = {
  reboot: ['running'],
  suspend: ['running'],
  resume: ['paused'],
  start: ['stopped', 'running'],
  // A command runs inside the guest, over SSH: only a running guest answers.
  command: ['running'],
};
