// /cluster/resources + /cluster/status → Inventory of guests (QEMU VMs and LXC containers) and nodes. Every field
// is checked; a bad entry is skipped and makes the inventory incomplete, and an offline node's guests stay listed as
// `unknown` — never dropped.
// A ResourceReader reads the entries slice by slice as the answer's body is parsed (data-list.ts), so a large answer
// (100k guests) is read while it arrives and its raw entries are dropped slice by slice; between slices it gives the
// event loop a turn once READ_BUDGET_MS of the injected clock have passed, or RESOURCE_SLICE entries were read. The
// checks and the result are buildInventory's.
import type { HostInfo, HostStatus, VmInfo } from '../../machines/types';
import type { Clock } from '../clock';
import type { Inventory } from '../platform/types';
import type { ListSink } from './data-list';
import { EntryCache, readGuest, readGuestFast } from './guest-entry';
import { FieldReader, isRecord, NODE_NAME_RE, type Wire } from './wire';

export { splitTags } from './guest-entry';

export type SectionResult = { ok: true; data: unknown } | { ok: false; error: unknown };

export interface InventoryInput {
  cluster: string;
  fetchedAt: number;
  /** The data of GET /cluster/resources (an array; the caller rejects anything else). */
  resources: unknown[];
  /** GET /cluster/status, which may have failed on its own. */
  status: SectionResult;
}

/** What finishes an inventory once /cluster/resources was read. */
export type InventoryEnd = Omit<InventoryInput, 'resources'>;

export interface InventoryResult {
  inventory: Inventory;
  /** Why the inventory is incomplete, one line each (empty when complete). */
  problems: string[];
}

const HOST_STATUS: Record<string, HostStatus> = { online: 'online', offline: 'offline', unknown: 'unknown' };

function readHost(cluster: string, e: Wire, where: () => string): { host?: HostInfo; problems: string[] } {
  const r = new FieldReader(e, where);
  const node = r.string('node', NODE_NAME_RE);
  const status = r.string('status');
  const metrics = {
    cpu: r.amount('cpu'),
    maxcpu: r.amount('maxcpu'),
    mem: r.amount('mem'),
    maxmem: r.amount('maxmem'),
    disk: r.amount('disk'),
    maxdisk: r.amount('maxdisk'),
  };
  if (node !== undefined && e.id !== undefined && e.id !== `node/${node}`) {
    r.problems.push(`${where()}: id ${JSON.stringify(e.id)} does not match node ${node}`);
  }
  if (!r.ok || node === undefined || status === undefined) return { problems: r.problems };
  const hostStatus = Object.hasOwn(HOST_STATUS, status) ? (HOST_STATUS[status] as HostStatus) : 'unknown';
  return { problems: [], host: { cluster, node, status: hostStatus, ...metrics } };
}

interface ClusterStatus {
  quorate: boolean;
  /** node name → online, from corosync membership */
  online: Map<string, boolean>;
  problems: string[];
}

function readClusterStatus(section: SectionResult): ClusterStatus {
  const online = new Map<string, boolean>();
  if (!section.ok) {
    const why = section.error instanceof Error ? section.error.message : String(section.error);
    return { quorate: false, online, problems: [`/cluster/status failed: ${why}`] };
  }
  if (!Array.isArray(section.data)) {
    return { quorate: false, online, problems: ['/cluster/status: answer is not a list'] };
  }
  const problems: string[] = [];
  let quorate: boolean | undefined;
  let clusterEntries = 0;
  section.data.forEach((e, i) => {
    const where = `/cluster/status[${i}]`;
    if (!isRecord(e)) {
      problems.push(`${where}: not an object`);
      return;
    }
    const r = new FieldReader(e, where);
    if (e.type === 'cluster') {
      clusterEntries++;
      if (!r.has('quorate')) r.problems.push(`${where}: cluster entry without quorate`);
      const q = r.flag('quorate');
      if (r.ok) quorate = q;
    } else if (e.type === 'node') {
      const name = r.string('name', NODE_NAME_RE);
      if (!r.has('online')) r.problems.push(`${where}: node entry without online`);
      const up = r.flag('online');
      if (r.ok && name !== undefined) {
        if (online.has(name)) r.problems.push(`${where}: node ${name} listed twice`);
        else online.set(name, up);
      }
    } else if (typeof e.type !== 'string') {
      r.problems.push(`${where}: type is not a string`);
    }
    problems.push(...r.problems);
  });
  if (clusterEntries > 1) problems.push('/cluster/status: more than one cluster entry');
  if (quorate === undefined && clusterEntries === 0) {
    // A standalone node has no cluster entry: it is its own quorum while it answers.
    if (online.size === 1) quorate = [...online.values()][0] === true;
    else problems.push(`/cluster/status: no cluster entry but ${online.size} node entries`);
  }
  return { quorate: quorate ?? false, online, problems };
}

