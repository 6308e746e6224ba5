// /cluster/resources + /cluster/status → Inventory of guests (QEMU VMs and LXC containers) and nodes. Every field
// is checked; a bad entry is skipped and makes the inventory incomplete, and an offline node's guests stay listed as
// `unknown` — never dropped.
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

/** PVE tags: `a;b`, older `a,b` / `a b`. */
export function splitTags(tags: string | undefined): string[] {
  if (!tags) return [];
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
function readVm(cluster: string, type: GuestType, e: Wire, where: string): { vm?: VmInfo; problems: string[] } {
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
    r.problems.push(`${where}: id ${JSON.stringify(e.id)} does not match vmid ${vmid}`);
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

function readHost(cluster: string, e: Wire, where: string): { host?: HostInfo; problems: string[] } {
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
    r.problems.push(`${where}: id ${JSON.stringify(e.id)} does not match node ${node}`);
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

export function buildInventory({ cluster, fetchedAt, resources, status }: InventoryInput): InventoryResult {
  const problems: string[] = [];
  const vms: VmInfo[] = [];
  const hosts: HostInfo[] = [];
  const vmIds = new Set<number>();
  const hostNames = new Set<string>();

  resources.forEach((e, i) => {
    const where = `/cluster/resources[${i}]`;
    if (!isRecord(e)) {
      problems.push(`${where}: not an object`);
      return;
    }
    if (typeof e.type !== 'string') {
      problems.push(`${where}: type is not a string`);
      return;
    }
    if (e.type === 'qemu' || e.type === 'lxc') {
      const { vm, problems: p } = readVm(cluster, e.type, e, where);
      problems.push(...p);
      if (!vm) return;
      if (vmIds.has(vm.vmid)) {
        problems.push(`${where}: guest ${vm.vmid} listed twice`);
        return;
      }
      vmIds.add(vm.vmid);
      vms.push(vm);
    } else if (e.type === 'node') {
      const { host, problems: p } = readHost(cluster, e, where);
      problems.push(...p);
      if (!host) return;
      if (hostNames.has(host.node)) {
        problems.push(`${where}: node ${host.node} listed twice`);
        return;
      }
      hostNames.add(host.node);
      hosts.push(host);
    }
    // storage, pool, sdn, openvz, ...: not Overseer's business
  });

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
