// A VM entry's template found on the cluster (by name or VMID) and what the entry asks of it: a linked clone needs
// a template, a disk only grows, a container has no guest agent and no cloud-init.
import { guestTypeOf } from '../types';
import type { LabInventoryGuest, LabInventoryHost } from './inventory';
import type { LabIssue } from './issues';
import { formatPath } from './issues';
import type { ResolvedTemplate } from './model';
import type { LabVm } from './spec';
import { formatMiB } from './units';

const MiB = 1024 ** 2;

const label = (g: LabInventoryGuest): string => `${guestTypeOf(g) === 'lxc' ? 'CT' : 'VM'} ${g.vmid} '${g.name}'`;

/** The guest a VM entry clones, or the issue saying why there is none. */
export function findTemplate(
  ref: string | number,
  cluster: string,
  guests: readonly LabInventoryGuest[],
): { guest: LabInventoryGuest } | { problem: string } {
  const templates = guests.filter((g) => g.template);
  const known = templates.length ? templates.map((g) => `'${g.name}' (${g.vmid})`).join(', ') : 'none';
  if (typeof ref === 'number') {
    const guest = guests.find((g) => g.vmid === ref);
    return guest ? { guest } : { problem: `unknown template ${ref} on cluster '${cluster}' (templates: ${known})` };
  }
  const named = templates.filter((g) => g.name === ref);
  const candidates = named.length > 0 ? named : guests.filter((g) => g.name === ref);
  if (candidates.length === 1) return { guest: candidates[0]! };
  if (candidates.length > 1) {
    const ids = candidates.map((g) => g.vmid).join(', ');
    return { problem: `'${ref}' names ${candidates.length} guests (${ids}) on cluster '${cluster}': give the VMID` };
  }
  return { problem: `unknown template '${ref}' on cluster '${cluster}' (templates: ${known})` };
}

/** Checks one VM entry against its template; the template as members see it, or undefined after an issue. */
export function resolveTemplate(
  vm: LabVm,
  vmIndex: number,
  cluster: string,
  guests: readonly LabInventoryGuest[],
  hosts: readonly LabInventoryHost[],
  issues: LabIssue[],
): ResolvedTemplate | undefined {
  const at = (...keys: (string | number)[]) => formatPath(['vms', vmIndex, ...keys]);
  const found = findTemplate(vm.template, cluster, guests);
  if ('problem' in found) {
    issues.push({ path: at('template'), message: found.problem });
    return undefined;
  }
  const g = found.guest;
  const type = guestTypeOf(g);
  const before = issues.length;
  if (vm.clone === 'linked' && !g.template) {
    issues.push({
      path: at('clone'),
      message: `a linked clone needs a template; ${label(g)} is not one (use clone: full)`,
    });
  }
  const host = hosts.find((h) => h.node === g.node);
  if (host && host.status !== 'online') {
    issues.push({ path: at('template'), message: `${label(g)} is on node ${g.node}, which is ${host.status}` });
  }
  const disk = Math.round(g.maxdisk / MiB);
  if (vm.disk !== undefined && vm.disk < disk) {
    issues.push({
      path: at('disk'),
      message: `${formatMiB(vm.disk)} is smaller than the ${formatMiB(disk)} disk of ${label(g)}: a disk can only grow`,
    });
  }
  if (type === 'lxc' && vm.probe?.type === 'agent') {
    issues.push({
      path: at('probe', 'type'),
      message: `${label(g)} is a container: no guest agent, use a tcp or ssh probe`,
    });
  }
  if (type === 'lxc' && vm.cloudInit) {
    issues.push({ path: at('cloudInit'), message: `${label(g)} is a container: containers have no cloud-init` });
  }
  if (issues.length > before) return undefined;
  return { vmid: g.vmid, name: g.name, node: g.node, type, memory: Math.round(g.maxmem / MiB), disk };
}
