// Snapshot rollback and delete for VMs and containers. PVE checks nothing before forking (qemu-server API2/Qemu.pm
// rollback / delsnapshot, pve-container API2/LXC/Snapshot.pm): every refusal is the task's exitstatus. The workers
// follow pve-guest-common's AbstractConfig::snapshot_rollback and snapshot_delete, including the guest migration
// lock around them and ZFS's rule that only the most recent snapshot can be rolled back to. A worker that fails
// after setting its lock ('rollback', 'snapshot-delete') leaves the lock in place, as PVE does.
import type { Principal } from './auth';
import { PveHttpError, TaskError } from './errors';
import type { Release } from './flocks';
import { assertConfigWritable, checkConfigLock, type GuestType, guestVolume, taskPrefix } from './guest-config';
import { lockFiles, MIGRATION_LOCK_WAIT_MS, migrationLockFile } from './guest-locks';
import { ctPower } from './lxc-operations';
import { isRunning, markStarted, markStopped, type OpsContext, power, reloadVm } from './operations';
import { bool, type Params } from './params';
import type { TaskContext } from './tasks';
import type { SimVm } from './types';

const fail = (message: string) => new TaskError(message);

/** The guest's config under its flock (a worker's lock_config); release with t.unlockAll(). */
async function locked(ctx: OpsContext, t: TaskContext, node: string, vmid: number, type: GuestType): Promise<SimVm> {
  await t.flock(vmid, 'exclusive', type);
  return reloadVm(ctx.state, node, vmid, type);
}

/** POST /nodes/{node}/{qemu,lxc}/{vmid}/snapshot/{snapname}/rollback. Returns the UPID. */
export function rollback(ctx: OpsContext, who: Principal, node: string, vmid: number, type: GuestType, p: Params) {
  const { state, clock, tasks } = ctx;
  const snapname = p.snapname as string;
  const start = bool(p, 'start') ?? false;
  return tasks.start({
    node,
    type: `${taskPrefix(type)}rollback` as 'qmrollback' | 'vzrollback',
    vmid,
    user: who.authid,
    op: 'rollback',
    detail: { snapname, start },
    run: async (t) => {
      const release = await lockFiles(state, node, clock).acquire(migrationLockFile(vmid), MIGRATION_LOCK_WAIT_MS);
      try {
        // prepare: checks, stop the guest, lock 'rollback'
        let vm = await locked(ctx, t, node, vmid, type);
        if (vm.template) throw fail("you can't rollback if vm is a template");
        const index = vm.snapshots.findIndex((s) => s.name === snapname);
        if (index < 0) throw fail(`snapshot '${snapname}' does not exist`);
        // ZFSPoolPlugin::volume_rollback_is_possible: newer snapshots block it.
        if (index < vm.snapshots.length - 1) {
          throw fail(`can't rollback, '${snapname}' is not most recent snapshot on '${guestVolume(vm)}'`);
        }
        checkConfigLock(vm);
        if (isRunning(vm)) markStopped(vm);
        assertConfigWritable(state, vm, t.task.pid);
        vm.lock = 'rollback';
        t.unlockAll();
        await t.work();
        // commit: the snapshot's config becomes the current one
        vm = await locked(ctx, t, node, vmid, type);
        if (vm.lock !== 'rollback') throw fail('got wrong lock');
        assertConfigWritable(state, vm, t.task.pid);
        vm.lock = undefined;
        vm.parentSnapshot = snapname;
        // A snapshot with RAM starts the VM from its saved state.
        if (type === 'qemu' && vm.snapshots[index]?.vmstate) markStarted(vm, clock.now(), t.task.pid + 1);
        t.unlockAll();
        if (start && !isRunning(vm)) startAfterRollback(ctx, who, node, vmid, type);
      } finally {
        release();
      }
    },
  }).upid;
}

