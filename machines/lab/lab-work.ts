// The lab actor's bookkeeping, pure: which members may begin a step now (dependency waves, dependency order,
// parallelism), what each step's answer changes in the context, and what a rollback or teardown removes.
import type {
  CreatedItem,
  CreatedThing,
  LabContext,
  LabStep,
  LabWork,
  MemberPhase,
  MemberState,
  StepProgress,
} from './lab-types';
import { LAB_DEFAULTS, type LabSpec } from './spec';

export interface EffectivePolicy {
  parallelism: number;
  onFailure: 'rollback' | 'keep';
  drift: 'repair' | 'report';
  ttl?: number | undefined;
}

/** The lab file's policy (the parser fills in its defaults; a snapshot from before a default existed gets it here). */
export function policyOf(spec: LabSpec): EffectivePolicy {
  const p = spec.policy;
  return {
    parallelism: Math.max(1, Math.floor(p?.parallelism ?? LAB_DEFAULTS.parallelism)),
    onFailure: p?.onFailure ?? LAB_DEFAULTS.onFailure,
    drift: p?.drift ?? LAB_DEFAULTS.drift,
    ttl: p?.ttl,
  };
}

/**
 * The idempotency key of a step: the same for the same step of the same apply, whenever it is run, and never the
 * same for two labs — a name used again after its lab ended is another lab (its first submission time tells).
 */
export function stepKey(context: LabContext, step: string, member?: string): string {
  return `${labKey(context)}:${context.generation}:${step}${member === undefined ? '' : `:${member}`}`;
}

/** What tells this lab from another of the same name: `<name>.<submitted, base 36>`. */
export const labKey = (context: Pick<LabContext, 'name' | 'submittedAt'>): string =>
  `${context.name}.${context.submittedAt.toString(36)}`;

export const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export const sameThing = (a: CreatedItem, b: CreatedItem): boolean =>
  a.kind === b.kind && String(a.id) === String(b.id);
export const isVm = (c: CreatedItem, vmid: number): boolean => c.kind === 'vm' && c.id === vmid;

export const progress = (todo: string[] = []): StepProgress => ({ todo, running: [], done: [], failed: [] });

/** The members whose step may begin now: dependency waves for clones, dependency order for starts. */
export function eligibleMembers(context: LabContext, step: LabStep): string[] {
  const work = context.work;
  if (!work || work.halted) return [];
  const p = work[step];
  if (p.todo.length === 0) return [];
  const limit = step === 'ready' ? Number.POSITIVE_INFINITY : policyOf(context.spec).parallelism;
  const free = limit - p.running.length;
  if (free <= 0) return [];
  const waveOf = (name: string) => context.members[name]?.member.wave ?? 0;
  let candidates = p.todo;
  if (step === 'clone') {
    // A wave begins when every member of the waves before it is cloned.
    const current = Math.min(...[...p.todo, ...p.running].map(waveOf));
    candidates = p.todo.filter((name) => waveOf(name) <= current);
  } else if (step === 'start') {
    // A member starts once every dependency this work starts is ready.
    const inWork = new Set([...work.start.todo, ...work.start.running, ...work.start.done]);
    const ready = new Set(work.ready.done);
    candidates = p.todo.filter((name) =>
      (context.members[name]?.member.dependsOn ?? []).every((dep) => !inWork.has(dep) || ready.has(dep)),
    );
  }
  return candidates.slice(0, free);
}

const PHASE_RUNNING: Readonly<Record<LabStep, MemberPhase>> = {
  clone: 'cloning',
  configure: 'configuring',
  start: 'starting',
  ready: 'booting',
};

export function setMember(
  members: Record<string, MemberState>,
  name: string,
  change: Partial<MemberState>,
): Record<string, MemberState> {
  const known = members[name];
  return known ? { ...members, [name]: { ...known, ...change } } : members;
}

/** The context once `names` began `step`. */
export function beginSteps(context: LabContext, step: LabStep, names: string[]): Partial<LabContext> {
  const work = context.work;
  if (!work) return {};
  const p = work[step];
  let members = context.members;
  for (const name of names) members = setMember(members, name, { phase: PHASE_RUNNING[step] });
  const next = { ...p, todo: p.todo.filter((n) => !names.includes(n)), running: [...p.running, ...names] };
  return { members, work: { ...work, [step]: next } };
}

