// The checks a schema cannot make. checkLabSpec: the file on its own (duplicate names, dependencies, networks and
// addresses). validateLab: the file against a cluster (templates, names and pools in use, SDN and other labs'
// networks, memory per node for all members together) and, when nothing is wrong, the resolved lab to plan from.
import { buildLabGraph, type LabGraph, type LabMember } from './graph';
import type { LabInventory } from './inventory';
import { formatPath, type LabIssue } from './issues';
import type { ActualMember, LabActual, MemberNic, ResolvedLab, ResolvedMember, ResolvedTemplate } from './model';
import { checkNetworks, resolveNics } from './networks';
import { checkNetworksOnCluster } from './networks-cluster';
import { placeMembers } from './placement';
import { resolveTemplate } from './resolve';
import { guestName, type LabSpec } from './spec';

/** PVE guest names are DNS names; a member's is also its hostname, so one label. */
export const MAX_GUEST_NAME_LENGTH = 63;

export interface LabSpecCheck {
  issues: LabIssue[];
  warnings: LabIssue[];
  graph: LabGraph;
  /** Each member's NICs as PVE gets them (members of a VM without `networks` are absent). */
  nics: Map<string, MemberNic[]>;
}

/** The lab file's own rules, no cluster needed. */
export function checkLabSpec(spec: LabSpec): LabSpecCheck {
  const issues: LabIssue[] = [];
  const graph = buildLabGraph(spec.vms);
  issues.push(...duplicateNames(spec, graph.members));
  issues.push(...checkNetworks(spec.networks));
  const nics = resolveNics(spec, graph.members);
  issues.push(...nics.issues);
  issues.push(...graph.issues);
  return { issues, warnings: nics.warnings, graph, nics: nics.nics };
}

function duplicateNames(spec: LabSpec, members: readonly LabMember[]): LabIssue[] {
  const issues: LabIssue[] = [];
  const vmAt = new Map<string, number>();
  spec.vms.forEach((vm, i) => {
    const first = vmAt.get(vm.name);
    if (first !== undefined) {
      issues.push({
        path: formatPath(['vms', i, 'name']),
        message: `duplicate VM name '${vm.name}' (also vms[${first}])`,
      });
    } else {
      vmAt.set(vm.name, i);
    }
  });
  const owner = new Map<string, LabMember>();
  const reported = new Set<number>();
  for (const m of members) {
    const other = owner.get(m.name);
    if (!other) {
      owner.set(m.name, m);
      continue;
    }
    if (other.vm === m.vm || reported.has(m.vmIndex)) continue; // duplicate VM names: reported above
    reported.add(m.vmIndex);
    const of = (x: LabMember) =>
      spec.vms[x.vmIndex]!.count > 1 ? `a member of '${x.vm}' (vms[${x.vmIndex}])` : `vms[${x.vmIndex}]`;
    issues.push({
      path: formatPath(['vms', m.vmIndex, 'name']),
      message: `member name '${m.name}' is taken twice: by ${of(m)} and by ${of(other)}`,
    });
  }
  spec.vms.forEach((vm, i) => {
    const longest = guestName(spec.name, vm.count > 1 ? `${vm.name}-${vm.count}` : vm.name);
    if (longest.length > MAX_GUEST_NAME_LENGTH) {
      issues.push({
        path: formatPath(['vms', i, 'name']),
        message: `guest name '${longest}' (lab name, '-', member name) is longer than ${MAX_GUEST_NAME_LENGTH} characters`,
      });
    }
  });
  return issues;
}

export interface LabValidation {
  issues: LabIssue[];
  warnings: LabIssue[];
  /** Present when there is no issue. */
  resolved?: ResolvedLab | undefined;
}

/**
 * The lab file against a cluster. `actual` is the lab as applied so far (re-apply, edit): its own members, zone
 * and VNets are not collisions, and its running members already hold their memory.
 */
