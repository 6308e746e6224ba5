// Read-side answers for storages, their content and backup jobs, shaped as pve-storage (API2/Storage/Config.pm,
// Status.pm, Content.pm) and pve-manager (API2/Backup.pm) give them.
import { createHash } from 'node:crypto';
import type { SimBackup, SimBackupJob, SimStorage } from './backup-types';
import { holdsBackups, pbsUnreachable, storageOnNode } from './backups';
import { PveHttpError, PveParamError } from './errors';
import { guestTypeOf, guestVolume } from './guest-config';
import type { SimState } from './types';
import { clusterResources } from './views';

const b01 = (b: boolean): 0 | 1 => (b ? 1 : 0);

const digestOf = (value: unknown): string => createHash('sha1').update(JSON.stringify(value)).digest('hex');

/** The storage's config section as GET /storage lists it. */
function storageConfig(s: SimStorage): Record<string, unknown> {
  const e: Record<string, unknown> = { storage: s.storage, type: s.type, content: s.content.join(',') };
  if (s.type === 'dir') e.path = s.path;
  if (s.type === 'zfspool') Object.assign(e, { pool: 'rpool/data', sparse: 1 });
  if (s.type === 'pbs') Object.assign(e, { server: s.server, datastore: s.datastore, username: 'root@pam' });
  if (s.type === 'nfs' || s.type === 'cifs') Object.assign(e, { server: s.server ?? '10.0.0.60', path: s.path });
  if (holdsBackups(s)) e['prune-backups'] = 'keep-all=1';
  if (s.nodes) e.nodes = s.nodes.join(',');
  if (s.shared && s.type === 'dir') e.shared = 1;
  return e;
}

/** GET /storage[?type=]: the storage configuration (one digest for the file). */
export function storageIndex(state: SimState, type?: string): Record<string, unknown>[] {
  const digest = digestOf(state.storages.map(storageConfig));
  return state.storages
    .filter((s) => type === undefined || s.type === type)
    .sort((a, b) => a.storage.localeCompare(b.storage))
    .map((s) => ({ ...storageConfig(s), digest }));
}

/** GET /storage/{storage}. */
export function storageRead(state: SimState, id: string): Record<string, unknown> {
  const s = state.storages.find((x) => x.storage === id);
  if (!s) throw new PveHttpError(500, `storage '${id}' does not exist`);
  return { ...storageConfig(s), digest: digestOf(state.storages.map(storageConfig)) };
}

function findStorage(state: SimState, id: string): SimStorage {
  const s = state.storages.find((x) => x.storage === id);
  if (!s) throw new PveHttpError(500, `storage '${id}' does not exist`);
  return s;
}

/** activate_storage on `node`: refused where the storage is not configured, or when it cannot be reached. */
function activate(s: SimStorage, node: string): void {
  if (!storageOnNode(s, node)) throw new PveHttpError(500, `storage '${s.storage}' is not available on node '${node}'`);
  if (!s.online)
    throw new PveHttpError(500, s.type === 'pbs' ? pbsUnreachable(s) : `storage '${s.storage}' is not online`);
}

/** Backups a storage holds as `node` sees it: a shared storage's all, a local one's only the node's own. */
function backupsOn(state: SimState, s: SimStorage, node: string): SimBackup[] {
  return state.backups.filter((b) => b.storage === s.storage && (s.shared || b.node === node));
}

export interface NodeStorageFilter {
  storage?: string | undefined;
  content?: string[] | undefined;
  target?: string | undefined;
}

/** GET /nodes/{node}/storage: status of the storages available on the node. */
export function nodeStorages(state: SimState, node: string, now: number, f: NodeStorageFilter) {
  if (f.storage !== undefined && !state.storages.some((s) => s.storage === f.storage && storageOnNode(s, node))) {
    throw new PveParamError({ storage: 'No such storage.' });
  }
  const local = new Map<string, { maxdisk?: number; disk?: number }>();
  for (const r of clusterResources(state, now, 'storage')) {
    if (r.node === node && typeof r.storage === 'string') local.set(r.storage, r);
  }
  const target = f.target !== undefined && f.target !== node ? f.target : undefined;
  const out: Record<string, unknown>[] = [];
  for (const s of state.storages) {
    if (!storageOnNode(s, node)) continue;
    if (f.storage !== undefined && s.storage !== f.storage) continue;
    if (f.content && !f.content.some((c) => s.content.includes(c))) continue;
    if (target !== undefined && !(s.shared && storageOnNode(s, target))) continue;
    const e: Record<string, unknown> = {
      storage: s.storage,
      type: s.type,
      content: s.content.join(','),
      enabled: 1,
      shared: b01(s.shared),
      active: b01(s.online),
      total: 0,
      used: 0,
      avail: 0,
    };
    if (s.online) {
      const r = local.get(s.storage);
      const total = s.shared ? (s.total ?? 0) : (r?.maxdisk ?? 0);
      const used = s.shared ? backupsOn(state, s, node).reduce((sum, b) => sum + b.size, 0) : (r?.disk ?? 0);
      Object.assign(e, { total, used: Math.min(used, total), avail: Math.max(0, total - used) });
      if (total > 0) e.used_fraction = Math.min(used, total) / total;
    }
    out.push(e);
  }
  return out;
}

function backupEntry(b: SimBackup): Record<string, unknown> {
  const e: Record<string, unknown> = {
    volid: b.volid,
    content: 'backup',
    format: b.format,
    size: b.size,
    ctime: b.ctime,
    subtype: b.guestType,
    vmid: b.vmid,
  };
  if (b.notes !== undefined) e.notes = b.notes.split('\n')[0];
  if (b.protected) e.protected = 1;
  return e;
}