/** `<step>.<member>` → the step and member of a spawned step actor's id. */
export function parseStepId(actorId: string): { step: LabStep; member: string } | undefined {
  const dot = actorId.indexOf('.');
  const step = actorId.slice(0, dot);
  if (dot < 0 || !['clone', 'configure', 'start', 'ready'].includes(step)) return undefined;
  return { step: step as LabStep, member: actorId.slice(dot + 1) };
}

/** The context once a member's step answered. */
export function finishStep(context: LabContext, actorId: string, output: unknown): Partial<LabContext> {
  const parsed = parseStepId(actorId);
  const work = context.work;
  if (!parsed || !work) return {};
  const { step, member } = parsed;
  const p = work[step];
  if (!p.running.includes(member)) return {};
  const next: LabWork = {
    ...work,
    [step]: { ...p, running: p.running.filter((n) => n !== member), done: [...p.done, member] },
  };
  let members = context.members;
  let created = context.created;
  if (step === 'clone') {
    const { vmid, node } = output as { vmid: number; node: string };
    members = setMember(members, member, { phase: 'cloned', vmid, node, error: undefined });
    created = [...created, { kind: 'vm', id: vmid, node, member, generation: work.generation }];
  } else if (step === 'configure') {
    // A member moved by its changes is on its new node.
    const node = (output as { node?: string } | undefined)?.node;
    const vmid = members[member]?.vmid;
    members = setMember(members, member, { phase: member in work.changes ? 'ready' : 'configured' });
    if (node !== undefined && vmid !== undefined) {
      members = setMember(members, member, { node });
      created = created.map((c) => (isVm(c, vmid) ? { ...c, node } : c));
    }
  } else if (step === 'start') {
    members = setMember(members, member, { phase: 'booting' });
    next.ready = { ...next.ready, todo: [...next.ready.todo, member] };
  } else {
    const at = (output as { at?: number } | undefined)?.at;
    members = setMember(members, member, { phase: 'ready', ...(at !== undefined ? { readyAt: at } : {}) });
  }
  return { work: next, members, created };
}

/** What a failed step reports it created or removed before failing (a LabStepError's lists). */
function itemsOf(error: unknown, field: 'created' | 'removed'): CreatedItem[] {
  const items = (error as Record<string, unknown> | null)?.[field];
  return Array.isArray(items) ? (items as CreatedItem[]) : [];
}

/** Adds what a step created, once each. */
export function withCreated(context: LabContext, items: CreatedItem[]): CreatedThing[] {
  const generation = context.work?.generation ?? context.generation;
  const fresh = items.filter((item) => !context.created.some((c) => sameThing(c, item)));
  return [...context.created, ...fresh.map((item) => ({ ...item, generation }))];
}

/** Drops what was removed. */
export function withoutRemoved(created: CreatedThing[], removed: CreatedItem[]): CreatedThing[] {
  return created.filter((c) => !removed.some((r) => sameThing(c, r)));
}

/** The context once a member's step failed: the work halts, the first failure is kept. */
export function failStep(context: LabContext, actorId: string, error: unknown): Partial<LabContext> {
  const parsed = parseStepId(actorId);
  const work = context.work;
  if (!parsed || !work) return { failure: context.failure ?? { step: actorId, error: errorText(error) } };
  const { step, member } = parsed;
  const p = work[step];
  const created = itemsOf(error, 'created');
  let members = setMember(context.members, member, { phase: 'failed', error: errorText(error) });
  const vm = created.find((c) => c.kind === 'vm');
  if (vm) members = setMember(members, member, { vmid: vm.id, node: vm.node });
  const next = { ...p, running: p.running.filter((n) => n !== member), failed: [...p.failed, member] };
  return {
    work: { ...work, halted: true, [step]: next },
    members,
    created: withCreated(context, created),
    failure: context.failure ?? { step, member, error: errorText(error) },
  };
}

