// Check 6, deploy limits and capacity: count limits, and real free memory, storage and CPU on the target node. A
// migrate needs the guest's memory free on its destination after the reserve, and its storage too when it moves its
// local disks.
import { hostKey } from '../../types';
import { gib, percent, vmLabel } from '../describe';
import { deploySubject, deployTemplate, migrateSubject, targetVm } from '../subject';
import type { CheckVerdict, GateCheck, GateInput } from '../types';

function migrateVerdict(input: GateInput): CheckVerdict | undefined {
  const move = migrateSubject(input.request);
  if (!move) return undefined;
  const cluster = input.request.target.cluster;
  const host = input.hosts.get(hostKey(cluster, move.target));
  const vm = targetVm(input)?.vm;
  if (!host || !vm) {
    const missing = host ? `VM ${cluster}/${input.request.target.vmid}` : `node ${move.target}`;
    return { outcome: 'deny', reason: `cannot measure capacity: ${missing} is not in the inventory` };
  }
  const label = vmLabel(vm);
  const { memReserveFraction, diskReserveFraction } = input.config.capacity;
  const problems: string[] = [];
  const freeMem = host.maxmem - host.mem - memReserveFraction * host.maxmem;
  if (freeMem < vm.maxmem) {
    problems.push(
      `node ${move.target} has ${gib(Math.max(0, freeMem))} memory free after its ${percent(memReserveFraction)} ` +
        `reserve, but ${label} needs ${gib(vm.maxmem)}`,
    );
  }
  const freeDisk = host.maxdisk - host.disk - diskReserveFraction * host.maxdisk;
  if (move.withLocalDisks && freeDisk < vm.maxdisk) {
    problems.push(
      `node ${move.target} has ${gib(Math.max(0, freeDisk))} storage free after its ${percent(diskReserveFraction)} ` +
        `reserve, but the local disks of ${label} need ${gib(vm.maxdisk)}`,
    );
  }
  if (problems.length > 0) return { outcome: 'deny', reason: problems.join('; ') };
  const storage = move.withLocalDisks ? ` and ${gib(freeDisk)} storage for its ${gib(vm.maxdisk)} of disks` : '';
  return {
    outcome: 'pass',
    reason: `node ${move.target} has ${gib(freeMem)} memory free after reserve for the ${gib(vm.maxmem)} of ${label}${storage}`,
  };
}

export const capacityCheck: GateCheck = {
  name: 'capacity',
  run(input) {
    const { request, config } = input;
    const migrate = migrateVerdict(input);
    if (migrate) return migrate;
    const deploy = deploySubject(request);
    if (!deploy) return { outcome: 'pass', reason: `not a deploy: ${request.action} needs no new capacity` };
    const cluster = request.target.cluster;
    const { count, node } = deploy;
    const problems: string[] = [];

    if (count > config.deploy.maxCount) {
      problems.push(`deploy of ${count} VMs exceeds the limit of ${config.deploy.maxCount} per request`);
    }
    let inCluster = 0;
    for (const vm of input.vms.values()) if (vm.cluster === cluster) inCluster++;
    if (inCluster + count > config.deploy.maxVmsPerCluster) {
      problems.push(
        `cluster ${cluster} holds ${inCluster} VMs: ${count} more exceeds the limit of ${config.deploy.maxVmsPerCluster}`,
      );
    }

    const host = input.hosts.get(hostKey(cluster, node));
    const template = deployTemplate(input)?.vm;
    if (!host || !template) {
      problems.push(
        `cannot measure capacity: ${host ? `template ${cluster}/${deploy.template}` : `node ${node}`} is not in the inventory`,
      );
      return { outcome: 'deny', reason: problems.join('; ') };
    }

    const { memReserveFraction, diskReserveFraction, maxCpuLoad } = config.capacity;
    const freeMem = host.maxmem - host.mem - memReserveFraction * host.maxmem;
    const needMem = count * template.maxmem;
    if (freeMem < needMem) {
      problems.push(
        `node ${node} has ${gib(Math.max(0, freeMem))} memory free after its ${percent(memReserveFraction)} reserve, ` +
          `but ${count} × ${gib(template.maxmem)} needs ${gib(needMem)}`,
      );
    }
    const freeDisk = host.maxdisk - host.disk - diskReserveFraction * host.maxdisk;
    const needDisk = count * template.maxdisk;
    if (freeDisk < needDisk) {
      problems.push(
        `node ${node} has ${gib(Math.max(0, freeDisk))} storage free after its ${percent(diskReserveFraction)} reserve, ` +
          `but ${count} × ${gib(template.maxdisk)} needs ${gib(needDisk)}`,
      );
    }
    if (host.cpu > maxCpuLoad) {
      problems.push(`node ${node} CPU load ${percent(host.cpu)} is above the limit of ${percent(maxCpuLoad)}`);
    }

    if (problems.length > 0) return { outcome: 'deny', reason: problems.join('; ') };
    return {
      outcome: 'pass',
      reason:
        `node ${node} fits ${count} × (${gib(template.maxmem)} memory, ${gib(template.maxdisk)} storage): ` +
        `${gib(freeMem)} memory and ${gib(freeDisk)} storage free after reserve, CPU load ${percent(host.cpu)}`,
    };
  },
};
