// Backup jobs (GET /cluster/backup) and the backup archives on every backup storage of a cluster (vzdump files
// and Proxmox Backup Server snapshots): GET /storage names the storages whose content includes `backup`, GET /nodes
// which nodes answer, and GET /nodes/{node}/storage/{storage}/content?content=backup lists each one's archives.
// A shared storage is read once (through the first node that answers for it); a local one on each of its nodes.
// A storage that cannot be read is named in `failedStorages` — never taken to hold no backups.
import type { Log } from '../log';
import { MalformedAnswerError } from '../platform/errors';
import type { BackupJob, BackupListing, BackupVolume } from '../platform/types';
import type { PveClient } from './client';
import { FieldReader, isRecord, MAX_VMID, NODE_NAME_RE, type Wire } from './wire';

export interface BackupReadDeps {
  cluster: string;
  client: PveClient;
  log: Log;
}

/** One storage whose content includes backups, as GET /storage describes it. */
export interface BackupStorage {
  storage: string;
  /** dir, nfs, cifs, pbs, ... */
  type: string;
  shared: boolean;
  /** The nodes it is restricted to; undefined = every node. */
  nodes?: string[] | undefined;
}

/**
 * Storage types PVE always treats as shared (pve-storage src/PVE/Storage/Plugin.pm @SHARED_STORAGE; parse_config
 * sets `shared` for them, so GET /storage should say so — this keeps a listing right if it does not).
 */
const SHARED_TYPES: ReadonlySet<string> = new Set([
  'iscsi',
  'nfs',
  'cifs',
  'rbd',
  'cephfs',
  'iscsidirect',
  'zfs',
  'drbd',
  'pbs',
]);

/** pve-storage-id */
const STORAGE_ID_RE = /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i;

const splitList = (v: unknown): string[] =>
  typeof v === 'string'
    ? v
        .split(/[,;\s]+/)
        .map((s) => s.trim())
        .filter((s) => s !== '')
    : [];

/** A job's `vmid` (pve-vmid-list "100,101", or one number). */
function vmidList(v: unknown): number[] {
  if (typeof v === 'number') return Number.isInteger(v) ? [v] : [];
  return splitList(v)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n >= 1 && n <= MAX_VMID);
}

/** GET /cluster/backup entries → jobs; unreadable entries are skipped (and reported). */
export function readBackupJobs(data: unknown[], problems: string[]): BackupJob[] {
  const jobs: BackupJob[] = [];
  data.forEach((e, i) => {
    const where = `/cluster/backup[${i}]`;
    if (!isRecord(e)) {
      problems.push(`${where}: not an object`);
      return;
    }
    const r = new FieldReader(e, where);
    const id = r.string('id');
    const job: BackupJob = {
      id: id ?? '',
      enabled: r.flag('enabled', true),
      schedule: r.optString('schedule'),
      storage: r.optString('storage'),
      all: r.flag('all'),
      vmids: vmidList(e.vmid),
      pool: r.optString('pool'),
    };
    if (!r.ok || id === undefined) {
      problems.push(...r.problems);
      return;
    }
    jobs.push(job);
  });
  return jobs;
}

/** GET /storage entries → the enabled storages whose content includes backups. */
export function readBackupStorages(data: unknown[], problems: string[]): BackupStorage[] {
  const storages: BackupStorage[] = [];
  data.forEach((e, i) => {
    const where = `/storage[${i}]`;
    if (!isRecord(e)) {
      problems.push(`${where}: not an object`);
      return;
    }
    const r = new FieldReader(e, where);
    const storage = r.string('storage', STORAGE_ID_RE);
    const type = r.optString('type') ?? 'unknown';
    const disabled = r.flag('disable');
    const shared = r.flag('shared') || SHARED_TYPES.has(type);
    if (!r.ok || storage === undefined) {
      problems.push(...r.problems);
      return;
    }
    if (disabled || !splitList(e.content).includes('backup')) return;
    const nodes = splitList(e.nodes);
    storages.push({ storage, type, shared, ...(nodes.length > 0 ? { nodes } : {}) });
  });
  return storages;
}

/** GET /nodes entries → node name → online. */
function readNodes(data: unknown[]): Map<string, boolean> {
  const nodes = new Map<string, boolean>();
  for (const e of data) {
    if (!isRecord(e) || typeof e.node !== 'string' || !NODE_NAME_RE.test(e.node)) continue;
    nodes.set(e.node, e.status === 'online');
  }
  return nodes;
}

