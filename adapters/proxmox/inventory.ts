// /cluster/resources + /cluster/status → Inventory of guests (QEMU VMs and LXC containers) and nodes. Every field
// is checked; a bad entry is skipped and makes the inventory incomplete, and an offline node's guests stay listed as
// `unknown` — never dropped.
// `buildInventoryInSlices` reads a large answer (100k guests) in slices of RESOURCE_SLICE entries, giving the event
// loop a turn between them; the checks and the result are the same as buildInventory's.
import type { GuestType, HostInfo, HostStatus, VmInfo, VmPowerStatus } from '../../machines/types';
import type { Inventory } from '../platform/types';
import { FieldReader, isRecord, MAX_VMID, NODE_NAME_RE, type Wire } from './wire';

export type SectionResult = { ok: true; data: unknown } | { ok: false; error: unknown };

export interface InventoryInput {
  cluster: string;
  fetchedAt: number;
  /** The data of GET /cluster/resources (an array; the caller rejects anything else). */
  resources: unknown[];
  /** GET /cluster/status, which may have failed on its own. */
  status: SectionResult;
}

export interface InventoryResult {
  inventory: Inventory;
  /** Why the inventory is incomplete, one line each (empty when complete). */
  problems: string[];
}

const TAG_SEPARATOR = /[;, ]/;

/** PVE tags: `a;b`, older `a,b` / `a b`. */
export function splitTags(tags: string | undefined): string[] {
  if (!tags) return [];
  if (!TAG_SEPARATOR.test(tags)) return [tags];
  return [...new Set(tags.split(/[;, ]+/).filter((t) => t !== ''))];
}

const VM_STATUS: Record<string, VmPowerStatus> = {
  running: 'running',
  stopped: 'stopped',
  paused: 'paused',
  suspended: 'paused',
  unknown: 'unknown',
};

const HOST_STATUS: Record<string, HostStatus> = { online: 'online', offline: 'offline', unknown: 'unknown' };

/** A guest entry (`type: qemu` or `type: lxc`; VMs and containers share one VMID space). */
function readVm(cluster: string, type: GuestType, e: Wire, where: () => string): { vm?: VmInfo; problems: string[] } {
  const r = new FieldReader(e, where);
  const vmid = r.int('vmid', 1, MAX_VMID);
  const node = r.string('node', NODE_NAME_RE);
  const status = r.string('status');
  const name = r.optString('name');
  const tags = r.optString('tags');
  const lock = r.optString('lock');
  const hastate = r.optString('hastate');
  const pool = r.optString('pool');
  const template = r.flag('template');
  const vm = {
    cpus: r.amount('maxcpu'),
    maxmem: r.amount('maxmem'),
    maxdisk: r.amount('maxdisk'),
    mem: r.amount('mem'),
    cpu: r.amount('cpu'),
    uptime: r.amount('uptime'),
  };
  if (vmid !== undefined && e.id !== undefined && e.id !== `${type}/${vmid}`) {
    r.problems.push(`${where()}: id ${JSON.stringify(e.id)} does not match vmid ${vmid}`);
  }
  if (!r.ok || vmid === undefined || node === undefined || status === undefined) return { problems: r.problems };
  return {
    problems: [],
    vm: {
      cluster,
      vmid,
      type,
      // VMs on an offline node may come without a name (PVE's own default for a nameless VM is "VM <id>").
      name: name || `VM ${vmid}`,
      node,
      status: VM_STATUS[status] ?? 'unknown',
      lock: lock || undefined,
      ...(pool ? { pool } : {}),
      tags: splitTags(tags),
      template,
      haManaged: hastate !== undefined && hastate !== '',
      ...(hastate ? { haState: hastate } : {}),
      ...vm,
    },
  };
}

const absent = (v: unknown) => v === undefined || v === null;
const optStringOk = (v: unknown) => absent(v) || typeof v === 'string';
const amountOk = (v: unknown) => absent(v) || (typeof v === 'number' && Number.isFinite(v) && v >= 0);
const flagOf = (v: unknown): boolean | undefined =>
  absent(v) || v === 0 || v === false || v === '0' ? false : v === 1 || v === true || v === '1' ? true : undefined;
const amountOf = (v: unknown): number => (absent(v) ? 0 : (v as number));

/**
 * The common case of readVm without a FieldReader: every field present has its usual type (vmid a number, node a
 * known-good name). Anything unusual returns undefined and the entry goes through readVm, which says what is wrong.
 * Builds the same VmInfo, key for key.
 */
