// The checks of a lab's plan (lab-gate.ts runs them in order). Each judges the whole lab at once: every member the
// plan creates, changes, replaces, starts or removes, and every node a member is placed on. The sentences follow the
// request gate's checks (checks/*.ts) so a lab's decision reads like a request's.

import type { LabPlan, LabPlanItem } from '../lab';
import { formatIssue } from '../lab';
import type { MaintenanceSubject } from '../maintenance';
import { describeWindow, guestSubject, windowsCovering } from '../maintenance';
import type { Action, Role, VmInfo } from '../types';
import { ACTION_ROLE, hostKey, OVERSEER_ID, ROLE_RANK, vmKey } from '../types';
import { isProductionVm } from './checks/production';
import { gib, guestNoun, percent, plural, vmLabel } from './describe';
import type { LabDecisionInput, LabGateCheck } from './lab-gate';

type MemberItem = Extract<LabPlanItem, { kind: 'member' }>;

const MiB = 1024 ** 2;

/** What applying or destroying a lab needs as a whole (its pool and networks, its members created): a deploy's role. */
const LAB_ACTION: Action = 'deploy';

/** `lab 'tt'`: how sentences name the lab. */
export const labName = (plan: Pick<LabPlan, 'lab'>): string => `lab '${plan.lab}'`;

const memberItems = (plan: LabPlan): MemberItem[] =>
  plan.items.filter((item): item is MemberItem => item.kind === 'member');

/** The guest an item acts on as it exists now (none for a new member or the record of a guest already gone). */
function existingOf(item: MemberItem): { vmid: number; node: string } | undefined {
  if (item.op === 'create' || (item.op === 'remove' && item.gone)) return undefined;
  return { vmid: item.vmid, node: item.node };
}

const nameOf = (item: MemberItem): string => (item.op === 'remove' ? item.name : item.member.name);
const movesOf = (item: MemberItem): boolean => item.op === 'change' && item.changes.some((c) => c.field === 'node');

/** `destroy` for a plan that removes the lab's pool (planDestroy; an apply never does), else `apply`. */
const labVerb = (plan: LabPlan): 'apply' | 'destroy' =>
  plan.items.some((i) => i.kind === 'pool' && i.op === 'remove') ? 'destroy' : 'apply';

/** `db (VM lab/501)` for a guest that exists, `web-1` for a new member. */
function memberLabel(input: LabDecisionInput, item: MemberItem): string {
  const guest = existingOf(item);
  if (!guest) return nameOf(item);
  const vm = input.vms.get(vmKey(input.plan.cluster, guest.vmid));
  const noun = vm ? guestNoun(vm) : item.op === 'remove' ? 'VM' : guestNoun(item.member);
  return `${nameOf(item)} (${noun} ${input.plan.cluster}/${guest.vmid})`;
}

/** Entries grouped by key, in the order keys first appear. */
function grouped<T>(entries: readonly T[], key: (entry: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const e of entries) groups.set(key(e), [...(groups.get(key(e)) ?? []), e]);
  return groups;
}

export const labPlanCheck: LabGateCheck = {
  name: 'labPlan',
  run({ plan }) {
    if (plan.issues.length > 0) {
      return {
        outcome: 'deny',
        reason: `the plan of ${labName(plan)} has ${plural(plan.issues.length, 'problem')} nothing may be applied with: ${plan.issues.map(formatIssue).join('; ')}`,
      };
    }
    if (plan.items.length === 0) return { outcome: 'pass', reason: `${labName(plan)} has no changes to make` };
    const count = (op: LabPlanItem['op']) => plan.items.filter((i) => i.op === op).length;
    const counts = (['create', 'change', 'replace', 'start', 'remove'] as const).map((op) => `${count(op)} to ${op}`);
    return { outcome: 'pass', reason: `the plan of ${labName(plan)}: ${counts.join(', ')}` };
  },
};

/**
 * What each member item does, as the request action whose role it needs. Creating (a replacement's new guest too) needs
 * what the lab as a whole needs.
 */