/** One storage's content listing → its backup volumes; throws MalformedAnswerError for an entry it cannot date. */
export function readBackupVolumes(cluster: string, path: string, storage: string, node: string, data: unknown[]) {
  const volumes: BackupVolume[] = [];
  for (const e of data) {
    if (!isRecord(e))
      throw new MalformedAnswerError(`${cluster}: GET ${path}: an entry is not an object`, cluster, path);
    if (e.content !== undefined && e.content !== 'backup') continue;
    const r = new FieldReader(e as Wire, path);
    const volid = r.string('volid');
    // PVE leaves out `vmid` for an archive it cannot attribute to a guest: it is nobody's backup.
    if (!r.has('vmid')) continue;
    const vmid = r.int('vmid', 1, MAX_VMID);
    const ctime = r.int('ctime');
    const format = r.optString('format');
    const size = r.has('size') ? r.amount('size') : undefined;
    if (!r.ok || volid === undefined || vmid === undefined || ctime === undefined) {
      throw new MalformedAnswerError(`${cluster}: GET ${path}: ${r.problems.join('; ')}`, cluster, path);
    }
    volumes.push({ volid, storage, node, vmid, ctime, format, size });
  }
  return volumes;
}

export async function readBackups({ cluster, client, log }: BackupReadDeps): Promise<BackupListing> {
  const list = async (path: string, call: Parameters<PveClient['call']>[1]): Promise<unknown[]> => {
    const data = await client.call(`GET ${path}`, call, { retryLocks: false });
    if (!Array.isArray(data)) {
      throw new MalformedAnswerError(`${cluster}: GET ${path} answered something other than a list`, cluster, path);
    }
    return data;
  };

  const [jobData, storageData, nodeData] = await Promise.all([
    list('/cluster/backup', (api) => api.cluster.backup.$get()),
    list('/storage', (api) => api.storage.$get()),
    list('/nodes', (api) => api.nodes.$get()),
  ]);
  const problems: string[] = [];
  const jobs = readBackupJobs(jobData, problems);
  const storages = readBackupStorages(storageData, problems);
  const nodes = readNodes(nodeData);

  const readContent = async (storage: string, node: string): Promise<BackupVolume[]> => {
    const path = `/nodes/${node}/storage/${storage}/content`;
    const data = await list(path, (api) => api.nodes.$(node).storage.$(storage).content.$get({ content: 'backup' }));
    return readBackupVolumes(cluster, path, storage, node, data);
  };

  const failedStorages: string[] = [];
  const volumes: BackupVolume[] = [];
  const why = (err: unknown) => (err instanceof Error ? err.message : String(err));

  /** A shared storage: read through the first of its online nodes that answers. */
  const readShared = async (s: BackupStorage, on: string[]): Promise<void> => {
    for (const node of on.filter((n) => nodes.get(n) === true)) {
      try {
        volumes.push(...(await readContent(s.storage, node)));
        return;
      } catch (err) {
        problems.push(`${s.storage} through ${node}: ${why(err)}`);
      }
    }
    failedStorages.push(s.storage);
  };

  /** A local storage: read on each of its nodes; each one that cannot be read is `node/storage`. */
  const readLocal = async (s: BackupStorage, on: string[]): Promise<void> => {
    await Promise.all(
      on.map(async (node) => {
        if (nodes.get(node) !== true) {
          problems.push(`${s.storage} on ${node}: node is not online`);
          failedStorages.push(`${node}/${s.storage}`);
          return;
        }
        try {
          volumes.push(...(await readContent(s.storage, node)));
        } catch (err) {
          problems.push(`${s.storage} on ${node}: ${why(err)}`);
          failedStorages.push(`${node}/${s.storage}`);
        }
      }),
    );
  };

  const all = [...nodes.keys()].sort();
  await Promise.all(
    storages.map((s) => {
      const on = s.nodes ? all.filter((n) => s.nodes?.includes(n)) : all;
      return s.shared ? readShared(s, on) : readLocal(s, on);
    }),
  );

  if (problems.length > 0) {
    const more = problems.length > 5 ? ` (+${problems.length - 5} more)` : '';
    log.warn(`${cluster}: backup listing: ${problems.slice(0, 5).join('; ')}${more}`);
  }
  volumes.sort((a, b) => a.vmid - b.vmid || b.ctime - a.ctime || a.volid.localeCompare(b.volid));
  return { jobs, volumes, failedStorages: failedStorages.sort() };
}