export function validateLab(spec: LabSpec, inventory: LabInventory, actual?: LabActual): LabValidation {
  const checked = checkLabSpec(spec);
  const issues = [...checked.issues];
  if (spec.cluster !== inventory.cluster) {
    issues.push({
      path: 'cluster',
      message: `the inventory is of cluster '${inventory.cluster}', not '${spec.cluster}'`,
    });
    return { issues, warnings: checked.warnings };
  }
  const members = checked.graph.members;
  const existing = new Map<string, ActualMember>();
  for (const m of members) {
    const have = actual?.members.find((a) => a.vm === m.vm && a.ordinal === m.ordinal);
    if (have) existing.set(m.name, have);
  }
  const ownVmids = new Set((actual?.members ?? []).map((m) => m.vmid));

  const templates = spec.vms.map((vm, i) =>
    resolveTemplate(vm, i, inventory.cluster, inventory.guests, inventory.hosts, issues),
  );
  issues.push(...namesInUse(spec, members, inventory, ownVmids));
  issues.push(...checkNetworksOnCluster(spec, inventory, actual));

  const memory = new Map<string, number>();
  const confinedTo = new Map<string, string>();
  for (const m of members) {
    const vm = spec.vms[m.vmIndex]!;
    const mib = vm.memory ?? templates[m.vmIndex]?.memory;
    if (mib !== undefined) memory.set(m.name, mib);
    const tpl = templates[m.vmIndex];
    const guest = tpl && inventory.guests.find((g) => g.vmid === tpl.vmid);
    if (tpl && guest?.sharedStorage === false) confinedTo.set(m.name, tpl.node);
  }
  const placed = placeMembers({
    members: members.filter((m) => memory.has(m.name)),
    vms: spec.vms,
    memory,
    confinedTo,
    existing,
    hosts: inventory.hosts,
    memReserveFraction: inventory.memReserveFraction ?? 0,
    oneNode: spec.networks.zone?.type === 'simple',
  });
  issues.push(...placed.issues);
  if (issues.length > 0) return { issues, warnings: checked.warnings };

  const waveOf = new Map<string, number>();
  checked.graph.waves.forEach((wave, i) => {
    for (const name of wave) waveOf.set(name, i);
  });
  const resolved: ResolvedMember[] = members.map((m) => {
    const vm = spec.vms[m.vmIndex]!;
    const template = templates[m.vmIndex] as ResolvedTemplate;
    const where = placed.placements.get(m.name)!;
    return {
      ...m,
      guestName: guestName(spec.name, m.name),
      type: template.type,
      template,
      clone: vm.clone,
      node: where.node,
      placement: where.placement,
      wave: waveOf.get(m.name) ?? 0,
      memory: memory.get(m.name)!,
      config: {
        cores: vm.cores,
        memory: vm.memory,
        disk: vm.disk,
        tags: vm.tags,
        nics: checked.nics.get(m.name),
        cloudInit: vm.cloudInit,
      },
      probe: vm.probe,
    };
  });
  return { issues, warnings: checked.warnings, resolved: { spec, members: resolved, waves: checked.graph.waves } };
}

/** Guest names and the pool: taken by guests that are not this lab's. */
function namesInUse(
  spec: LabSpec,
  members: readonly LabMember[],
  inventory: LabInventory,
  ownVmids: ReadonlySet<number>,
): LabIssue[] {
  const issues: LabIssue[] = [];
  const reported = new Set<number>();
  for (const m of members) {
    if (reported.has(m.vmIndex)) continue;
    const name = guestName(spec.name, m.name);
    const other = inventory.guests.find((g) => g.name === name && !ownVmids.has(g.vmid));
    if (!other) continue;
    reported.add(m.vmIndex);
    issues.push({
      path: formatPath(['vms', m.vmIndex, 'name']),
      message: `guest name '${name}' is already used by ${other.vmid} on ${other.node}, which is not a member of this lab`,
    });
  }
  const strangers = inventory.guests.filter((g) => g.pool === spec.pool && !ownVmids.has(g.vmid)).map((g) => g.vmid);
  if (strangers.length > 0) {
    const shown = strangers.length > 5 ? `${strangers.slice(0, 5).join(', ')}, …` : strangers.join(', ');
    issues.push({
      path: 'pool',
      message: `pool '${spec.pool}' already holds guests that are not this lab's (${shown}): choose another pool`,
    });
  }
  return issues;
}