function stepsOf(item: MemberItem): [doing: string, action: Action][] {
  if (item.op === 'create') return [['creating', LAB_ACTION]];
  if (item.op === 'replace') return [['replacing', 'destroy']];
  if (item.op === 'remove') return item.gone ? [] : [['removing', 'destroy']];
  if (item.op === 'start') return [item.from === 'paused' ? ['resuming', 'resume'] : ['starting', 'start']];
  const steps: [string, Action][] = [['changing', LAB_ACTION]];
  if (movesOf(item)) steps.push(['moving', 'migrate']);
  if (item.restart) steps.push(['restarting', 'reboot']);
  return steps;
}

export const labAuthorizationCheck: LabGateCheck = {
  name: 'authorization',
  run(input) {
    const { requester, plan } = input;
    const what = `${labVerb(plan)} ${labName(plan)}`;
    const steps = memberItems(plan).flatMap((item) =>
      stepsOf(item).map(([doing, action]) => ({ doing, action, item })),
    );
    const base = ROLE_RANK[ACTION_ROLE[LAB_ACTION]];
    let needed: Role = ACTION_ROLE[LAB_ACTION];
    for (const s of steps) if (ROLE_RANK[ACTION_ROLE[s.action]] > ROLE_RANK[needed]) needed = ACTION_ROLE[s.action];
    const rank = Object.hasOwn(ROLE_RANK, requester.role) ? ROLE_RANK[requester.role as Role] : undefined;
    if (rank === undefined || rank < base) {
      const who = rank === undefined ? `unknown role ${JSON.stringify(requester.role)}` : `role ${requester.role}`;
      return { outcome: 'deny', reason: `${who} may not ${what} (needs ${needed})` };
    }
    const above = (limit: number) => steps.filter((s) => ROLE_RANK[ACTION_ROLE[s.action]] > limit);
    const explain = (chosen: typeof steps) =>
      [...grouped(chosen, (s) => `${s.doing} ${s.action}`).values()]
        .map((g) => {
          const { doing, action } = g[0]!;
          const names = [...new Set(g.map((s) => memberLabel(input, s.item)))].join(', ');
          return `${doing} ${names} needs ${ACTION_ROLE[action]} (as ${action} does)`;
        })
        .join('; ');
    const over = above(rank);
    if (over.length > 0) return { outcome: 'deny', reason: `role ${requester.role} may not ${what}: ${explain(over)}` };
    const beyond = above(base);
    const why = beyond.length > 0 ? `: ${explain(beyond)}` : '';
    return { outcome: 'pass', reason: `role ${requester.role} may ${what} (needs ${needed}${why})` };
  },
};

export const labTargetCheck: LabGateCheck = {
  name: 'target',
  run({ plan, clusters, vms }) {
    const cluster = plan.cluster;
    const info = clusters.get(cluster);
    if (!info) return { outcome: 'deny', reason: `cluster ${cluster} is unknown` };
    if (!info.reachable) {
      return { outcome: 'deny', reason: `cluster ${cluster} is unreachable (its last inventory read failed)` };
    }
    const cloned = memberItems(plan).filter((i) => i.op === 'create' || i.op === 'replace');
    const byTemplate = grouped(cloned, (i) => String(i.member.template.vmid));
    const found: string[] = [];
    for (const items of byTemplate.values()) {
      const template = items[0]!.member.template;
      const names = items.map((i) => i.member.name).join(', ');
      const vm = vms.get(vmKey(cluster, template.vmid));
      if (!vm) {
        const reason = `template ${cluster}/${template.vmid} ('${template.name}') of ${names} does not exist`;
        return { outcome: 'deny', reason };
      }
      if (!vm.template) {
        return { outcome: 'deny', reason: `${vmLabel(vm)} is not a template: lab members clone templates only` };
      }
      found.push(vmLabel(vm, 'template'));
    }
    const templates = found.length > 0 ? `; ${found.join(', ')} ${found.length === 1 ? 'exists' : 'exist'}` : '';
    return { outcome: 'pass', reason: `cluster ${cluster} is reachable${templates}` };
  },
};

