// Check parent, for a member of a bulk request or a lab (request.parent set; only the runtime makes such requests): its
// parent's decision covers it. It passes only when the parent's recorded members (input.parentMembers, read from the
// parent's live record) list this member's guest with the same action and the same parameters; anything else denies,
// saying what differs. A member is gated by schema and this check instead of the whole gate (its parent was gated as
// a unit), then re-checked before execution like any request.
import type { BulkMember } from '../../types';
import { NEW_GUEST, vmKey } from '../../types';
import type { GateCheck } from '../types';

/** Deep equality of JSON-like values; a key whose value is undefined counts as absent. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  }
  const left = Object.entries(a as Record<string, unknown>).filter(([, v]) => v !== undefined);
  const right = Object.entries(b as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (left.length !== right.length) return false;
  const other = b as Record<string, unknown>;
  return left.every(([key, value]) => Object.hasOwn(other, key) && sameValue(value, other[key]));
}

const shown = (params: unknown): string => JSON.stringify(params) ?? String(params);

/** How a parent is named in a sentence: a lab (`lab:<cluster>/<name>`) or a bulk request. */
const parentLabel = (parent: string): string =>
  parent.startsWith('lab:') ? `lab ${parent.slice(4)}` : `bulk request ${parent}`;

export const parentCheck: GateCheck = {
  name: 'parent',
  run(input) {
    const { request } = input;
    const parent = request.parent;
    if (parent === undefined)
      return { outcome: 'deny', reason: `request ${request.id} is not a member of a bulk request` };
    const { cluster, vmid } = request.target;
    // A deploy member (a lab's clone) creates its guest: it is known by its parameters, not by a VMID.
    const creates = request.action === 'deploy';
    if (vmid === undefined && !creates)
      return { outcome: 'deny', reason: `member request ${request.id} names no guest` };
    const guest = creates ? `a new guest in ${cluster}` : `guest ${vmKey(cluster, vmid as number)}`;
    const by = parentLabel(parent);
    const members: readonly BulkMember[] | undefined = input.parentMembers;
    if (!members) {
      return {
        outcome: 'deny',
        reason: `the members of ${by} were not read: ${request.action} of ${guest} cannot be verified`,
      };
    }
    const mine = members.filter((m) => m.vmid === (creates ? NEW_GUEST : vmid));
    if (mine.length === 0) return { outcome: 'deny', reason: `${by} lists no member for ${guest}` };
    const sameAction = mine.filter((m) => m.action === request.action);
    if (sameAction.length === 0) {
      const listed = [...new Set(mine.map((m) => m.action))].join(', ');
      return { outcome: 'deny', reason: `${by} lists ${guest} for ${listed}, not ${request.action}` };
    }
    if (!sameAction.some((m) => sameValue(m.params, request.params))) {
      return {
        outcome: 'deny',
        reason:
          `${by} lists ${request.action} of ${guest} with other parameters: ` +
          `${shown(sameAction[0]?.params)}, not ${shown(request.params)}`,
      };
    }
    return {
      outcome: 'pass',
      reason: `${by} lists ${request.action} of ${guest} with these parameters: its decision covers it`,
    };
  },
};
