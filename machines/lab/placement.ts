// Where each member runs, and whether the nodes have the memory for all of the lab's members together. Pinned
// members go to their node, members already running stay where they are, the rest go one by one (largest first)
// to the online node with the most memory left. A simple zone is local to one node, so its lab runs on one node.
import type { LabMember } from './graph';
import type { LabInventoryHost } from './inventory';
import { formatPath, type LabIssue } from './issues';
import type { ActualMember } from './model';
import type { LabVm } from './spec';
import { formatMiB } from './units';

const MiB = 1024 ** 2;

export interface PlacementInput {
  members: readonly LabMember[];
  vms: readonly LabVm[];
  /** MiB each member runs with. */
  memory: ReadonlyMap<string, number>;
  /** Members whose template's disks are local to a node: they can be cloned onto that node only. */
  confinedTo: ReadonlyMap<string, string>;
  /** Members of the applied lab, by member name (vm and ordinal match). */
  existing: ReadonlyMap<string, ActualMember>;
  hosts: readonly LabInventoryHost[];
  memReserveFraction: number;
  /** The lab's zone is simple: every member on one node. */
  oneNode: boolean;
}

export interface Placement {
  node: string;
  placement: 'pinned' | 'automatic' | 'existing';
}

interface Need {
  member: LabMember;
  /** MiB this member adds to its node. */
  mib: number;
  node?: string | undefined;
  placement: Placement['placement'];
  /** The key that put it there (for the error's path). */
  because: 'node' | 'template' | 'existing' | 'auto';
}

/** What a member adds to a node: all its memory, or (already running there) only what it grows by. */
function needOf(member: LabMember, input: PlacementInput, node: string | undefined): number {
  const mib = input.memory.get(member.name) ?? 0;
  const have = input.existing.get(member.name);
  if (!have || have.status === 'missing' || have.node !== node) return mib;
  if (have.status === 'running' || have.status === 'paused') return Math.max(0, mib - (have.config.memory ?? mib));
  return mib;
}

