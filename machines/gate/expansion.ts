// A bulk request's expansion: the members it stands for. A request with target.selector is one guest action on each
// guest the selector names (machines/gate/selector.ts); a drain is a migrate of each guest of its node
// (machines/gate/drain-plan.ts). Members with nothing to do — a power action already in effect, a selector's migrate
// of a guest already on the destination — are left out and named. The expansion fails, with one sentence, for an
// unknown or unreachable cluster, a malformed selector, a selector that matches no guest, or a drain that cannot be
// planned. Each member is judged on its own member request: the bulk request with the member's action, VMID and
// parameters (member requests of a migrate see the destinations' memory as the earlier moves of the unit left it).
import type { BulkMember, HostInfo, RequestSpec } from '../types';
import { BULK_ACTIONS, hostKey, vmKey } from '../types';
import { plural, shortLabel } from './describe';
import { describeDrainPlan, drainMembers, planDrain } from './drain-plan';
import { powerStateReached } from './in-effect';
import { expandSelector, parseSelector } from './selector';
import { migrateSubject, targetVm } from './subject';
import type { GateInput } from './types';

/** A request with a selector, or a drain: gated as one unit of members. */
export function isBulkRequest(request: RequestSpec): boolean {
  return request.target.selector !== undefined || request.action === 'drain';
}

/** A member left out of the unit, and why (`is already stopped`). */
export interface LeftOutMember {
  member: BulkMember;
  why: string;
}

export interface BulkExpansion {
  /** `@tag:web,-105`, or `drain of node lab/pve1`. */
  label: string;
  /** The members with work to do, by VMID. */
  members: BulkMember[];
  /** Members with nothing to do. */
  leftOut: LeftOutMember[];
  /** The sentence the expansion check records. */
  sentence: string;
}

export type BulkExpanding = { ok: true; expansion: BulkExpansion } | { ok: false; reason: string };

/** `@tag:web` for a selector request, `drain of node lab/pve1` for a drain. */
export function bulkLabel(request: RequestSpec): string {
  const { cluster, node, selector } = request.target;
  if (request.action === 'drain') return `drain of node ${cluster}/${node}`;
  return String(selector);
}

/** A member's own request: the bulk request with the member's action, VMID and parameters, its parent the unit. */
export function memberSpec(request: RequestSpec, member: BulkMember): RequestSpec {
  return {
    ...request,
    action: member.action,
    target: { cluster: request.target.cluster, vmid: member.vmid },
    params: member.params,
    parent: request.id,
  };
}

/** `101 (web-1)`: a member as sentences name it. */
export function memberLabelIn(input: GateInput, vmid: number): string {
  return shortLabel(vmid, input.vms.get(vmKey(input.request.target.cluster, vmid)));
}

/**
 * The gate input of each member, in order. A member migrate sees its destination with the memory (and, with local
 * disks, the storage) of the unit's earlier migrates to it already taken.
 */
export function memberInputs(input: GateInput, members: readonly BulkMember[]): GateInput[] {
  let hosts: ReadonlyMap<string, HostInfo> = input.hosts;
  return members.map((member) => {
    const memberInput: GateInput = { ...input, request: memberSpec(input.request, member), hosts };
    const move = migrateSubject(memberInput.request);
    const vm = targetVm(memberInput)?.vm;
    const key = move ? hostKey(input.request.target.cluster, move.target) : undefined;
    const host = key ? hosts.get(key) : undefined;
    if (move && vm && key && host) {
      const next = new Map(hosts);
      next.set(key, {
        ...host,
        mem: host.mem + vm.maxmem,
        disk: move.withLocalDisks ? host.disk + vm.maxdisk : host.disk,
      });
      hosts = next;
    }
    return memberInput;
  });
}

/** Why a member has nothing to do (`is already stopped`), or undefined. */
function nothingLeft(memberInput: GateInput): string | undefined {
  const reached = powerStateReached(memberInput);
  if (reached !== undefined) return `is already ${reached}`;
  const move = migrateSubject(memberInput.request);
  const vm = targetVm(memberInput)?.vm;
  if (move && vm && vm.node === move.target) return `is already on node ${move.target}`;
  return undefined;
}

