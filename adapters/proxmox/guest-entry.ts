// One guest entry of /cluster/resources (`type: qemu` or `type: lxc`) → VmInfo. The common, well-formed entry is
// read by readGuestFast without a FieldReader (and its tags list shared by the read's VMs with the same tags);
// anything unusual goes through readGuest, which says what is wrong with it.
import type { GuestType, VmInfo, VmPowerStatus } from '../../machines/types';
import { FieldReader, MAX_VMID, NODE_NAME_RE, type Wire } from './wire';

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

/** A guest's power status from PVE's word (anything else, e.g. `constructor`, is unknown). */
export const vmStatus = (status: string): VmPowerStatus =>
  Object.hasOwn(VM_STATUS, status) ? (VM_STATUS[status] as VmPowerStatus) : 'unknown';

/** A guest entry (`type: qemu` or `type: lxc`; VMs and containers share one VMID space), with its problems. */
export function readGuest(
  cluster: string,
  type: GuestType,
  e: Wire,
  where: () => string,
): { vm?: VmInfo; problems: string[] } {
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
      status: vmStatus(status),
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

/** `id` is exactly `${type}/${vmid}` (read without building that string). */
function idMatches(id: unknown, type: GuestType, vmid: number): boolean {
  if (typeof id !== 'string' || id.length <= type.length + 1 || !id.startsWith(type)) return false;
  if (id.charCodeAt(type.length) !== 47 /* / */ || id.charCodeAt(type.length + 1) === 48 /* leading 0 */) return false;
  let n = 0;
  for (let i = type.length + 1; i < id.length; i++) {
    const digit = id.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return false;
    n = n * 10 + digit;
  }
  return n === vmid;
}

/** What one read of /cluster/resources remembers from entry to entry. */
export class EntryCache {
  /** Node names already checked against NODE_NAME_RE. */
  private readonly goodNodes = new Set<string>();
  /** Tags text → its list, shared by every VM of this read with the same tags (frozen: never changed in place). */
  private readonly tags = new Map<string, string[]>();

  goodNode(node: string): boolean {
    if (this.goodNodes.has(node)) return true;
    if (node === '' || !NODE_NAME_RE.test(node)) return false;
    this.goodNodes.add(node);
    return true;
  }

  tagList(text: string | undefined | null): string[] {
    if (!text) return NO_TAGS;
    let list = this.tags.get(text);
    if (list === undefined) {
      list = Object.freeze(splitTags(text)) as string[];
      if (this.tags.size < MAX_CACHED_TAGS) this.tags.set(text, list);
    }
    return list;
  }
}

const NO_TAGS = Object.freeze([]) as unknown as string[];
/** Distinct tags texts remembered by one read (tags are few; a fleet of unique ones is read without the cache). */
const MAX_CACHED_TAGS = 4096;

/**
 * The common case of readGuest without a FieldReader: every field present has its usual type (vmid a number, node a
 * known-good name). Anything unusual returns undefined and the entry goes through readGuest, which says what is wrong.
 * Builds the same VmInfo, key for key.
 */
export function readGuestFast(cluster: string, type: GuestType, e: Wire, cache: EntryCache): VmInfo | undefined {
  const { vmid, node, status } = e;
  if (typeof vmid !== 'number' || !Number.isSafeInteger(vmid) || vmid < 1 || vmid > MAX_VMID) return undefined;
  if (typeof node !== 'string' || !cache.goodNode(node)) return undefined;
  if (typeof status !== 'string' || status === '') return undefined;
  const { name, tags, lock, hastate, pool } = e;
  if (!optStringOk(name) || !optStringOk(tags) || !optStringOk(lock) || !optStringOk(hastate) || !optStringOk(pool)) {
    return undefined;
  }
  const template = flagOf(e.template);
  if (template === undefined) return undefined;
  const { maxcpu, maxmem, maxdisk, mem, cpu, uptime } = e;
  if (!amountOk(maxcpu) || !amountOk(maxmem) || !amountOk(maxdisk) || !amountOk(mem) || !amountOk(cpu))
    return undefined;
  if (!amountOk(uptime)) return undefined;
  if (e.id !== undefined && !idMatches(e.id, type, vmid)) return undefined;
  const ha = hastate as string | undefined | null;
  const vmName = (name as string | undefined) || `VM ${vmid}`;
  const power = vmStatus(status);
  const vmLock = (lock as string | undefined) || undefined;
  const tagList = cache.tagList(tags as string | undefined);
  const haManaged = ha !== undefined && ha !== null && ha !== '';
  if (!pool && !ha) {
    // The common shape, built in one literal (no spread).
    return {
      cluster,
      vmid,
      type,
      name: vmName,
      node,
      status: power,
      lock: vmLock,
      tags: tagList,
      template,
      haManaged,
      cpus: amountOf(maxcpu),
      maxmem: amountOf(maxmem),
      maxdisk: amountOf(maxdisk),
      mem: amountOf(mem),
      cpu: amountOf(cpu),
      uptime: amountOf(uptime),
    };
  }
  return {
    cluster,
    vmid,
    type,
    name: vmName,
    node,
    status: power,
    lock: vmLock,
    ...(pool ? { pool: pool as string } : {}),
    tags: tagList,
    template,
    haManaged,
    ...(ha ? { haState: ha } : {}),
    cpus: amountOf(maxcpu),
    maxmem: amountOf(maxmem),
    maxdisk: amountOf(maxdisk),
    mem: amountOf(mem),
    cpu: amountOf(cpu),
    uptime: amountOf(uptime),
  };
}
