// Builds the live simulator state from a seed.
import type { Clock } from '../clock';
import { backupStateFromSeed } from './backups';
import { SimConfigError } from './errors';
import { emptySdn, type SimPool } from './sdn-types';
import type { SimNode, SimSeed, SimState, SimVm, SimVmSeed } from './types';

const GiB = 1024 ** 3;

/** Deterministic 32-bit mix of a number (for per-VM identity bits). */
function mix(n: number): number {
  let x = (n ^ 0x9e3779b9) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

const hex2 = (n: number): string => (n & 0xff).toString(16).toUpperCase().padStart(2, '0');
const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');

/** Proxmox's own OUI (BC:24:11) plus three bytes from the VMID. */
export function macFor(vmid: number): string {
  const h = mix(vmid);
  return `BC:24:11:${hex2(h >>> 16)}:${hex2(h >>> 8)}:${hex2(h)}`;
}

export function uuidFor(vmid: number): string {
  const a = hex8(mix(vmid));
  const b = hex8(mix(vmid + 0x1000));
  const c = hex8(mix(vmid + 0x2000));
  const d = hex8(mix(vmid + 0x3000));
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-a${c.slice(1, 4)}-${c.slice(4)}${d}`;
}

/** A fresh VM record with sensible defaults (used by seeds and clones). */
export function makeVm(seed: SimVmSeed, nowMs: number): SimVm {
  const running = seed.status !== 'stopped' && !seed.template;
  const snapshots = (seed.snapshots ?? []).map((s, i, all) => ({
    name: s.name,
    description: s.description ?? '',
    snaptime: s.snaptime ?? Math.floor(nowMs / 1000) - 86_400 * (all.length - i),
    vmstate: s.vmstate ?? false,
    parent: i > 0 ? all[i - 1]?.name : undefined,
  }));
  return {
    vmid: seed.vmid,
    type: seed.type ?? 'qemu',
    pool: seed.pool,
    name: seed.name,
    node: seed.node,
    status: running ? 'running' : 'stopped',
    paused: running && seed.status === 'paused',
    template: seed.template ?? false,
    tags: [...(seed.tags ?? [])],
    lock: seed.lock,
    hastate: seed.hastate,
    cores: seed.cores,
    maxmem: seed.maxmem,
    maxdisk: seed.maxdisk,
    cpuLoad: seed.cpuLoad ?? 0.05 + (mix(seed.vmid) % 30) / 100,
    memUsage: seed.memUsage ?? 0.4 + (mix(seed.vmid + 7) % 40) / 100,
    description: seed.description,
    protection: seed.protection ?? false,
    snapshots,
    parentSnapshot: snapshots.at(-1)?.name,
    linkedFrom: seed.linkedFrom,
    startedAt: running ? nowMs - (seed.uptime ?? 3600 + (mix(seed.vmid) % 86_400)) * 1000 : undefined,
    pid: running ? 1000 + (mix(seed.vmid) % 900_000) : undefined,
    ctime: Math.floor(nowMs / 1000) - 30 * 86_400,
    ...(seed.agent === false ? { guestAgent: false } : {}),
    ...(seed.agentDelay !== undefined ? { agentDelayMs: seed.agentDelay * 1000 } : {}),
  };
}

/** user.cfg's pools: the seeded ones and every pool a guest names. */
export function poolsOf(seeded: Array<{ poolid: string; comment?: string | undefined }>, vms: Iterable<SimVm>) {
  const pools = new Map<string, SimPool>();
  for (const p of seeded) pools.set(p.poolid, { storage: [], vmids: [], ...(p.comment ? { comment: p.comment } : {}) });
  for (const vm of vms)
    if (vm.pool !== undefined && !pools.has(vm.pool)) pools.set(vm.pool, { storage: [], vmids: [] });
  return pools;
}

export function createState(seed: SimSeed, clock: Clock): SimState {
  const now = clock.now();
  if (seed.nodes.length === 0) throw new SimConfigError('seed has no nodes');
  const nodes = new Map<string, SimNode>();
  seed.nodes.forEach((n, i) => {
    if (!/^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(n.name)) {
      throw new SimConfigError(`invalid node name '${n.name}'`);
    }
    if (nodes.has(n.name)) throw new SimConfigError(`duplicate node '${n.name}'`);
    nodes.set(n.name, {
      name: n.name,
      nodeid: i + 1,
      ip: n.ip ?? `10.0.0.${11 + i}`,
      maxcpu: n.maxcpu,
      maxmem: n.maxmem,
      maxdisk: n.maxdisk,
      online: n.online ?? true,
      bootedAt: now - (14 * 86_400 + i * 3_600) * 1000,
      baseMem: Math.min(n.maxmem * 0.1, 4 * GiB),
      baseDisk: 8 * GiB,
      baseCpu: 0.01,
    });
  });
  const vms = new Map<number, SimVm>();
  for (const v of seed.vms) {
    if (!Number.isInteger(v.vmid) || v.vmid < 100 || v.vmid > 999_999_999) {
      throw new SimConfigError(`invalid vmid ${v.vmid}`);
    }
    if (vms.has(v.vmid)) throw new SimConfigError(`duplicate vmid ${v.vmid}`);
    if (!nodes.has(v.node)) throw new SimConfigError(`VM ${v.vmid} is on unknown node '${v.node}'`);
    vms.set(v.vmid, makeVm(v, now));
  }
  const localNode = seed.localNode ?? seed.nodes[0]!.name;
  if (!nodes.has(localNode)) throw new SimConfigError(`local node '${localNode}' is not in the seed`);
  return {
    cluster: seed.cluster,
    version: seed.version ?? '8.2.4',
    localNode,
    quorate: true,
    configVersion: seed.nodes.length,
    nodes,
    vms,
    tasks: new Map(),
    tasksByNode: new Map([...nodes.keys()].map((n) => [n, []])),
    ...backupStateFromSeed(seed, nodes, now),
    sdn: emptySdn(nodes.keys()),
    pools: poolsOf(seed.pools ?? [], vms.values()),
  };
}

/** The lowest free VMID from 100 on (PVE's default next-id range). */
export function lowestFreeVmid(state: SimState): number {
  let id = 100;
  while (state.vms.has(id)) id++;
  return id;
}