/** GET /nodes/{node}/storage/{storage}/content[?content=&vmid=], sorted by volid as PVE::Storage::volume_list. */
export function storageContent(
  state: SimState,
  node: string,
  id: string,
  content?: string,
  vmid?: number,
): Record<string, unknown>[] {
  const s = findStorage(state, id);
  const types = (content !== undefined ? [content] : ['rootdir', 'images', 'vztmpl', 'iso', 'backup']).filter((c) =>
    s.content.includes(c),
  );
  activate(s, node);
  const out: Record<string, unknown>[] = [];
  if (types.includes('backup')) {
    for (const b of backupsOn(state, s, node)) if (vmid === undefined || b.vmid === vmid) out.push(backupEntry(b));
  }
  if (s.type === 'zfspool' && (types.includes('images') || types.includes('rootdir'))) {
    for (const vm of state.vms.values()) {
      if (vm.node !== node || (vmid !== undefined && vm.vmid !== vmid)) continue;
      const ct = guestTypeOf(vm) === 'lxc';
      if (!types.includes(ct ? 'rootdir' : 'images')) continue;
      const volid = guestVolume(vm);
      const e: Record<string, unknown> = {
        volid,
        content: ct ? 'rootdir' : 'images',
        format: ct ? 'subvol' : 'raw',
        size: vm.maxdisk,
        vmid: vm.vmid,
      };
      const slash = volid.indexOf('/');
      if (slash > 0) e.parent = `${volid.slice(volid.indexOf(':') + 1, slash)}@__base__`;
      out.push(e);
    }
  }
  return out.sort((a, b) => String(a.volid).toLowerCase().localeCompare(String(b.volid).toLowerCase()));
}

/** A job as jobs.cfg holds it (the keys PVE writes). */
function jobConfig(j: SimBackupJob): Record<string, unknown> {
  const e: Record<string, unknown> = {
    id: j.id,
    type: 'vzdump',
    schedule: j.schedule,
    enabled: b01(j.enabled),
    mode: j.mode,
    compress: j.compress,
  };
  if (j.storage !== undefined) e.storage = j.storage;
  if (j.all) e.all = 1;
  if (j.vmids.length > 0) e.vmid = j.vmids.join(',');
  if (j.pool !== undefined) e.pool = j.pool;
  if (j.exclude.length > 0) e.exclude = j.exclude.join(',');
  if (j.node !== undefined) e.node = j.node;
  if (j.notesTemplate !== undefined) e['notes-template'] = j.notesTemplate;
  if (j.comment !== undefined) e.comment = j.comment;
  return e;
}

/** GET /cluster/backup: every vzdump job with its next run (epoch seconds) where the schedule gives one. */
export function backupJobs(state: SimState, now: number): Record<string, unknown>[] {
  return state.backupJobs.map((j) => {
    const e = jobConfig(j);
    const next = nextRun(j.schedule, Math.floor(now / 1000));
    if (next !== undefined) e['next-run'] = next;
    return e;
  });
}

/** GET /cluster/backup/{id}. */
export function backupJob(state: SimState, id: string): Record<string, unknown> {
  const j = state.backupJobs.find((x) => x.id === id);
  if (!j) throw new PveParamError({ id: `No such job '${id}'` });
  return jobConfig(j);
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** Weekdays of a calendar event's day part: `mon`, `mon..fri`, `sat,sun` (undefined: not understood). */
function weekdays(spec: string): Set<number> | undefined {
  const days = new Set<number>();
  for (const part of spec.split(',')) {
    const [from, to] = part.split('..');
    const a = DAYS.indexOf((from ?? '').slice(0, 3).toLowerCase());
    const b = to === undefined ? a : DAYS.indexOf(to.slice(0, 3).toLowerCase());
    if (a < 0 || b < 0) return undefined;
    for (let d = a; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === b) break;
    }
  }
  return days;
}

/**
 * The next time (epoch seconds, UTC) a calendar event fires after `from`: the forms backup jobs use —
 * `[weekdays] HH:MM` (HH may be `*`), `daily`, `weekly`, `hourly`. Undefined for anything else.
 */
export function nextRun(schedule: string, from: number): number | undefined {
  const named: Record<string, string> = { daily: '00:00', weekly: 'mon 00:00', hourly: '*:00' };
  const spec = named[schedule.trim()] ?? schedule.trim();
  const m = /^(?:(\S+)\s+)?(\*|\d{1,2}):(\d{2})$/.exec(spec);
  if (!m) return undefined;
  const days = m[1] === undefined ? undefined : weekdays(m[1]);
  if (m[1] !== undefined && !days) return undefined;
  const minute = Number(m[3]);
  const hour = m[2] === '*' ? undefined : Number(m[2]);
  if (minute > 59 || (hour !== undefined && hour > 23)) return undefined;
  // Walk minute by minute over at most eight days (enough for any weekday set).
  let t = (Math.floor(from / 60) + 1) * 60;
  for (let i = 0; i < 8 * 24 * 60; i++, t += 60) {
    const d = new Date(t * 1000);
    if (d.getUTCMinutes() !== minute) continue;
    if (hour !== undefined && d.getUTCHours() !== hour) continue;
    if (days && !days.has(d.getUTCDay())) continue;
    return t;
  }
  return undefined;
}
