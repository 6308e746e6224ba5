// The lab's members and their dependency graph: `count` expands a VM into members `<vm>-1` … `<vm>-<n>` (or `<vm>`
// alone), `dependsOn` names VMs (all their members) or single members, and the waves are the graph's topological
// levels: wave 0 depends on nothing, wave k only on earlier waves. Cycles and unknown dependencies are issues that
// name the members.
import { formatPath, type LabIssue, quoteList } from './issues';
import { type LabVm, memberName } from './spec';

export interface LabMember {
  /** `web-2`, or `router` for a VM without count. */
  name: string;
  /** The VM entry it comes from. */
  vm: string;
  /** That entry's index in the file's `vms`. */
  vmIndex: number;
  /** 1-based position among the entry's members. */
  ordinal: number;
  /** Member names it depends on, in file order. */
  dependsOn: string[];
}

export interface LabGraph {
  members: LabMember[];
  /** Member names by dependency level; empty when the graph has a cycle. */
  waves: string[][];
  /** Unknown dependencies and cycles. */
  issues: LabIssue[];
}

type GraphVm = Pick<LabVm, 'name' | 'count' | 'dependsOn'>;

/** Every member of every VM, in file order (dependencies not yet resolved). */
export function expandMembers(vms: readonly Pick<LabVm, 'name' | 'count'>[]): LabMember[] {
  const members: LabMember[] = [];
  vms.forEach((vm, vmIndex) => {
    for (let ordinal = 1; ordinal <= vm.count; ordinal++) {
      members.push({ name: memberName(vm.name, ordinal, vm.count), vm: vm.name, vmIndex, ordinal, dependsOn: [] });
    }
  });
  return members;
}

interface Edge {
  to: string;
  /** Where the edge is written: `vms[i].dependsOn[j]`. */
  path: string;
}

export function buildLabGraph(vms: readonly GraphVm[]): LabGraph {
  const members = expandMembers(vms);
  const issues: LabIssue[] = [];
  // The first of duplicate names wins here; duplicates are their own issue (validate.ts).
  const byVm = new Map<string, LabMember[]>();
  const byName = new Map<string, LabMember>();
  for (const m of members) {
    if (!byVm.has(m.vm) || byVm.get(m.vm)![0]!.vmIndex === m.vmIndex) byVm.set(m.vm, [...(byVm.get(m.vm) ?? []), m]);
    if (!byName.has(m.name)) byName.set(m.name, m);
  }
  const edges = new Map<string, Edge[]>();
  vms.forEach((vm, vmIndex) => {
    // Members whose name an earlier one took get no edges: they are a duplicate-name issue, not a cycle.
    const own = members.filter((m) => m.vmIndex === vmIndex && byName.get(m.name) === m);
    vm.dependsOn.forEach((dep, depIndex) => {
      const path = formatPath(['vms', vmIndex, 'dependsOn', depIndex]);
      const targets = byVm.get(dep) ?? (byName.has(dep) ? [byName.get(dep)!] : undefined);
      if (!targets) {
        issues.push({ path, message: `unknown dependency '${dep}' (VMs: ${quoteList(vms.map((v) => v.name))})` });
        return;
      }
      for (const m of own) {
        for (const t of targets) {
          if (m.dependsOn.includes(t.name)) continue;
          m.dependsOn.push(t.name);
          edges.set(m.name, [...(edges.get(m.name) ?? []), { to: t.name, path }]);
        }
      }
    });
  });
  const cycles = findCycles(members, edges);
  issues.push(...cycles);
  return { members, waves: cycles.length > 0 ? [] : levels(members, byName), issues };
}

/** Kahn's algorithm by levels; members keep file order within a wave. */
function levels(members: readonly LabMember[], byName: ReadonlyMap<string, LabMember>): string[][] {
  const level = new Map<string, number>();
  const waves: string[][] = [];
  let remaining = members.filter((m) => byName.get(m.name) === m);
  while (remaining.length > 0) {
    const wave = remaining.filter((m) => m.dependsOn.every((d) => level.has(d)));
    if (wave.length === 0) break; // a cycle; reported by findCycles
    for (const m of wave) level.set(m.name, waves.length);
    waves.push(wave.map((m) => m.name));
    remaining = remaining.filter((m) => !level.has(m.name));
  }
  return waves;
}

/** One issue per strongly connected component that loops, naming one cycle and every member caught in it. */
function findCycles(members: readonly LabMember[], edges: ReadonlyMap<string, Edge[]>): LabIssue[] {
  // Tarjan's algorithm, iterative.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  const names = [...new Set(members.map((m) => m.name))];
  for (const root of names) {
    if (index.has(root)) continue;
    const work: { node: string; next: number }[] = [{ node: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const out = edges.get(frame.node) ?? [];
      if (frame.next < out.length) {
        const to = out[frame.next++]!.to;
        if (!index.has(to)) {
          index.set(to, counter);
          low.set(to, counter++);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, next: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let n: string;
        do {
          n = stack.pop()!;
          onStack.delete(n);
          component.push(n);
        } while (n !== frame.node);
        components.push(component);
      }
    }
  }
  const order = new Map(names.map((n, i) => [n, i]));
  const issues: { at: number; issue: LabIssue }[] = [];
  for (const component of components) {
    const inside = new Set(component);
    const start = component.reduce((a, b) => (order.get(a)! <= order.get(b)! ? a : b));
    const loop = cycleThrough(start, inside, edges);
    if (!loop) continue; // a single member without a self-edge
    const ordered = [...component].sort((a, b) => order.get(a)! - order.get(b)!);
    const all = ordered.length > loop.names.length - 1 ? ` (members in the cycle: ${ordered.join(', ')})` : '';
    issues.push({
      at: order.get(start)!,
      issue: { path: loop.path, message: `dependency cycle: ${loop.names.join(' → ')}${all}` },
    });
  }
  return issues.sort((a, b) => a.at - b.at).map((i) => i.issue);
}

/** The shortest way from `start` back to itself inside one component (breadth first). */
function cycleThrough(
  start: string,
  inside: ReadonlySet<string>,
  edges: ReadonlyMap<string, Edge[]>,
): { names: string[]; path: string } | undefined {
  const previous = new Map<string, string>();
  let frontier = [start];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const node of frontier) {
      for (const edge of edges.get(node) ?? []) {
        if (!inside.has(edge.to)) continue;
        if (edge.to === start) {
          const names = [start];
          for (let n = node; n !== start; n = previous.get(n)!) names.splice(1, 0, n);
          names.push(start);
          const first = (edges.get(start) ?? []).find((e) => e.to === (names[1] ?? start));
          return { names, path: first?.path ?? edge.path };
        }
        if (previous.has(edge.to)) continue;
        previous.set(edge.to, node);
        next.push(edge.to);
      }
    }
    frontier = next;
  }
  return undefined;
}