export function placeMembers(input: PlacementInput): { placements: Map<string, Placement>; issues: LabIssue[] } {
  const issues: LabIssue[] = [];
  const online = input.hosts.filter((h) => h.status === 'online').sort((a, b) => a.node.localeCompare(b.node));
  const known = input.hosts.map((h) => h.node).sort();
  const free = new Map(online.map((h) => [h.node, (h.maxmem * (1 - input.memReserveFraction) - h.mem) / MiB]));
  const reserve =
    input.memReserveFraction > 0 ? ` after its ${Math.round(input.memReserveFraction * 100)}% reserve` : '';
  const badNode = new Set<number>();
  const needs: Need[] = input.members.map((member) => {
    const vm = input.vms[member.vmIndex]!;
    const have = input.existing.get(member.name);
    const stays = have && have.status !== 'missing' && (!vm.node || vm.node === have.node);
    if (stays) {
      return {
        member,
        mib: needOf(member, input, have.node),
        node: have.node,
        placement: 'existing',
        because: 'existing',
      };
    }
    if (vm.node) {
      if (!free.has(vm.node) && !badNode.has(member.vmIndex)) {
        badNode.add(member.vmIndex);
        const host = input.hosts.find((h) => h.node === vm.node);
        issues.push({
          path: formatPath(['vms', member.vmIndex, 'node']),
          message: host
            ? `node ${vm.node} is ${host.status}`
            : `unknown node '${vm.node}' (nodes: ${known.join(', ')})`,
        });
      }
      return { member, mib: needOf(member, input, vm.node), node: vm.node, placement: 'pinned', because: 'node' };
    }
    const confined = input.confinedTo.get(member.name);
    if (confined) {
      return { member, mib: needOf(member, input, confined), node: confined, placement: 'pinned', because: 'template' };
    }
    return { member, mib: needOf(member, input, undefined), placement: 'automatic', because: 'auto' };
  });
  if (badNode.size > 0) return { placements: new Map(), issues };

  if (input.oneNode) {
    const fixed = needs.filter((n) => n.node !== undefined);
    const first = fixed[0];
    const other = fixed.find((n) => n.node !== first?.node);
    if (first && other) {
      const runs = (n: Need) => `${n.member.name} ${n.placement === 'existing' ? 'runs' : 'would run'} on ${n.node}`;
      issues.push({
        path: pathOf(other),
        message: `a simple zone is local to one node, but ${runs(other)} and ${runs(first)}`,
      });
      return { placements: new Map(), issues };
    }
    const total = needs.reduce((sum, n) => sum + n.mib, 0);
    const node =
      first?.node ??
      online.reduce<string | undefined>((best, h) => {
        if (best === undefined || free.get(h.node)! > free.get(best)!) return h.node;
        return best;
      }, undefined);
    if (node === undefined || (first === undefined && free.get(node)! < total)) {
      issues.push({
        path: 'vms',
        message:
          `a simple zone keeps all ${needs.length} members on one node, and none has the ${formatMiB(total)} they need: ` +
          `${online.map((h) => `${h.node} ${formatMiB(Math.max(0, free.get(h.node)!))} free`).join(', ')}${reserve}`,
      });
      return { placements: new Map(), issues };
    }
    for (const n of needs) if (n.node === undefined) n.node = node;
  }

  // Automatic members, largest first, each to the node with the most memory left.
  const left = new Map(free);
  for (const n of needs) if (n.node !== undefined) left.set(n.node, (left.get(n.node) ?? 0) - n.mib);
  const homeless = new Map<number, Need[]>();
  const auto = needs.filter((n) => n.node === undefined).sort((a, b) => b.mib - a.mib);
  for (const n of auto) {
    let best: string | undefined;
    for (const h of online) {
      const room = left.get(h.node)!;
      if (room >= n.mib && (best === undefined || room > left.get(best)!)) best = h.node;
    }
    if (best === undefined) {
      homeless.set(n.member.vmIndex, [...(homeless.get(n.member.vmIndex) ?? []), n]);
      continue;
    }
    n.node = best;
    left.set(best, left.get(best)! - n.mib);
  }

  // Nodes given more than they have (pinned, confined and existing members).
  for (const h of online) {
    const there = needs.filter((n) => n.node === h.node && (n.placement !== 'automatic' || input.oneNode));
    const want = there.reduce((sum, n) => sum + n.mib, 0);
    if (want <= free.get(h.node)! || want === 0) continue;
    issues.push({
      path: pathOf(there.find((n) => n.because === 'node') ?? there[0]!),
      message:
        `node ${h.node} has ${formatMiB(Math.max(0, free.get(h.node)!))} memory free${reserve}, ` +
        `but this lab needs ${formatMiB(want)} there: ${summarize(there)}`,
    });
  }
  if (homeless.size > 0) {
    // One issue, at the VM entry that misses the most memory (usually the one whose count is too high).
    const all = [...homeless.values()].flat();
    const missing = (vmIndex: number) => homeless.get(vmIndex)!.reduce((s, n) => s + n.mib, 0);
    const worst = [...homeless.keys()].reduce((a, b) => (missing(b) > missing(a) ? b : a));
    const vm = input.vms[worst]!;
    issues.push({
      path: formatPath(['vms', worst, vm.count > 1 ? 'count' : 'memory']),
      message:
        `no node has room for ${summarize(all)}: memory left after the lab's other members: ` +
        `${online.map((h) => `${h.node} ${formatMiB(Math.max(0, left.get(h.node)!))}`).join(', ')}` +
        (input.memReserveFraction > 0
          ? ` (after each node's ${Math.round(input.memReserveFraction * 100)}% reserve)`
          : ''),
    });
  }
  const placements = new Map<string, Placement>();
  for (const n of needs)
    if (n.node !== undefined) placements.set(n.member.name, { node: n.node, placement: n.placement });
  return { placements, issues };
}

function pathOf(n: Need): string {
  const key = n.because === 'node' ? 'node' : n.because === 'template' ? 'template' : 'memory';
  return formatPath(['vms', n.member.vmIndex, key]);
}

/** `web-1 … web-4 (4 × 2 GiB), db-1 (8 GiB)` by VM entry, in file order. */
function summarize(needs: readonly Need[]): string {
  const groups = new Map<number, Need[]>();
  for (const n of [...needs].sort(
    (a, b) => a.member.vmIndex - b.member.vmIndex || a.member.ordinal - b.member.ordinal,
  )) {
    groups.set(n.member.vmIndex, [...(groups.get(n.member.vmIndex) ?? []), n]);
  }
  return [...groups.values()]
    .map((g) => {
      const names =
        g.length <= 3 ? g.map((n) => n.member.name).join(', ') : `${g[0]!.member.name} … ${g.at(-1)!.member.name}`;
      const sizes = new Set(g.map((n) => n.mib));
      const total = g.reduce((s, n) => s + n.mib, 0);
      const each = g.length > 1 && sizes.size === 1 ? `${g.length} × ${formatMiB(g[0]!.mib)}` : formatMiB(total);
      return `${names} (${each})`;
    })
    .join(', ');
}
