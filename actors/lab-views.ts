// A lab as the protocol shows it: from its live actor when it runs, else from its record.

import { buildLabGraph, formatPlan, guestName } from '../machines/lab';
import type { LabContext, MemberState } from '../machines/lab.machine';
import type { LabView } from '../protocol/lab-schemas';
import type { LabRecord } from '../state';

const memberView = (name: string, m: MemberState): LabView['members'][number] => ({
  name,
  vm: m.member.vm,
  guestName: m.member.guestName,
  wave: m.member.wave,
  dependsOn: m.member.dependsOn,
  phase: m.phase,
  ...(m.vmid !== undefined ? { vmid: m.vmid } : {}),
  ...(m.node !== undefined ? { node: m.node } : {}),
  ...(m.readyAt !== undefined ? { readyAt: m.readyAt } : {}),
  ...(m.error !== undefined ? { error: m.error } : {}),
});

/** An ended lab's members: its file's graph (VM, wave, dependencies) with where each member was. */
function recordMembers(record: LabRecord): LabView['members'] {
  const graph = buildLabGraph(record.spec.vms);
  const waveOf = new Map(graph.waves.flatMap((names, wave) => names.map((n) => [n, wave] as const)));
  const known = new Map(graph.members.map((m) => [m.name, m]));
  return Object.entries(record.members).map(([name, ref]) => ({
    name,
    vm: known.get(name)?.vm ?? name,
    guestName: guestName(record.name, name),
    wave: waveOf.get(name) ?? 0,
    dependsOn: known.get(name)?.dependsOn ?? [],
    phase: ref.phase ?? 'planned',
    ...(ref.vmid !== undefined ? { vmid: ref.vmid } : {}),
    ...(ref.node !== undefined ? { node: ref.node } : {}),
  }));
}

/** The view of a lab: the record for what is stored, the live context (when there is one) for the rest. */
export function labView(record: LabRecord, live?: { status: string; context: LabContext }): LabView {
  const c = live?.context;
  const members = c ? Object.entries(c.members).map(([name, m]) => memberView(name, m)) : recordMembers(record);
  const work = c?.work;
  return {
    name: record.name,
    cluster: record.cluster,
    status: live?.status ?? record.status,
    generation: c?.generation ?? 0,
    requester: {
      id: record.requester.id,
      role: record.requester.role,
      ...(record.requester.name ? { name: record.requester.name } : {}),
    },
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    ...(record.endedAt !== undefined ? { endedAt: record.endedAt } : {}),
    ...(c?.decision ? { decision: c.decision } : {}),
    reasons: c?.reasons ?? (record.error ? [record.error] : []),
    checks: c?.checks ?? [],
    ...(c?.approvedBy ? { approvedBy: c.approvedBy } : {}),
    members,
    ...(work
      ? {
          progress: {
            reason: work.reason,
            clone: work.clone,
            configure: work.configure,
            start: work.start,
            ready: work.ready,
          },
        }
      : {}),
    created: (c?.created ?? record.created).map((t) => ({ kind: t.kind, id: t.id, generation: t.generation })),
    snapshots: c?.snapshots ?? [],
    plan: c?.plan ? formatPlan(c.plan) : [],
    ...(c?.failure ? { failure: c.failure } : {}),
    drift: (c?.drift ?? []).map((d) => ({ member: d.member, state: d.state, at: d.at })),
    ...(c?.expiresAt !== undefined ? { expiresAt: c.expiresAt } : {}),
    ended: record.endedAt !== undefined,
  };
}
