// Where each guest of a drained node goes. The destinations are the cluster's other nodes that are online and not in
// maintenance. Guests are placed largest memory first, each on the destination with the most memory free after the
// reserve (config.capacity.memReserveFraction), counting the guests the plan already put there; a guest needs its
// configured memory whether it runs or not, as a deploy's clones do. Running (or paused) guests move online, stopped
// ones offline. Templates stay where they are. The plan fails, with one sentence, for a node that is unknown, not
// online, or has no guest to move, and for a guest that fits nowhere.

import { windowsCovering } from '../maintenance';
import type { BulkMember, HostInfo, VmInfo } from '../types';
import { guestTypeOf, hostKey } from '../types';
import { gib, percent, shortLabel, vmLabel } from './describe';
import type { GateInput } from './types';

/** One guest's move. */
export interface DrainMove {
  vm: VmInfo;
  /** The node it goes to. */
  target: string;
  /** Live migration (it runs); false: it moves stopped. */
  online: boolean;
}

export interface DrainPlan {
  cluster: string;
  node: string;
  /** By VMID. */
  moves: DrainMove[];
  /** Templates on the node: they stay. */
  stays: VmInfo[];
}

export type DrainPlanning = { ok: true; plan: DrainPlan } | { ok: false; reason: string };

/** Memory a node has free after its reserve. */
const freeMemory = (host: HostInfo, reserve: number): number => host.maxmem - host.mem - reserve * host.maxmem;

/** Plans the drain of `node` in the request's cluster. */
export function planDrain(input: GateInput, node: string): DrainPlanning {
  const cluster = input.request.target.cluster;
  const host = input.hosts.get(hostKey(cluster, node));
  if (!host) return { ok: false, reason: `node ${node} does not exist in cluster ${cluster}` };
  if (host.status !== 'online') {
    const state = host.status === 'offline' ? 'offline' : 'in an unknown state';
    return { ok: false, reason: `node ${cluster}/${node} is ${state}: its guests cannot be migrated away` };
  }

  const onNode = [...input.vms.values()]
    .filter((vm) => vm.cluster === cluster && vm.node === node)
    .sort((a, b) => a.vmid - b.vmid);
  const stays = onNode.filter((vm) => vm.template);
  const guests = onNode.filter((vm) => !vm.template);
  if (guests.length === 0) {
    const templates = stays.length > 0 ? ` (its ${templateList(stays)} ${stays.length === 1 ? 'stays' : 'stay'})` : '';
    return { ok: false, reason: `node ${cluster}/${node} has no guest to move${templates}` };
  }

  const reserve = input.config.capacity.memReserveFraction;
  const free = new Map<string, number>();
  for (const other of input.hosts.values()) {
    if (other.cluster !== cluster || other.node === node || other.status !== 'online') continue;
    if (windowsCovering(input.maintenance ?? [], { cluster, node: other.node }, input.now).length > 0) continue;
    free.set(other.node, freeMemory(other, reserve));
  }
  if (free.size === 0) {
    return {
      ok: false,
      reason: `no other node of cluster ${cluster} is online and out of maintenance: the guests of ${node} have nowhere to go`,
    };
  }

  const moves: DrainMove[] = [];
  const bySize = [...guests].sort((a, b) => b.maxmem - a.maxmem || a.vmid - b.vmid);
  for (const vm of bySize) {
    const [best, room] = roomiest(free);
    if (room < vm.maxmem) {
      return {
        ok: false,
        reason:
          `${vmLabel(vm)} needs ${gib(vm.maxmem)} memory, but no other online node of cluster ${cluster} out of ` +
          `maintenance has that much free after its ${percent(reserve)} reserve and the plan's earlier moves ` +
          `(most: ${best}, ${gib(Math.max(0, room))})`,
      };
    }
    free.set(best, room - vm.maxmem);
    moves.push({ vm, target: best, online: vm.status !== 'stopped' });
  }
  moves.sort((a, b) => a.vm.vmid - b.vm.vmid);
  return { ok: true, plan: { cluster, node, moves, stays } };
}

/** The node with the most free memory (ties: the first by name) and that memory. */
function roomiest(free: ReadonlyMap<string, number>): [string, number] {
  let best: [string, number] | undefined;
  for (const [node, room] of free) {
    if (!best || room > best[1] || (room === best[1] && node < best[0])) best = [node, room];
  }
  return best as [string, number];
}

/** `template 9000 (debian)` / `templates 9000 (debian), 9001 (alpine)`. */
function templateList(templates: readonly VmInfo[]): string {
  const names = templates.map((t) => shortLabel(t.vmid, t)).join(', ');
  return `${templates.length === 1 ? 'template' : 'templates'} ${names}`;
}

/**
 * The plan's members: a migrate per guest (`{target, online: true}` for a running one, `{target}` otherwise). A
 * running VM also takes its local disks along (`withLocalDisks`: PVE refuses to live-migrate attached local disks
 * without it, and it changes nothing for disks on shared storage); a stopped guest's local disks move anyway.
 */
export function drainMembers(plan: DrainPlan): BulkMember[] {
  return plan.moves.map((move) => ({
    vmid: move.vm.vmid,
    action: 'migrate',
    params: !move.online
      ? { target: move.target }
      : guestTypeOf(move.vm) === 'qemu'
        ? { target: move.target, online: true, withLocalDisks: true }
        : { target: move.target, online: true },
  }));
}

/** `101 (web) to pve2 online, 102 (build) to pve3 offline; template 9000 (debian) stays on pve1`. */
export function describeDrainPlan(plan: DrainPlan): string {
  const moves = plan.moves
    .map((m) => `${shortLabel(m.vm.vmid, m.vm)} to ${m.target} ${m.online ? 'online' : 'offline'}`)
    .join(', ');
  if (plan.stays.length === 0) return moves;
  const verb = plan.stays.length === 1 ? 'stays' : 'stay';
  return `${moves}; ${templateList(plan.stays)} ${verb} on ${plan.node}`;
}
