// vzdump: POST /nodes/{node}/vzdump (pve-manager API2/VZDump.pm) and scheduled backup jobs run on every node
// (pvescheduler). One task per node backs up that node's guests one after the other: each guest carries the config
// lock 'backup' while its archive is written (VZDump::QemuServer / VZDump::LXC lock_vm → set_lock), so operations
// that check locks meanwhile fail with "VM is locked (backup)". A guest that fails is logged and the task ends with
// "job errors".
import type { Principal } from './auth';
import type { SimBackupJob, SimStorage } from './backup-types';
import {
  archiveSize,
  archiveTarget,
  DEFAULT_BACKUP_STORAGE,
  holdsBackups,
  makeArchive,
  pbsUnreachable,
  storageOnNode,
} from './backups';
import { PveHttpError, PveParamError, TaskError } from './errors';
import {
  assertConfigWritable,
  checkConfigLock,
  duration,
  type GuestType,
  guestTypeOf,
  timestamp,
} from './guest-config';
import { lockFiles, VZDUMP_LOCK_FILE } from './guest-locks';
import { isRunning, type OpsContext, reloadVm } from './operations';
import { bool, type Params, splitList, str } from './params';
import type { TaskContext } from './tasks';
import type { SimState, SimVm } from './types';

/** vzdump's wait for the node's backup lock (`lockwait`, default 180 minutes). */
const VZDUMP_LOCK_WAIT_MS = 180 * 60_000;

export interface VzdumpOptions {
  /** Named guests (pve-vmid-list), or every guest with `all`, or a pool's. */
  vmids?: number[] | undefined;
  all?: boolean | undefined;
  pool?: string | undefined;
  exclude?: number[] | undefined;
  storage?: string | undefined;
  mode?: 'snapshot' | 'suspend' | 'stop' | undefined;
  compress?: string | undefined;
  notesTemplate?: string | undefined;
  protected?: boolean | undefined;
  jobId?: string | undefined;
  /** The caller may read only (an audit principal): it has no VM.Backup on the guests. */
  readOnly?: boolean | undefined;
}

const toIds = (v: string | undefined): number[] | undefined =>
  v === undefined ? undefined : splitList(v).map((x) => Number(x));

/** POST /nodes/{node}/vzdump. Returns the UPID, or 'OK' when none of the named guests is on this node. */
export function vzdumpApi(ctx: OpsContext, who: Principal, node: string, p: Params): string {
  if (bool(p, 'stdout')) throw new PveParamError({ stdout: 'option is only allowed on the command line interface.' });
  const opts: VzdumpOptions = {
    vmids: toIds(str(p, 'vmid')),
    all: bool(p, 'all'),
    pool: str(p, 'pool'),
    exclude: toIds(str(p, 'exclude')),
    storage: str(p, 'storage'),
    mode: str(p, 'mode') as VzdumpOptions['mode'],
    compress: str(p, 'compress'),
    notesTemplate: str(p, 'notes-template'),
    protected: bool(p, 'protected'),
    jobId: str(p, 'job-id'),
  };
  // VZDump::verify_vzdump_parameters
  if (opts.all && opts.vmids) throw new PveParamError({ all: "option conflicts with option 'vmid'" });
  if (opts.exclude && opts.vmids) throw new PveParamError({ exclude: "option conflicts with option 'vmid'" });
  if (opts.pool && opts.vmids) throw new PveParamError({ pool: "option conflicts with option 'vmid'" });
  if (opts.exclude && !opts.pool) opts.all = true;
  if (!opts.all && !opts.pool && !(bool(p, 'stop') ?? false) && !opts.vmids) {
    throw new PveParamError({ vmid: 'property is missing' });
  }
  // The API checks only the storage before forking; the worker checks VM.Backup on each guest.
  if (who.role !== 'admin') {
    if (opts.storage !== undefined) {
      throw new PveHttpError(403, `Permission check failed (/storage/${opts.storage}, Datastore.AllocateSpace)`);
    }
    opts.readOnly = true;
  }
  return startVzdump(ctx, node, who.authid, opts) ?? 'OK';
}