/** The nodes members are placed on and the guests the plan acts on, as maintenance windows see them. */
function maintenanceSubjects(input: LabDecisionInput): { subject: MaintenanceSubject; label: string }[] {
  const { cluster } = input.plan;
  const subjects = new Map<string, { subject: MaintenanceSubject; label: string }>();
  const items = memberItems(input.plan);
  for (const item of items) {
    if (item.op === 'remove') continue;
    const label = `node ${cluster}/${item.member.node}`;
    subjects.set(label, { subject: { cluster, node: item.member.node }, label });
  }
  for (const item of items) {
    const guest = existingOf(item);
    if (!guest) continue;
    const vm = input.vms.get(vmKey(cluster, guest.vmid));
    const subject = vm ? guestSubject(vm) : { cluster, vmid: guest.vmid, node: guest.node };
    const label = vm ? vmLabel(vm) : memberLabel(input, item);
    subjects.set(label, { subject, label });
  }
  return [...subjects.values()];
}

export const labMaintenanceCheck: LabGateCheck = {
  name: 'maintenance',
  run(input) {
    const subjects = maintenanceSubjects(input);
    if (subjects.length === 0) return { outcome: 'pass', reason: `${labName(input.plan)} touches no guest or node` };
    const held: string[] = [];
    for (const { subject, label } of subjects) {
      const [window] = windowsCovering(input.maintenance ?? [], subject, input.now);
      if (window) held.push(`${label} is in maintenance (${describeWindow(window)})`);
    }
    if (held.length === 0) {
      const nodes = subjects.filter((s) => s.subject.vmid === undefined).length;
      const guests = subjects.length - nodes;
      const what = [nodes > 0 ? plural(nodes, 'node') : '', guests > 0 ? plural(guests, 'guest') : ''].filter(Boolean);
      return {
        outcome: 'pass',
        reason: `none of the ${what.join(' and ')} ${labName(input.plan)} touches is in maintenance`,
      };
    }
    if (input.origin === 'overseer' || input.requester.id === OVERSEER_ID) {
      return { outcome: 'deny', reason: `${held.join('; ')}: Overseer leaves it alone` };
    }
    return { outcome: 'approval', reason: `${held.join('; ')}: acting on it needs a second person's approval` };
  },
};

/** An existing guest is production by the inventory (its tags, production.vms), else by the tags the file gives it. */
function isProduction(input: LabDecisionInput, vm: VmInfo | undefined, vmid: number, tags: readonly string[]): boolean {
  if (vm) return isProductionVm(vm, input.config);
  const { production } = input.config;
  return tags.some((t) => production.tags.includes(t)) || production.vms.includes(vmKey(input.plan.cluster, vmid));
}

/** How an item disrupts the guest it acts on, if it does: removed, replaced, restarted, or moved. */
function disruptionOf(item: MemberItem): 'remove' | 'replace' | 'restart' | 'move' | undefined {
  if (item.op === 'remove') return item.gone ? undefined : 'remove';
  if (item.op === 'replace') return 'replace';
  if (item.op === 'change' && item.restart) return 'restart';
  return movesOf(item) ? 'move' : undefined;
}

export const labProductionCheck: LabGateCheck = {
  name: 'production',
  run(input) {
    const { plan, config, force } = input;
    const verdicts: { outcome: 'deny' | 'approval' | 'pass'; reason: string }[] = [];
    for (const item of memberItems(plan)) {
      const how = disruptionOf(item);
      const guest = existingOf(item);
      if (!how || !guest) continue;
      const vm = input.vms.get(vmKey(plan.cluster, guest.vmid));
      const tags = item.op === 'remove' ? [] : (item.member.config.tags ?? []);
      if (!isProduction(input, vm, guest.vmid, tags)) continue;
      const label = `${memberLabel(input, item)} is production`;
      const ask = (what: string): (typeof verdicts)[number] =>
        config.production.requireApproval
          ? { outcome: 'approval', reason: `${label}: ${what} needs a second person's approval` }
          : { outcome: 'pass', reason: `${label}: ${what} allowed (no second approval configured)` };
      if (how === 'move') verdicts.push(ask(`moving it to ${item.op === 'remove' ? guest.node : item.member.node}`));
      else if (force) verdicts.push(ask(`forced ${how}`));
      else verdicts.push({ outcome: 'deny', reason: `${label}: ${how} needs force` });
    }
    for (const outcome of ['deny', 'approval'] as const) {
      const failing = verdicts.filter((v) => v.outcome === outcome);
      if (failing.length > 0) return { outcome, reason: failing.map((v) => v.reason).join('; ') };
    }
    const notes = verdicts.map((v) => v.reason);
    const tagged = memberItems(plan).flatMap((i) =>
      (i.op === 'create' || i.op === 'replace') && i.member.config.tags?.some((t) => config.production.tags.includes(t))
        ? [i.member.name]
        : [],
    );
    if (tagged.length > 0) {
      notes.push(`new members ${tagged.join(', ')} carry a production tag: they are production once created`);
    }
    if (notes.length === 0) notes.push(`${labName(plan)} removes, replaces or restarts no production guest`);
    return { outcome: 'pass', reason: notes.join('; ') };
  },
};

