// The work a lab takes on, pure: what an approved plan asks for (members to clone, configure, start or restart,
// things to remove once the rest is ready), and what drift of a ready lab asks for when it is repaired.
import type { CreatedItem, DriftReport, LabContext, LabWork, MemberState, WorkReason } from './lab-types';
import { isVm, progress } from './lab-work';
import type { ResolvedMember } from './model';
import type { FieldChange, LabPlan, LabPlanItem } from './plan-items';

/** Member names in dependency-wave order (stable within a wave). */
function byWave(members: Record<string, MemberState>, names: string[]): string[] {
  const wave = (n: string) => members[n]?.member.wave ?? 0;
  return names
    .map((n, i) => ({ n, i }))
    .sort((a, b) => wave(a.n) - wave(b.n) || a.i - b.i)
    .map(({ n }) => n);
}

/** A network item the plan removes, as the thing the lab created (the SDN apply after it is the removal's own). */
function networkThing(item: LabPlanItem): CreatedItem | undefined {
  if (item.kind === 'pool') return { kind: 'pool', id: item.pool };
  if (item.kind === 'zone') return { kind: 'zone', id: item.zone.name };
  if (item.kind === 'vnet') return { kind: 'vnet', id: item.vnet.name };
  if (item.kind !== 'subnet') return undefined;
  const id = `${item.zone}-${item.subnet.cidr.replace('/', '-')}`;
  return { kind: 'subnet', id, vnet: item.vnet };
}

/** The work an approved plan asks for, and the members and records it changes at once. */
export function beginPlannedWork(context: LabContext, plan: LabPlan, reason: WorkReason): Partial<LabContext> {
  const networks: LabPlanItem[] = [];
  const netRemovals: CreatedItem[] = [];
  const vmRemovals: CreatedItem[] = [];
  const create: string[] = [];
  const start: string[] = [];
  const restart: string[] = [];
  const changes: Record<string, FieldChange[]> = {};
  const members = { ...context.members };
  let created = context.created;
  let lastNetOp: string | undefined;
  const keep = (member: ResolvedMember, vmid: number, node: string): MemberState => ({
    phase: 'ready',
    ...members[member.name],
    member,
    vmid,
    node,
  });
  for (const item of plan.items) {
    if (item.kind !== 'member') {
      if (item.kind === 'sdn' && lastNetOp === 'remove') continue;
      if (item.op === 'remove') {
        const thing = networkThing(item);
        if (thing) netRemovals.push(thing);
      } else networks.push(item);
      lastNetOp = item.op;
      continue;
    }
    if (item.op === 'remove') {
      // A member already gone: only its record goes.
      if (item.gone) created = created.filter((c) => !isVm(c, item.vmid));
      else vmRemovals.push({ kind: 'vm', id: item.vmid, node: item.node, member: item.name });
      if (members[item.name]) members[item.name] = { ...(members[item.name] as MemberState), phase: 'removed' };
      continue;
    }
    const name = item.member.name;
    if (item.op === 'create') {
      if (item.replaces !== undefined) created = created.filter((c) => !isVm(c, item.replaces as number));
      members[name] = { member: item.member, phase: 'planned' };
      create.push(name);
    } else if (item.op === 'replace') {
      vmRemovals.push({ kind: 'vm', id: item.vmid, node: item.node, member: name });
      const replaces = { vmid: item.vmid, node: item.node, phase: members[name]?.phase ?? 'ready' };
      members[name] = { member: item.member, phase: 'planned', replaces };
      create.push(name);
    } else if (item.op === 'change') {
      members[name] = keep(item.member, item.vmid, item.node);
      changes[name] = item.changes;
      if (item.restart) restart.push(name);
    } else {
      members[name] = keep(item.member, item.vmid, item.node);
      start.push(name);
    }
  }
  const clone = byWave(members, create);
  const work: LabWork = {
    reason,
    generation: context.generation,
    networks,
    clone: progress(clone),
    configure: progress([...clone, ...Object.keys(changes)]),
    start: progress(byWave(members, [...clone, ...start, ...restart])),
    ready: progress(),
    changes,
    restart,
    remove: [...vmRemovals, ...netRemovals],
    halted: false,
  };
  return { work, members, created };
}

/** The drift that changes something: a member gone that was there, a ready member stopped. */
export function newDrift(
  context: LabContext,
  reported: Array<{ member: string; state: 'gone' | 'stopped' }>,
  at: number,
): DriftReport[] {
  const out: DriftReport[] = [];
  for (const { member, state } of reported) {
    const known = context.members[member];
    if (!known || out.some((d) => d.member === member)) continue;
    const counts = state === 'gone' ? !['gone', 'removed', 'planned'].includes(known.phase) : known.phase === 'ready';
    if (counts) out.push({ member, state, at, vmid: known.vmid });
  }
  return out;
}

/** The context once drift is known: gone members' VMs are no longer the lab's to remove. */
export function recordDrift(context: LabContext, drift: DriftReport[]): Partial<LabContext> {
  const members = { ...context.members };
  for (const d of drift) {
    const known = members[d.member];
    if (known) members[d.member] = { ...known, phase: d.state };
  }
  const gone = drift.filter((d) => d.state === 'gone' && d.vmid !== undefined).map((d) => d.vmid as number);
  return {
    drift: [...context.drift.filter((d) => !drift.some((n) => n.member === d.member)), ...drift],
    members,
    created: context.created.filter((c) => !gone.some((vmid) => isVm(c, vmid))),
  };
}

/** The work that repairs drifted members: gone ones cloned and configured again, all of them started. */
export function repairWork(context: LabContext, generation: number): LabWork {
  const gone = context.drift.filter((d) => d.state === 'gone').map((d) => d.member);
  const clone = byWave(context.members, gone);
  return {
    reason: 'repair',
    generation,
    networks: [],
    clone: progress(clone),
    configure: progress(clone),
    start: progress(
      byWave(
        context.members,
        context.drift.map((d) => d.member),
      ),
    ),
    ready: progress(),
    changes: {},
    restart: [],
    remove: [],
    halted: false,
  };
}