/** Entries read at most between two turns of the event loop (whatever the clock says). */
export const RESOURCE_SLICE = 2048;
/** Clock time (ms) reading may hold the event loop before it gives it a turn. */
export const READ_BUDGET_MS = 3;
/**
 * Iterations of the event loop given between two parts of the read, so that work needing a few of its own (a
 * decision waiting for its group commit) is done in between (as the sync's slices do, actors/sync.ts).
 */
const READ_TURNS = 4;

/** Resolves after `n` iterations of the event loop (n immediates, each queued by the one before). */
function loopTurns(n: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const turn = (left: number) => (left <= 1 ? setImmediate(resolve) : setImmediate(() => turn(left - 1)));
    turn(n);
  });
}

interface ResourceAcc {
  cluster: string;
  problems: string[];
  vms: VmInfo[];
  hosts: HostInfo[];
  vmIds: Set<number>;
  hostNames: Set<string>;
  cache: EntryCache;
}

/** Where entry `i` is, for a problem line. */
const entryAt = (i: number) => `/cluster/resources[${i}]`;

/** Reads the entries of `resources` (the first being entry `first` of the answer) into `acc`. */
function readResources(resources: unknown[], first: number, acc: ResourceAcc): void {
  const { cluster, problems, vms, hosts, vmIds, hostNames, cache } = acc;
  for (let j = 0; j < resources.length; j++) {
    const e = resources[j];
    const i = first + j;
    if (!isRecord(e)) {
      problems.push(`${entryAt(i)}: not an object`);
      continue;
    }
    if (typeof e.type !== 'string') {
      problems.push(`${entryAt(i)}: type is not a string`);
      continue;
    }
    if (e.type === 'qemu' || e.type === 'lxc') {
      let vm = readGuestFast(cluster, e.type, e, cache);
      if (!vm) {
        const read = readGuest(cluster, e.type, e, () => entryAt(i));
        if (read.problems.length > 0) problems.push(...read.problems);
        vm = read.vm;
      }
      if (!vm) continue;
      if (vmIds.has(vm.vmid)) {
        problems.push(`${entryAt(i)}: guest ${vm.vmid} listed twice`);
        continue;
      }
      vmIds.add(vm.vmid);
      vms.push(vm);
    } else if (e.type === 'node') {
      const { host, problems: p } = readHost(cluster, e, () => entryAt(i));
      if (p.length > 0) problems.push(...p);
      if (!host) continue;
      if (hostNames.has(host.node)) {
        problems.push(`${entryAt(i)}: node ${host.node} listed twice`);
        continue;
      }
      hostNames.add(host.node);
      hosts.push(host);
    }
    // storage, pool, sdn, openvz, ...: not Overseer's business
  }
}

const newAcc = (cluster: string): ResourceAcc => ({
  cluster,
  problems: [],
  vms: [],
  hosts: [],
  vmIds: new Set(),
  hostNames: new Set(),
  cache: new EntryCache(),
});