/** Earlier destructive requests submitted within (now - window, now]. */
function destructiveInWindow(input: LabDecisionInput): number {
  const start = input.now - input.config.massOperation.windowSeconds * 1000;
  return input.recentDestructive.filter((at) => at > start && at <= input.now).length;
}

export const labMassOperationCheck: LabGateCheck = {
  name: 'massOperation',
  run(input) {
    const { plan } = input;
    const { maxVmsPerRequest, maxDestructivePerWindow, windowSeconds, onExceed } = input.config.massOperation;
    // Every guest the plan touches counts once (a change and a start of one member are one); a record of a guest
    // already gone touches none.
    const touched = new Map<string, { name: string; ops: string[]; vmid?: number | undefined }>();
    let destructive = 0;
    for (const item of memberItems(plan)) {
      if (item.op === 'remove' && item.gone) continue;
      const guest = existingOf(item);
      const key = guest ? String(guest.vmid) : `+${nameOf(item)}`;
      const entry = touched.get(key) ?? { name: nameOf(item), ops: [], vmid: guest?.vmid };
      entry.ops.push(item.op);
      touched.set(key, entry);
      if (item.op === 'remove' || item.op === 'replace') destructive++;
    }
    const what = labName(plan);
    if (touched.size === 0) return { outcome: 'pass', reason: `${what} touches no guest` };
    const exceeded: string[] = [];
    const within: string[] = [];
    const count = plural(touched.size, 'guest');
    if (touched.size > maxVmsPerRequest) {
      exceeded.push(`${what} touches ${count}, more than the limit of ${maxVmsPerRequest} per request`);
    } else {
      within.push(`${what} touches ${count} (limit ${maxVmsPerRequest} per request)`);
    }
    if (destructive > 0) {
      const earlier = destructiveInWindow(input);
      const recent = plural(earlier, 'destructive operation');
      const window = `${windowSeconds} s`;
      if (earlier + destructive > maxDestructivePerWindow) {
        exceeded.push(
          `${recent} already in the last ${window} and ${destructive} more in this lab (limit ${maxDestructivePerWindow} per ${window})`,
        );
      } else {
        within.push(
          `${recent} earlier in the last ${window} and ${destructive} in this lab (limit ${maxDestructivePerWindow})`,
        );
      }
    }
    if (exceeded.length === 0) return { outcome: 'pass', reason: within.join('; ') };
    const listed = [...touched.values()]
      .map((t) => `${t.name} (${t.ops.join(' + ')}${t.vmid !== undefined ? `, VM ${t.vmid}` : ''})`)
      .join(', ');
    return { outcome: onExceed, reason: `mass-operation brake: ${exceeded.join('; ')}: ${listed}` };
  },
};

/**
 * The memory each member adds to the node it runs on once the plan is done: all of it for a member created, replaced
 * (the old guest stays until the new one is ready), started or moved; only what it grows by for one that keeps
 * running where it is.
 */