/** `start`: the guest's start API, called from the worker (its own qmstart/vzstart, or hastart, task). */
function startAfterRollback(ctx: OpsContext, who: Principal, node: string, vmid: number, type: GuestType): void {
  try {
    if (type === 'lxc') ctPower(ctx, who, node, vmid, 'start', {});
    else power(ctx, who, node, vmid, 'start', {});
  } catch (err) {
    if (err instanceof PveHttpError) throw fail(err.message);
    throw err;
  }
}

/** DELETE /nodes/{node}/{qemu,lxc}/{vmid}/snapshot/{snapname}[?force=1]. Returns the UPID. */
export function deleteSnapshot(
  ctx: OpsContext,
  who: Principal,
  node: string,
  vmid: number,
  type: GuestType,
  p: Params,
): string {
  const { state, clock, tasks } = ctx;
  const snapname = p.snapname as string;
  const force = bool(p, 'force') ?? false;
  return tasks.start({
    node,
    type: `${taskPrefix(type)}delsnapshot` as 'qmdelsnapshot' | 'vzdelsnapshot',
    vmid,
    user: who.authid,
    op: 'delsnapshot',
    detail: { snapname, force },
    run: async (t) => {
      let release: Release | undefined;
      if (!force) {
        try {
          release = await lockFiles(state, node, clock).acquire(migrationLockFile(vmid), MIGRATION_LOCK_WAIT_MS);
        } catch (err) {
          throw new TaskError('Failed to obtain guest migration lock - replication running?', { cause: err });
        }
      }
      try {
        await removeSnapshot(ctx, t, node, vmid, type, snapname, force);
      } finally {
        release?.();
      }
    },
  }).upid;
}

/** AbstractConfig::snapshot_delete. */
async function removeSnapshot(
  ctx: OpsContext,
  t: TaskContext,
  node: string,
  vmid: number,
  type: GuestType,
  snapname: string,
  force: boolean,
): Promise<void> {
  const { state, tasks } = ctx;
  // qemu-server reads the config under its flock first (the TPM state check).
  if (type === 'qemu') {
    await locked(ctx, t, node, vmid, type);
    t.unlockAll();
  }
  const missing = () => fail(`snapshot '${snapname}' does not exist`);
  if (!reloadVm(state, node, vmid, type).snapshots.some((s) => s.name === snapname)) throw missing();
  // set_lock
  let vm = await locked(ctx, t, node, vmid, type);
  checkConfigLock(vm);
  assertConfigWritable(state, vm, t.task.pid);
  vm.lock = 'snapshot-delete';
  t.unlockAll();
  // prepare
  vm = await locked(ctx, t, node, vmid, type);
  if (vm.lock !== 'snapshot-delete') throw fail("encountered invalid lock, expected 'snapshot-delete'");
  if (vm.template) throw fail("you can't delete a snapshot if vm is a template");
  if (!vm.snapshots.some((s) => s.name === snapname)) throw missing();
  t.unlockAll();
  // the volume snapshots (and a saved RAM state); `force` goes on when removing them fails
  try {
    await t.work();
  } catch (err) {
    if (!force || tasks.signal.aborted) throw err;
    t.log(`${err instanceof Error ? err.message : String(err)}`);
  }
  // cleanup: drop the snapshot, hang its children (and the current state) on its parent
  vm = await locked(ctx, t, node, vmid, type);
  if (vm.lock !== 'snapshot-delete') throw fail("encountered invalid lock, expected 'snapshot-delete'");
  const snap = vm.snapshots.find((s) => s.name === snapname);
  if (!snap) throw missing();
  assertConfigWritable(state, vm, t.task.pid);
  if (vm.parentSnapshot === snapname) vm.parentSnapshot = snap.parent;
  for (const s of vm.snapshots) if (s.parent === snapname) s.parent = snap.parent;
  vm.snapshots = vm.snapshots.filter((s) => s !== snap);
  vm.lock = undefined;
  t.unlockAll();
}