/** Reads a whole /cluster/resources answer at once. */
export function buildInventory(input: InventoryInput): InventoryResult {
  const acc = newAcc(input.cluster);
  readResources(input.resources, 0, acc);
  return finishInventory(input, acc);
}

/**
 * Reads /cluster/resources entries as they come (a ListSink of the answer's body, or `addAll` of a parsed list) and
 * makes the inventory of them. With no clock it never asks for a turn by time, only every RESOURCE_SLICE entries.
 */
export class ResourceReader implements ListSink {
  private readonly acc: ResourceAcc;
  /** Entries read since the event loop's last turn, and when (clock time) that turn ended. */
  private sinceTurn = 0;
  private turnAt: number;

  constructor(
    cluster: string,
    private readonly clock?: Clock,
  ) {
    this.acc = newAcc(cluster);
    this.turnAt = clock?.now() ?? 0;
  }

  add(entries: unknown[], first: number): void {
    readResources(entries, first, this.acc);
    this.sinceTurn += entries.length;
  }

  due(): Promise<void> | undefined {
    const late = this.clock !== undefined && this.clock.now() - this.turnAt >= READ_BUDGET_MS;
    if (!late && this.sinceTurn < RESOURCE_SLICE) return undefined;
    this.sinceTurn = 0;
    return loopTurns(READ_TURNS).then(() => {
      this.turnAt = this.clock?.now() ?? 0;
    });
  }

  /** Reads a parsed list in slices of RESOURCE_SLICE entries, giving the event loop its turns. */
  async addAll(resources: unknown[]): Promise<this> {
    for (let from = 0; from < resources.length; from += RESOURCE_SLICE) {
      this.add(resources.slice(from, from + RESOURCE_SLICE), from);
      const turn = this.due();
      if (turn) await turn;
    }
    return this;
  }

  /** The inventory of everything read, with /cluster/status. */
  finish(end: InventoryEnd): InventoryResult {
    return finishInventory(end, this.acc);
  }
}

function finishInventory({ cluster, fetchedAt, status }: InventoryEnd, acc: ResourceAcc): InventoryResult {
  const { problems, vms, hosts, hostNames } = acc;
  const cs = readClusterStatus(status);
  problems.push(...cs.problems);

  if (hosts.length === 0) problems.push('/cluster/resources: no node entries');
  // Nodes corosync knows that /cluster/resources did not list: their VMs may be missing.
  for (const [name, up] of cs.online) {
    if (hostNames.has(name)) continue;
    problems.push(`node ${name} is in /cluster/status but not in /cluster/resources`);
    hosts.push({
      cluster,
      node: name,
      status: up ? 'unknown' : 'offline',
      cpu: 0,
      maxcpu: 0,
      mem: 0,
      maxmem: 0,
      disk: 0,
      maxdisk: 0,
    });
    hostNames.add(name);
  }
  if (status.ok && cs.online.size > 0) {
    for (const h of hosts) {
      if (!cs.online.has(h.node)) problems.push(`node ${h.node} is in /cluster/resources but not in /cluster/status`);
    }
  }

  const unreachable = new Set<string>();
  for (const h of hosts) {
    if (cs.online.get(h.node) === false && h.status === 'online') h.status = 'offline';
    if (h.status !== 'online') unreachable.add(h.node);
  }
  for (let i = 0; i < vms.length; i++) {
    const vm = vms[i] as VmInfo;
    if (!hostNames.has(vm.node)) {
      problems.push(`VM ${vm.vmid} is on node ${vm.node}, which is not listed`);
      unreachable.add(vm.node);
    }
    if (unreachable.has(vm.node)) vm.status = 'unknown';
  }

  const unreachableNodes = [...unreachable].sort();
  return {
    problems,
    inventory: {
      cluster,
      fetchedAt,
      quorate: cs.quorate,
      complete: problems.length === 0 && unreachableNodes.length === 0 && status.ok,
      vms,
      hosts,
      unreachableNodes,
    },
  };
}