function readVmFast(cluster: string, type: GuestType, e: Wire, goodNodes: Set<string>): VmInfo | undefined {
  const { vmid, node, status, name, tags, lock, hastate, pool } = e;
  if (typeof vmid !== 'number' || !Number.isSafeInteger(vmid) || vmid < 1 || vmid > MAX_VMID) return undefined;
  if (typeof node !== 'string' || node === '') return undefined;
  if (!goodNodes.has(node)) {
    if (!NODE_NAME_RE.test(node)) return undefined;
    goodNodes.add(node);
  }
  if (typeof status !== 'string' || status === '') return undefined;
  if (!optStringOk(name) || !optStringOk(tags) || !optStringOk(lock) || !optStringOk(hastate) || !optStringOk(pool)) {
    return undefined;
  }
  const template = flagOf(e.template);
  if (template === undefined) return undefined;
  const { maxcpu, maxmem, maxdisk, mem, cpu, uptime } = e;
  if (!amountOk(maxcpu) || !amountOk(maxmem) || !amountOk(maxdisk) || !amountOk(mem) || !amountOk(cpu))
    return undefined;
  if (!amountOk(uptime)) return undefined;
  if (e.id !== undefined && e.id !== `${type}/${vmid}`) return undefined;
  const ha = hastate as string | undefined | null;
  return {
    cluster,
    vmid,
    type,
    name: (name as string | undefined) || `VM ${vmid}`,
    node,
    status: VM_STATUS[status] ?? 'unknown',
    lock: (lock as string | undefined) || undefined,
    ...(pool ? { pool: pool as string } : {}),
    tags: splitTags(tags as string | undefined),
    template,
    haManaged: ha !== undefined && ha !== null && ha !== '',
    ...(ha ? { haState: ha } : {}),
    cpus: amountOf(maxcpu),
    maxmem: amountOf(maxmem),
    maxdisk: amountOf(maxdisk),
    mem: amountOf(mem),
    cpu: amountOf(cpu),
    uptime: amountOf(uptime),
  };
}

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
  return { problems: [], host: { cluster, node, status: HOST_STATUS[status] ?? 'unknown', ...metrics } };
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

/** /cluster/resources entries read per slice by buildInventoryInSlices. */
export const RESOURCE_SLICE = 2048;

interface ResourceAcc {
  cluster: string;
  problems: string[];
  vms: VmInfo[];
  hosts: HostInfo[];
  vmIds: Set<number>;
  hostNames: Set<string>;
  /** Node names already checked against NODE_NAME_RE. */
  goodNodes: Set<string>;
}

/** Where entry `i` is, for a problem line. */
const entryAt = (i: number) => `/cluster/resources[${i}]`;

/** Reads /cluster/resources entries [from, to) into `acc`. */
function readResources(resources: unknown[], from: number, to: number, acc: ResourceAcc): void {
  const { cluster, problems, vms, hosts, vmIds, hostNames, goodNodes } = acc;
  for (let i = from; i < to; i++) {
    const e = resources[i];
    if (!isRecord(e)) {
      problems.push(`${entryAt(i)}: not an object`);
      continue;
    }
    if (typeof e.type !== 'string') {
      problems.push(`${entryAt(i)}: type is not a string`);
      continue;
    }
    if (e.type === 'qemu' || e.type === 'lxc') {
      let vm = readVmFast(cluster, e.type, e, goodNodes);
      if (!vm) {
        const read = readVm(cluster, e.type, e, () => entryAt(i));
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
  goodNodes: new Set(),
});

export function buildInventory(input: InventoryInput): InventoryResult {
  const acc = newAcc(input.cluster);
  readResources(input.resources, 0, input.resources.length, acc);
  return finishInventory(input, acc);
}

/**
 * buildInventory in slices of RESOURCE_SLICE entries, the event loop given a turn between two. An answer that fits
 * in one slice is read at once and returned as it is (no promise).
 */
export function buildInventoryInSlices(input: InventoryInput): InventoryResult | Promise<InventoryResult> {
  if (input.resources.length <= RESOURCE_SLICE) return buildInventory(input);
  return (async () => {
    const acc = newAcc(input.cluster);
    const { resources } = input;
    for (let from = 0; from < resources.length; from += RESOURCE_SLICE) {
      if (from > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      readResources(resources, from, Math.min(resources.length, from + RESOURCE_SLICE), acc);
    }
    return finishInventory(input, acc);
  })();
}

function finishInventory({ cluster, fetchedAt, status }: InventoryInput, acc: ResourceAcc): InventoryResult {
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
  for (const vm of vms) {
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
