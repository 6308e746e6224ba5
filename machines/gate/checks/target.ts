// Check 3, target: the cluster is known and reachable; the guest, or the deploy's template and node, or a node
// action's node, exist; the guest is in a power state the action can work from; a command's guest has an SSH target to
// run it on; a migrate's destination exists, is online and is not the node the guest is already on. Suspend and
// resume are for VMs only: a container is refused, saying so.
import type { Action, VmPowerStatus } from '../../types';
import { guestTypeOf, hostKey } from '../../types';
import { guestNoun, vmLabel } from '../describe';
import { deploySubject, deployTemplate, migrateSubject, targetNode, targetVm } from '../subject';
import type { CheckVerdict, GateCheck, GateInput } from '../types';

/** Power states an action can work from (Proxmox refuses the others); an unknown state is left to later checks. */
const NEEDS_STATUS: Partial<Record<Action, readonly VmPowerStatus[]>> = {
  reboot: ['running'],
  suspend: ['running'],
  resume: ['paused'],
  start: ['stopped', 'running'],
  // A command runs inside the guest, over SSH: only a running guest answers.
  command: ['running'],
};

/** Actions Overseer runs on QEMU VMs only. */
const VM_ONLY: ReadonlySet<Action> = new Set(['suspend', 'resume']);

function deployVerdict(input: GateInput): CheckVerdict | undefined {
  const deploy = deploySubject(input.request);
  if (!deploy) return undefined;
  const cluster = input.request.target.cluster;
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

function nodeVerdict(input: GateInput): CheckVerdict {
  const cluster = input.request.target.cluster;
  const node = targetNode(input);
  if (!node) return { outcome: 'deny', reason: `${input.request.action} names no node` };
  if (!node.host) return { outcome: 'deny', reason: `node ${node.node} does not exist in cluster ${cluster}` };
  return { outcome: 'pass', reason: `node ${node.node} exists in cluster ${cluster}` };
}

function migrateVerdict(input: GateInput, label: string, from: string): CheckVerdict {
  const cluster = input.request.target.cluster;
  const move = migrateSubject(input.request);
  if (!move) return { outcome: 'deny', reason: 'migrate names no destination node (params.target)' };
  if (move.target === from) return { outcome: 'deny', reason: `${label} is already on node ${move.target}` };
  const host = input.hosts.get(hostKey(cluster, move.target));
  if (!host) return { outcome: 'deny', reason: `node ${move.target} does not exist in cluster ${cluster}` };
  if (host.status !== 'online') {
    const state = host.status === 'offline' ? 'offline' : 'in an unknown state';
    return { outcome: 'deny', reason: `node ${move.target} is ${state}: ${label} cannot migrate to it` };
  }
  return { outcome: 'pass', reason: `${label} exists on node ${from}; node ${move.target} is online` };
}

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

    const deploy = deployVerdict(input);
    if (deploy) return deploy;
    if (request.action === 'drain' || request.action === 'undrain') return nodeVerdict(input);

    const target = targetVm(input);
    if (!target) return { outcome: 'deny', reason: `${request.action} names no VM` };
    const vm = target.vm;
    if (!vm) return { outcome: 'deny', reason: `VM ${target.key} does not exist` };
    const label = vmLabel(vm);
    if (vm.template) {
      return {
        outcome: 'deny',
        reason: `${label} is a template: templates cannot be the target of ${request.action} (deploy clones them)`,
      };
    }
    if (guestTypeOf(vm) === 'lxc' && VM_ONLY.has(request.action)) {
      return { outcome: 'deny', reason: `${label} is a container: ${request.action} is for VMs only` };
    }
    const needed = NEEDS_STATUS[request.action];
    if (needed && vm.status !== 'unknown' && !needed.includes(vm.status)) {
      return {
        outcome: 'deny',
        reason: `${label} is ${vm.status}: ${request.action} needs a ${needed.join(' or ')} ${guestNoun(vm)}`,
      };
    }
    if (request.action === 'migrate') return migrateVerdict(input, label, vm.node);
    if (request.action === 'command') {
      if (!input.sshTargets?.has(target.key)) {
        return { outcome: 'deny', reason: `${label} has no SSH target (ssh.targets): a command cannot be run on it` };
      }
      return { outcome: 'pass', reason: `${label} exists on node ${vm.node} and has an SSH target` };
    }
    return { outcome: 'pass', reason: `${label} exists on node ${vm.node}` };
  },
};
