// Storages, backup archives and backup jobs: the seed's, and the ones vzdump adds. Archive names and formats as
// pve-storage lists them: vzdump archives on a directory storage (`local:backup/vzdump-qemu-100-2025_01_06-09_00_00
// .vma.zst`, format vma.zst / tar.zst) and Proxmox Backup Server snapshots (`pbs:backup/vm/100/2025-01-06T09:00:00Z`,
// format pbs-vm / pbs-ct).
import type {
  SimBackup,
  SimBackupJob,
  SimBackupJobSeed,
  SimBackupSeed,
  SimStorage,
  SimStorageSeed,
} from './backup-types';
import { SimConfigError } from './errors';
import type { GuestType } from './guest-config';
import type { SimNode, SimSeed, SimState, SimVmSeed } from './types';

const TiB = 1024 ** 4;

/** The storage vzdump writes to when none is named (its default dumpdir /var/lib/vz/dump is `local`'s). */
export const DEFAULT_BACKUP_STORAGE = 'local';

/** What every node has after installation on ZFS: `local` (dir) and `local-zfs` (zfspool). */
export function defaultStorages(): SimStorage[] {
  return [
    {
      storage: 'local',
      type: 'dir',
      content: ['backup', 'iso', 'vztmpl'],
      shared: false,
      path: '/var/lib/vz',
      online: true,
    },
    { storage: 'local-zfs', type: 'zfspool', content: ['images', 'rootdir'], shared: false, online: true },
  ];
}

const SHARED_TYPES = new Set(['pbs', 'nfs', 'cifs']);

function storageOf(s: SimStorageSeed, nodes: ReadonlyMap<string, SimNode>): SimStorage {
  if (!/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i.test(s.storage)) throw new SimConfigError(`invalid storage ID '${s.storage}'`);
  for (const n of s.nodes ?? []) {
    if (!nodes.has(n)) throw new SimConfigError(`storage '${s.storage}' names unknown node '${n}'`);
  }
  const pbs = s.type === 'pbs';
  return {
    storage: s.storage,
    type: s.type,
    content: [...(s.content ?? ['backup'])].sort(),
    shared: s.shared ?? SHARED_TYPES.has(s.type),
    nodes: s.nodes,
    server: pbs ? (s.server ?? '10.0.0.50') : s.server,
    datastore: pbs ? (s.datastore ?? 'store1') : s.datastore,
    path: pbs ? undefined : (s.path ?? `/mnt/pve/${s.storage}`),
    total: s.total ?? 4 * TiB,
    online: true,
  };
}

/** Whether a storage is usable on a node (no `nodes` restriction, or the node is in it). */
export const storageOnNode = (s: SimStorage, node: string): boolean => !s.nodes || s.nodes.includes(node);

export const holdsBackups = (s: SimStorage): boolean => s.content.includes('backup');

/** The text PBSPlugin::activate_storage dies with when the backup server cannot be reached. */
export const pbsUnreachable = (s: SimStorage): string =>
  `${s.storage}: error fetching datastores - 500 Can't connect to ${s.server ?? s.storage}:8007 (Connection refused)`;

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** vzdump's archive time stamp: 2025_01_06-09_00_00 (the node's local time; simulated nodes run on UTC). */
function dumpStamp(ctime: number): string {
  const d = new Date(ctime * 1000);
  return `${d.getUTCFullYear()}_${pad(d.getUTCMonth() + 1)}_${pad(d.getUTCDate())}-${pad(d.getUTCHours())}_${pad(d.getUTCMinutes())}_${pad(d.getUTCSeconds())}`;
}