/** Runs a scheduled job now, as pvescheduler does on every (online) node. Returns the UPIDs started. */
export function runBackupJob(ctx: OpsContext, job: SimBackupJob): string[] {
  const upids: string[] = [];
  for (const n of ctx.state.nodes.values()) {
    if (!n.online || (job.node !== undefined && job.node !== n.name)) continue;
    const upid = startVzdump(ctx, n.name, 'root@pam', {
      vmids: job.vmids.length > 0 ? job.vmids : undefined,
      all: job.all || (job.exclude.length > 0 && job.pool === undefined),
      pool: job.pool,
      exclude: job.exclude,
      storage: job.storage,
      mode: job.mode,
      compress: job.compress,
      notesTemplate: job.notesTemplate,
      jobId: job.id,
    });
    if (upid) upids.push(upid);
  }
  return upids;
}

/**
 * VZDump::get_included_guests (a pool's guests, the named ones, or all but `exclude`), split into this node's
 * guests (and named ones that do not exist, which fail visibly later) and the others (skipped).
 */
function includedGuests(state: SimState, node: string, o: VzdumpOptions): { local: number[]; skip: number[] } {
  let ids: number[];
  if (o.pool !== undefined) ids = [...state.vms.values()].filter((v) => v.pool === o.pool).map((v) => v.vmid);
  else if (o.vmids) ids = o.vmids;
  else if (o.all) {
    const exclude = new Set(o.exclude ?? []);
    ids = [...state.vms.keys()].filter((id) => !exclude.has(id));
  } else ids = [];
  const local: number[] = [];
  const skip: number[] = [];
  for (const id of [...new Set(ids)].sort((a, b) => a - b)) {
    const vm = state.vms.get(id);
    if (!vm || vm.node === node) local.push(id);
    else skip.push(id);
  }
  return { local, skip };
}

/** Starts a vzdump task on `node` for its guests among those `o` names; undefined when it has none (and not `all`). */
export function startVzdump(ctx: OpsContext, node: string, user: string, o: VzdumpOptions): string | undefined {
  const { local, skip } = includedGuests(ctx.state, node, o);
  if (local.length === 0 && !o.all) return undefined;
  return ctx.tasks.start({
    node,
    type: 'vzdump',
    vmid: local[0] ?? 0,
    id: local.length === 1 ? String(local[0]) : '',
    user,
    op: 'backup',
    detail: { vmids: local, storage: o.storage ?? DEFAULT_BACKUP_STORAGE, job: o.jobId },
    run: (t) => runVzdump(ctx, node, o, local, skip, t),
  }).upid;
}

function commandLine(o: VzdumpOptions, local: number[], storage: string): string {
  const parts = ['vzdump'];
  if (o.vmids) parts.push(...local.map(String));
  if (o.all) parts.push('--all', '1');
  if (o.pool !== undefined) parts.push('--pool', o.pool);
  if (o.exclude && o.exclude.length > 0) parts.push('--exclude', o.exclude.join(','));
  if (o.compress !== undefined) parts.push('--compress', o.compress);
  parts.push('--mode', o.mode ?? 'snapshot', '--storage', storage);
  if (o.notesTemplate !== undefined) parts.push('--notes-template', `'${o.notesTemplate}'`);
  return parts.join(' ');
}

/** VZDump->new's storage checks: the task fails before any guest when the storage cannot take the backups. */
function backupStorage(state: SimState, node: string, id: string): SimStorage {
  const s = state.storages.find((x) => x.storage === id);
  if (!s) throw new TaskError(`could not get storage information for '${id}': storage '${id}' does not exist`);
  if (!storageOnNode(s, node)) {
    throw new TaskError(`could not activate storage '${id}': storage '${id}' is not available on node '${node}'`);
  }
  if (!s.online) {
    throw new TaskError(`could not activate storage '${id}': ${pbsUnreachable(s)}`);
  }
  if (!holdsBackups(s)) {
    throw new TaskError(
      `could not get storage information for '${id}': can't use storage '${id}' for backups - wrong content type`,
    );
  }
  return s;
}

async function runVzdump(
  ctx: OpsContext,
  node: string,
  o: VzdumpOptions,
  guests: number[],
  skip: number[],
  t: TaskContext,
): Promise<void> {
  let local = guests;
  const { state, clock } = ctx;
  const storageId = o.storage ?? DEFAULT_BACKUP_STORAGE;
  const release = await lockFiles(state, node, clock).acquire(VZDUMP_LOCK_FILE, VZDUMP_LOCK_WAIT_MS);
  try {
    const storage = backupStorage(state, node, storageId);
    // VZDump::exec_backup: a guest named explicitly without VM.Backup fails the job; with `all` it is left out.
    if (o.readOnly && local.length > 0 && !o.all) {
      throw new TaskError(`Permission check failed (/vms/${local[0]}, VM.Backup)`);
    }
    if (o.readOnly) local = [];
    const info = (m: string) => t.log(`INFO: ${m}`);
    info(`starting new backup job: ${commandLine(o, local, storageId)}`);
    if (skip.length > 0) info(`skip external VMs: ${skip.join(', ')}`);
    let errors = 0;
    for (const vmid of local) {
      if (!(await backupGuest(ctx, node, storage, o, vmid, t))) errors++;
    }
    info(errors > 0 ? 'Backup job finished with errors' : 'Backup job finished successfully');
    if (errors > 0) throw new TaskError('job errors');
  } finally {
    release();
  }
}