function landings(input: LabDecisionInput): { name: string; node: string; bytes: number }[] {
  const out: { name: string; node: string; bytes: number }[] = [];
  const seen = new Set<string>();
  for (const item of memberItems(input.plan)) {
    if (item.op === 'remove' || seen.has(item.member.name)) continue;
    seen.add(item.member.name);
    const { member } = item;
    const want = member.memory * MiB;
    const vm = item.op === 'create' ? undefined : input.vms.get(vmKey(input.plan.cluster, item.vmid));
    const runsThere = item.op !== 'replace' && vm?.node === member.node && ['running', 'paused'].includes(vm.status);
    const bytes = runsThere && vm ? Math.max(0, want - vm.maxmem) : want;
    if (bytes > 0) out.push({ name: member.name, node: member.node, bytes });
  }
  return out;
}

export const labCapacityCheck: LabGateCheck = {
  name: 'capacity',
  run(input) {
    const { plan, config } = input;
    const cluster = plan.cluster;
    const problems: string[] = [];
    const fits: string[] = [];
    const created = memberItems(plan).filter((i) => i.op === 'create' || i.op === 'replace').length;
    let inCluster = 0;
    for (const vm of input.vms.values()) if (vm.cluster === cluster) inCluster++;
    if (created > 0 && inCluster + created > config.deploy.maxVmsPerCluster) {
      problems.push(
        `cluster ${cluster} holds ${inCluster} VMs: ${created} more exceeds the limit of ${config.deploy.maxVmsPerCluster}`,
      );
    }
    const { memReserveFraction, maxCpuLoad } = config.capacity;
    for (const [node, there] of grouped(landings(input), (l) => l.node)) {
      const host = input.hosts.get(hostKey(cluster, node));
      if (!host) {
        problems.push(`cannot measure capacity: node ${node} is not in the inventory`);
        continue;
      }
      const need = there.reduce((sum, l) => sum + l.bytes, 0);
      const members = there.map((l) => `${l.name} (${gib(l.bytes)})`).join(', ');
      const free = host.maxmem - host.mem - memReserveFraction * host.maxmem;
      if (free < need) {
        problems.push(
          `node ${node} has ${gib(Math.max(0, free))} memory free after its ${percent(memReserveFraction)} reserve, ` +
            `but ${labName(plan)} needs ${gib(need)} there: ${members}`,
        );
      }
      if (host.cpu > maxCpuLoad) {
        problems.push(`node ${node} CPU load ${percent(host.cpu)} is above the limit of ${percent(maxCpuLoad)}`);
      }
      fits.push(`node ${node} fits ${members}: ${gib(free)} memory free after reserve, CPU load ${percent(host.cpu)}`);
    }
    if (problems.length > 0) return { outcome: 'deny', reason: problems.join('; ') };
    if (fits.length === 0) return { outcome: 'pass', reason: `${labName(plan)} needs no more memory on any node` };
    return { outcome: 'pass', reason: fits.join('; ') };
  },
};

export const labPlatformHealthCheck: LabGateCheck = {
  name: 'platformHealth',
  run({ plan, clusters, hosts }) {
    const cluster = plan.cluster;
    const info = clusters.get(cluster);
    if (!info) return { outcome: 'deny', reason: `cluster ${cluster} is unknown` };
    if (!info.quorate) return { outcome: 'deny', reason: `cluster ${cluster} has lost quorum: no mutating operation` };
    const nodes = new Set<string>();
    for (const item of memberItems(plan)) {
      if (item.op !== 'remove') nodes.add(item.member.node);
      const guest = existingOf(item);
      if (guest) nodes.add(guest.node);
    }
    const used = [...nodes].sort();
    const down: string[] = [];
    for (const node of used) {
      const host = hosts.get(hostKey(cluster, node));
      if (!host) down.push(`node ${node} is not in the inventory of cluster ${cluster}`);
      else if (host.status === 'offline') down.push(`node ${node} is offline`);
      else if (host.status !== 'online') down.push(`node ${node} is in an unknown state`);
    }
    if (down.length > 0) return { outcome: 'deny', reason: down.join('; ') };
    if (used.length === 0) return { outcome: 'pass', reason: `cluster ${cluster} is quorate` };
    const shown = used.length === 1 ? `node ${used[0]} is` : `nodes ${used.join(', ')} are`;
    return { outcome: 'pass', reason: `cluster ${cluster} is quorate and ${shown} online` };
  },
};