/** PBSPlugin::print_volid's time: strftime("%FT%TZ", gmtime). */
function pbsStamp(ctime: number): string {
  return new Date(ctime * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** VZDump::compressor_info's file extension (undefined: not compressed). */
function compressExt(compress: string): string | undefined {
  if (compress === 'zstd') return 'zst';
  if (compress === 'gzip') return 'gz';
  if (compress === '1' || compress === 'lzo') return 'lzo';
  return undefined;
}

export interface ArchiveSpec {
  vmid: number;
  guestType: GuestType;
  /** The node that makes (and, on a local storage, keeps) it. */
  node: string;
  /** epoch seconds */
  ctime: number;
  size: number;
  compress: string;
  notes?: string | undefined;
  protected?: boolean | undefined;
}

/** A new archive's record on `storage`. */
export function makeArchive(storage: SimStorage, a: ArchiveSpec): SimBackup {
  const base = {
    storage: storage.storage,
    node: a.node,
    vmid: a.vmid,
    guestType: a.guestType,
    ctime: a.ctime,
    size: a.size,
    notes: a.notes,
    protected: a.protected ?? false,
  };
  if (storage.type === 'pbs') {
    const btype = a.guestType === 'lxc' ? 'ct' : 'vm';
    return {
      ...base,
      volid: `${storage.storage}:backup/${btype}/${a.vmid}/${pbsStamp(a.ctime)}`,
      format: `pbs-${btype}`,
    };
  }
  const ext = compressExt(a.compress);
  const format = `${a.guestType === 'lxc' ? 'tar' : 'vma'}${ext ? `.${ext}` : ''}`;
  const name = `vzdump-${a.guestType}-${a.vmid}-${dumpStamp(a.ctime)}.${format}`;
  return { ...base, volid: `${storage.storage}:backup/${name}`, format };
}

/** Where vzdump writes an archive (its log line "creating ... archive '<target>'"). */
export function archiveTarget(storage: SimStorage, b: SimBackup): string {
  if (storage.type === 'pbs') return b.volid.slice(`${storage.storage}:backup/`.length);
  return `${storage.path ?? '/var/lib/vz'}/dump/${b.volid.slice(`${storage.storage}:backup/`.length)}`;
}

/** The size of a new archive of a guest: about a fifth of its disk (compressed, mostly empty). */
export const archiveSize = (maxdisk: number): number => Math.round(maxdisk / 5);

function seedArchive(
  storages: ReadonlyMap<string, SimStorage>,
  vm: SimVmSeed,
  b: SimBackupSeed,
  nowMs: number,
): SimBackup {
  const id = b.storage ?? DEFAULT_BACKUP_STORAGE;
  const storage = storages.get(id);
  if (!storage) throw new SimConfigError(`backup of VM ${vm.vmid}: no storage '${id}'`);
  if (!holdsBackups(storage)) throw new SimConfigError(`backup of VM ${vm.vmid}: storage '${id}' holds no backups`);
  // A simulator started near the epoch (scenario clocks) has no past to put an old archive in: it is made at 0.
  const ctime = b.ctime ?? Math.max(0, Math.floor(nowMs / 1000) - Math.round((b.ageHours ?? 24) * 3600));
  return makeArchive(storage, {
    vmid: vm.vmid,
    guestType: vm.type ?? 'qemu',
    node: vm.node,
    ctime,
    size: b.size ?? archiveSize(vm.maxdisk),
    compress: 'zstd',
    notes: b.notes,
    protected: b.protected,
  });
}

function jobOf(j: SimBackupJobSeed, storages: ReadonlyMap<string, SimStorage>): SimBackupJob {
  if (j.storage !== undefined && !storages.has(j.storage)) {
    throw new SimConfigError(`backup job '${j.id}': no storage '${j.storage}'`);
  }
  return {
    id: j.id,
    schedule: j.schedule ?? '00:00',
    storage: j.storage,
    enabled: j.enabled ?? true,
    all: j.all ?? false,
    vmids: [...(j.vmids ?? [])],
    pool: j.pool,
    exclude: [...(j.exclude ?? [])],
    node: j.node,
    mode: j.mode ?? 'snapshot',
    compress: j.compress ?? 'zstd',
    notesTemplate: j.notesTemplate,
    comment: j.comment,
  };
}

/** The storages, archives and jobs of a seed. */
export function backupStateFromSeed(
  seed: SimSeed,
  nodes: ReadonlyMap<string, SimNode>,
  nowMs: number,
): Pick<SimState, 'storages' | 'backups' | 'backupJobs'> {
  const storages = defaultStorages();
  for (const s of seed.storages ?? []) {
    if (storages.some((x) => x.storage === s.storage)) throw new SimConfigError(`duplicate storage '${s.storage}'`);
    storages.push(storageOf(s, nodes));
  }
  const byId = new Map(storages.map((s) => [s.storage, s]));
  const backups: SimBackup[] = [];
  for (const vm of seed.vms) for (const b of vm.backups ?? []) backups.push(seedArchive(byId, vm, b, nowMs));
  const jobs = (seed.backupJobs ?? []).map((j) => jobOf(j, byId));
  const ids = new Set<string>();
  for (const j of jobs) {
    if (ids.has(j.id)) throw new SimConfigError(`duplicate backup job '${j.id}'`);
    ids.add(j.id);
  }
  return { storages, backups, backupJobs: jobs };
}

/**
 * `purge` of a destroyed guest (VZDump::Plugin::remove_vmid_from_backup_jobs): it leaves every job's VMID list
 * (a job whose list becomes empty is removed) and exclude list.
 */
export function removeFromBackupJobs(state: SimState, vmid: number): void {
  state.backupJobs = state.backupJobs.filter((job) => {
    if (job.vmids.length > 0) {
      job.vmids = job.vmids.filter((id) => id !== vmid);
      return job.vmids.length > 0;
    }
    job.exclude = job.exclude.filter((id) => id !== vmid);
    return true;
  });
}