/** VZDump::exec_backup_task for one guest. False when its backup failed (logged). */
async function backupGuest(
  ctx: OpsContext,
  node: string,
  storage: SimStorage,
  o: VzdumpOptions,
  vmid: number,
  t: TaskContext,
): Promise<boolean> {
  const { state, clock } = ctx;
  const info = (m: string) => t.log(`INFO: ${m}`);
  const startedAt = clock.now();
  const vm0 = state.vms.get(vmid);
  const type: GuestType = vm0 ? guestTypeOf(vm0) : 'qemu';
  let locked: SimVm | undefined;
  let workFailed = false;
  try {
    if (!vm0 || vm0.node !== node) throw new TaskError(`unable to find VM '${vmid}'`);
    const mode = o.mode ?? 'snapshot';
    if (mode === 'stop' && vm0.hastate !== undefined && vm0.hastate !== 'ignored') {
      throw new TaskError(
        'Cannot execute a backup with stop mode on a HA managed and enabled Service. Use snapshot mode or disable the Service.',
      );
    }
    info(`Starting Backup of VM ${vmid} (${type})`);
    info(`Backup started at ${timestamp(clock.now())}`);
    info(`status = ${isRunning(vm0) ? 'running' : 'stopped'}`);
    // set_lock: under the config flock, check_lock, then write `lock: backup`.
    await t.flock(vmid, 'exclusive', type);
    const vm = reloadVm(state, node, vmid, type);
    checkConfigLock(vm);
    assertConfigWritable(state, vm, t.task.pid);
    vm.lock = 'backup';
    locked = vm;
    t.unlockAll();
    info(`backup mode: ${isRunning(vm) ? mode : 'stop'}`);
    info('ionice priority: 7');
    const ctime = Math.floor(clock.now() / 1000);
    const archive = makeArchive(storage, {
      vmid,
      guestType: type,
      node,
      ctime,
      size: archiveSize(vm.maxdisk),
      compress: o.compress ?? '0',
      protected: o.protected,
    });
    const kind = storage.type === 'pbs' ? 'Proxmox Backup Server' : 'vzdump';
    info(`creating ${kind} archive '${archiveTarget(storage, archive)}'`);
    try {
      await t.work();
    } catch (err) {
      workFailed = true;
      throw err;
    }
    if (o.notesTemplate) {
      info('adding notes to backup');
      archive.notes = notesOf(o.notesTemplate, vm, node, state.cluster);
    }
    if (archive.protected) info('marking backup as protected');
    if (storage.type !== 'pbs') info(`archive file size: ${(archive.size / 1024 ** 3).toFixed(2)}GB`);
    state.backups.push(archive);
    vm.lock = undefined;
    locked = undefined;
    info(`Finished Backup of VM ${vmid} (${duration(clock.now() - startedAt)})`);
    info(`Backup finished at ${timestamp(clock.now())}`);
    return true;
  } catch (err) {
    t.unlockAll();
    if (locked?.lock === 'backup') locked.lock = undefined;
    // A failure injected into the task (or the simulator stopping) ends the job with its own text.
    if (workFailed) throw err;
    t.log(`ERROR: Backup of VM ${vmid} failed - ${err instanceof Error ? err.message : String(err)}`);
    info(`Failed at ${timestamp(clock.now())}`);
    return false;
  }
}

/** VZDump's notes template: {{cluster}}, {{guestname}}, {{node}}, {{vmid}}. */
function notesOf(template: string, vm: SimVm, node: string, cluster: string): string {
  const vars: Record<string, string> = { cluster, guestname: vm.name, node, vmid: String(vm.vmid) };
  const text = template.replace(/\{\{([^}]+)\}\}/g, (whole, name: string) => vars[name.trim()] ?? whole);
  return text.split('\n')[0] ?? '';
}