/** The context once a whole-lab step (networks, removal) failed. */
export function failWholeStep(context: LabContext, step: string, error: unknown): Partial<LabContext> {
  const removed = itemsOf(error, 'removed');
  return {
    work: context.work ? { ...context.work, halted: true } : undefined,
    created: withoutRemoved(withCreated(context, itemsOf(error, 'created')), removed),
    members: membersAfterRemoval(context.members, removed),
    failure: context.failure ?? { step, error: errorText(error) },
  };
}

/** The context once a rollback or teardown failed: what it removed before failing is gone, the rest kept. */
export function failRemoval(context: LabContext, error: unknown): Partial<LabContext> {
  const removed = itemsOf(error, 'removed');
  return {
    created: withoutRemoved(context.created, removed),
    members: membersAfterRemoval(context.members, removed),
    failure: { step: 'remove', error: errorText(error) },
  };
}

const strip = (t: CreatedThing): CreatedItem => {
  const { generation: _, ...item } = t;
  return item as CreatedItem;
};

/** What a rollback removes, newest first: the failed apply's things once the lab was deployed, else all. */
export function rollbackList(context: LabContext): CreatedItem[] {
  const generation = context.work?.generation ?? context.generation;
  const mine = context.deployed ? context.created.filter((c) => c.generation === generation) : context.created;
  return [...mine].reverse().map(strip);
}

/** Everything the lab created, newest first (a teardown). */
export const teardownList = (context: LabContext): CreatedItem[] => [...context.created].reverse().map(strip);

/** Members whose VM went with `removed` (the VM they have now, not one they replaced), marked `phase`. */
export function membersAfterRemoval(
  members: Record<string, MemberState>,
  removed: CreatedItem[],
  phase: MemberPhase = 'removed',
): Record<string, MemberState> {
  let next = members;
  for (const r of removed) {
    if (r.kind === 'vm' && next[r.member]?.vmid === r.id) next = setMember(next, r.member, { phase });
  }
  return next;
}

/** After a rollback: what the work brought in is removed (gone again, for a repair); a replaced VM is back. */
export function membersAfterRollback(context: LabContext, removed: CreatedItem[]): Record<string, MemberState> {
  const clone = context.work?.clone;
  const names = clone ? [...clone.todo, ...clone.running, ...clone.done, ...clone.failed] : [];
  const phase: MemberPhase = context.work?.reason === 'repair' ? 'gone' : 'removed';
  let members = membersAfterRemoval(context.members, removed, phase);
  for (const name of names) {
    const known = members[name];
    if (!known) continue;
    const old = known.replaces;
    members = old
      ? setMember(members, name, { vmid: old.vmid, node: old.node, phase: old.phase, replaces: undefined })
      : setMember(members, name, { phase });
  }
  return members;
}

/** The context once the work is done: the lab is as its file says; its time-to-live counts from its first ready. */
export function completeWork(context: LabContext): Partial<LabContext> {
  let members = context.members;
  for (const [name, state] of Object.entries(members)) {
    if (state.replaces) members = setMember(members, name, { replaces: undefined });
  }
  const times = Object.values(members).flatMap((m) => (m.readyAt !== undefined ? [m.readyAt] : []));
  const readyAt =
    context.readyAt ?? (times.length ? Math.max(...times) : (context.approvedBy?.at ?? context.submittedAt));
  const ttl = policyOf(context.spec).ttl;
  return {
    deployed: true,
    appliedSpec: context.spec,
    work: undefined,
    members,
    readyAt,
    expiresAt: ttl === undefined ? undefined : readyAt + ttl,
    // Drift the work put right (repaired, or started again by an apply) is over.
    drift: context.drift.filter((d) => members[d.member]?.phase !== 'ready'),
  };
}

/** Members that exist now (with their VM), in order of creation. */
export function existingMembers(context: LabContext): Array<{ member: string; vmid: number; node: string }> {
  return context.created.flatMap((c) =>
    c.kind === 'vm' && context.members[c.member]?.vmid === c.id && context.members[c.member]?.phase !== 'removed'
      ? [{ member: c.member, vmid: c.id, node: c.node }]
      : [],
  );
}