/** A selector request's candidate members, or why it has none. */
function selectorCandidates(input: GateInput): { members: BulkMember[]; notes: string[] } | { reason: string } {
  const { request } = input;
  const { cluster, selector } = request.target;
  if (!BULK_ACTIONS.has(request.action)) return { reason: `${request.action} cannot take a selector` };
  const parsed = parseSelector(String(selector));
  if (!parsed.ok) return { reason: `selector ${String(selector)} is malformed: ${parsed.error}` };
  const { vmids, templates } = expandSelector(parsed.selector, cluster, input.vms.values());
  const notes = templates.map((t) => `template ${shortLabel(t.vmid, t)} is never a member`);
  if (vmids.length === 0) {
    const why = notes.length > 0 ? ` (${notes.join('; ')})` : '';
    return { reason: `selector ${parsed.selector.text} matches no guest in cluster ${cluster}${why}` };
  }
  const params = request.params as Record<string, unknown>;
  return { members: vmids.map((vmid) => ({ vmid, action: request.action, params: { ...params } })), notes };
}

/** Expands a bulk request against the inventory of its cluster. */
export function expandBulk(input: GateInput): BulkExpanding {
  const { request } = input;
  const { cluster } = request.target;
  const label = bulkLabel(request);
  const info = input.clusters.get(cluster);
  if (!info) return { ok: false, reason: `cluster ${cluster} is unknown: ${label} cannot be expanded` };
  if (!info.reachable) {
    return {
      ok: false,
      reason: `cluster ${cluster} is unreachable (its last inventory read failed): ${label} cannot be expanded`,
    };
  }

  let candidates: BulkMember[];
  let describe: (members: readonly BulkMember[]) => string;
  let notes: string[] = [];
  if (request.action === 'drain') {
    const node = request.target.node;
    if (typeof node !== 'string') return { ok: false, reason: 'drain names no node (target.node)' };
    const planning = planDrain(input, node);
    if (!planning.ok) return { ok: false, reason: planning.reason };
    candidates = drainMembers(planning.plan);
    describe = (members) => `${label} moves ${plural(members.length, 'guest')}: ${describeDrainPlan(planning.plan)}`;
  } else {
    const found = selectorCandidates(input);
    if ('reason' in found) return { ok: false, reason: found.reason };
    candidates = found.members;
    notes = found.notes;
    const name = (m: BulkMember) => memberLabelIn(input, m.vmid);
    describe = (members) => `${label} expands to ${plural(members.length, 'guest')}: ${members.map(name).join(', ')}`;
  }

  const members: BulkMember[] = [];
  const leftOut: LeftOutMember[] = [];
  const inputs = memberInputs(input, candidates);
  candidates.forEach((member, i) => {
    const why = nothingLeft(inputs[i] as GateInput);
    if (why === undefined) members.push(member);
    else leftOut.push({ member, why });
  });
  const gone = leftOut.map((l) => `${memberLabelIn(input, l.member.vmid)} ${l.why}`).join(', ');
  let sentence: string;
  if (members.length === 0) {
    sentence = `${label} matches ${plural(leftOut.length, 'guest')}, none with anything to do: ${gone}`;
  } else {
    sentence = describe(members);
    if (leftOut.length > 0) sentence += `; left out: ${gone}`;
  }
  if (notes.length > 0) sentence += `; ${notes.join('; ')}`;
  return { ok: true, expansion: { label, members, leftOut, sentence } };
}

/** The members of a bulk request as the gate decides them, or undefined when it is not bulk or does not expand. */
export function bulkMembers(input: GateInput): BulkMember[] | undefined {
  if (!isBulkRequest(input.request)) return undefined;
  const expanded = expandBulk(input);
  return expanded.ok ? expanded.expansion.members : undefined;
}
