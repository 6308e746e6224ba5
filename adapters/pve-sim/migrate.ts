// Migration of VMs and containers, in PVE's order: the API's early checks (qemu-server API2/Qemu.pm migrate_vm,
// pve-container API2/LXC.pm migrate_vm) answer HTTP 500/400; the worker (guest_migration_lock, then
// AbstractMigrate::migrate with QemuMigrate.pm / LXC/Migrate.pm) fails the task. Any failure inside the migration
// proper ends the task with "migration aborted" and logs the reason. An HA-managed guest is handed to the HA
// manager instead (ha.ts).
import type { Principal } from './auth';
import { PveHttpError, PveParamError, TaskError } from './errors';
import {
  checkConfigLock,
  duration,
  type GuestType,
  guestVolume,
  guestWord,
  lockedText,
  timestamp,
} from './guest-config';
import { lockFiles, MIGRATION_LOCK_WAIT_MS, migrationLockFile } from './guest-locks';
import { haMigrate } from './ha';
import { isRunning, markStarted, markStopped, type OpsContext, reloadVm, requireQuorum, requireVm } from './operations';
import { bool, type Params } from './params';
import type { TaskContext } from './tasks';
import type { SimTask, SimVm } from './types';
import { releaseOf } from './versions';

export interface MigrationRequest {
  /** The source node (where the task runs). */
  node: string;
  vmid: number;
  type: GuestType;
  target: string;
  user: string;
  /** QEMU: live migration of a running VM. Containers: refused while running ("not implemented"). */
  online: boolean;
  withLocalDisks: boolean;
  /** Containers: restart mode (shut down, move, start on the target). */
  restart: boolean;
}

/** The API's checks every migrate call does first (target, quorum, node). */
function checkTarget(ctx: OpsContext, node: string, target: string): void {
  if (target === node) throw new PveParamError({ target: 'target is local node.' });
  requireQuorum(ctx.state);
  if (!ctx.state.nodes.has(target)) throw new PveHttpError(500, `no such cluster node '${target}'`);
}

/** POST /nodes/{node}/{qemu,lxc}/{vmid}/migrate. Returns the UPID (hamigrate for an HA-managed guest). */
export function migrate(ctx: OpsContext, who: Principal, node: string, vmid: number, type: GuestType, p: Params) {
  const target = p.target as string;
  checkTarget(ctx, node, target);
  const online = bool(p, 'online') ?? false;
  const restart = bool(p, 'restart') ?? false;
  if (type === 'qemu') {
    for (const key of ['force', 'migration_type', 'migration_network']) {
      if (p[key] !== undefined && p[key] !== false && !who.root) {
        throw new PveParamError({ [key]: 'Only root may use this option.' });
      }
    }
  }
  const vm = requireVm(ctx.state, node, vmid, type);
  if (type === 'qemu') {
    if (vm.lock) throw new PveHttpError(500, lockedText(vm));
    if (isRunning(vm) && !online) throw new PveHttpError(500, "can't migrate running VM without --online");
  } else if (isRunning(vm) && !online && !restart) {
    throw new PveHttpError(500, "can't migrate running container without --online or --restart");
  }
  if (vm.hastate !== undefined) return haMigrate(ctx, who, vm, target);
  const running = isRunning(vm);
  return startMigration(ctx, {
    node,
    vmid,
    type,
    target,
    user: who.authid,
    // QemuServer: "VM isn't running. Doing offline migration instead."
    online: type === 'qemu' ? online && running : online,
    withLocalDisks: bool(p, 'with-local-disks') ?? false,
    restart,
  }).upid;
}

/** Starts the qmigrate/vzmigrate worker. `onEnd` hears whether the guest moved. */
export function startMigration(ctx: OpsContext, req: MigrationRequest, onEnd?: (moved: boolean) => void): SimTask {
  return ctx.tasks.start({
    node: req.node,
    // sic: qemu-server's task type is `qmigrate`, pve-container's `vzmigrate`
    type: req.type === 'lxc' ? 'vzmigrate' : 'qmigrate',
    vmid: req.vmid,
    user: req.user,
    op: 'migrate',
    detail: { target: req.target, online: req.online },
    run: async (t) => {
      let moved = false;
      try {
        moved = await runMigration(ctx, req, t);
      } finally {
        onEnd?.(moved);
      }
    },
  });
}

/** The worker: guest_migration_lock (10 s), then the migration under the config flock. True when the guest moved. */
async function runMigration(ctx: OpsContext, req: MigrationRequest, t: TaskContext): Promise<boolean> {
  const { state, clock } = ctx;
  const release = await lockFiles(state, req.node, clock).acquire(migrationLockFile(req.vmid), MIGRATION_LOCK_WAIT_MS);
  const started = clock.now();
  const log = (msg: string) => t.log(`${timestamp(clock.now())} ${msg}`);
  const word = guestWord(req.type);
  let vm: SimVm | undefined;
  let wasRunning = false;
  let moved = false;
  let workFailed = false;
  try {
    await t.flock(req.vmid, 'exclusive', req.type);
    vm = reloadVm(state, req.node, req.vmid, req.type);
    wasRunning = prepare(ctx, req, vm, log);
    const targetNode = state.nodes.get(req.target);
    log(`starting migration of ${word} ${req.vmid} to node '${req.target}' (${targetNode?.ip ?? req.target})`);
    vm.lock = 'migrate';
    const volume = guestVolume(vm);
    if (req.type === 'qemu') scanQemuVolumes(vm, req, volume, log);
    else log(`found local volume '${volume}' (in current VM config)`);
    try {
      await t.work();
    } catch (err) {
      workFailed = true;
      throw err;
    }
    logTransfer(req, vm, volume, wasRunning, log);
    vm.node = req.target;
    moved = true;
    vm.lock = undefined;
    if (req.type === 'lxc') {
      log('start final cleanup');
      if (req.restart && wasRunning) {
        log('start container on target node');
        markStarted(vm, clock.now(), t.task.pid + 2);
      }
    }
  } catch (err) {
    if (vm && !moved) {
      if (vm.lock === 'migrate') vm.lock = undefined;
      if (req.type === 'lxc' && req.restart && wasRunning && !isRunning(vm)) {
        log('start container on source node');
        markStarted(vm, clock.now(), t.task.pid + 2);
      }
    }
    // A failure injected into the task keeps its text; PVE's own ones read "migration aborted".
    if (workFailed) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    t.log(
      `${timestamp(clock.now())} ERROR: migration aborted (duration ${duration(clock.now() - started)}): ${reason}`,
    );
    throw new TaskError('migration aborted', { cause: err });
  } finally {
    release();
  }
  log(`migration finished successfully (duration ${duration(clock.now() - started)})`);
  return true;
}

/** QemuMigrate::prepare / LXC::Migrate::prepare. Returns whether the guest was running. */
function prepare(ctx: OpsContext, req: MigrationRequest, vm: SimVm, log: (m: string) => void): boolean {
  checkConfigLock(vm);
  const running = isRunning(vm);
  if (running) {
    if (req.type === 'qemu' && !req.online) throw new TaskError("can't migrate running VM without --online");
    if (req.type === 'lxc' && req.online) throw new TaskError('lxc live migration is currently not implemented');
    if (req.type === 'lxc' && !req.restart)
      throw new TaskError('running container can only be migrated in restart mode');
  }
  if (!ctx.state.nodes.get(req.target)?.online) {
    throw new TaskError("Can't connect to destination address using public key");
  }
  if (req.type === 'lxc' && req.restart && running) {
    log(`shutdown CT ${req.vmid}`);
    markStopped(vm);
  }
  return running;
}

/** QemuMigrate::scan_local_volumes: every disk is on local-zfs (local, not shared). */
function scanQemuVolumes(vm: SimVm, req: MigrationRequest, volume: string, log: (m: string) => void): void {
  log(`found local disk '${volume}' (attached)`);
  if (isRunning(vm) && !req.withLocalDisks) {
    log(
      `can't migrate local disk '${volume}': can't live migrate attached local disks without with-local-disks option`,
    );
    throw new TaskError("can't migrate VM - check log");
  }
  // A linked clone on local storage: its base image is not on the target.
  if (vm.linkedFrom !== undefined) {
    throw new TaskError(`can't migrate '${volume}' as it's a clone of 'base-${vm.linkedFrom}-disk-0'`);
  }
}

function logTransfer(
  req: MigrationRequest,
  vm: SimVm,
  volume: string,
  wasRunning: boolean,
  log: (m: string) => void,
): void {
  if (req.type === 'qemu' && wasRunning) {
    log('starting storage migration');
    log(`scsi0: start migration to nbd:unix:/run/qemu-server/${vm.vmid}_nbd.migrate:exportname=drive-scsi0`);
    log(`mirror-scsi0: transferred ${gib(vm.maxdisk)} of ${gib(vm.maxdisk)} (100.00%)`);
    log(`starting online/live migration on unix:/run/qemu-server/${vm.vmid}.migrate`);
    log('migration status: completed');
    return;
  }
  if (req.type === 'qemu') log('copying local disk images');
  log(`volume '${volume}' is '${volume}' on the target`);
}

const gib = (bytes: number): string => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;

/** GET /nodes/{node}/{qemu,lxc}/{vmid}/migrate: what would stand in the way of a migration. */
export function migratePrecondition(ctx: OpsContext, node: string, vmid: number, type: GuestType) {
  const { state } = ctx;
  // pve-container has this endpoint since PVE 9.0 ("api: introduce migration preconditions api endpoint").
  if (type === 'lxc' && releaseOf(state.version).major < 9) {
    throw new PveHttpError(501, `Method 'GET /nodes/${node}/lxc/${vmid}/migrate' not implemented`);
  }
  requireQuorum(state);
  const vm = requireVm(state, node, vmid, type);
  if (vm.lock) throw new PveHttpError(500, lockedText(vm));
  const others = [...state.nodes.keys()].filter((n) => n !== node);
  const nine = releaseOf(state.version).major >= 9;
  // HA affinity rules (and so dependent-ha-resources) came with PVE 9.
  const ha = nine && vm.hastate !== undefined ? { 'dependent-ha-resources': [] } : {};
  if (type === 'lxc') {
    return { running: isRunning(vm) ? 1 : 0, 'allowed-nodes': others, 'not-allowed-nodes': {}, ...ha };
  }
  const res: Record<string, unknown> = {
    running: isRunning(vm) ? 1 : 0,
    allowed_nodes: others,
    not_allowed_nodes: {},
    local_disks: [
      { volid: guestVolume(vm), drivename: 'scsi0', size: vm.maxdisk, referenced_in_config: 1, cdrom: 0, is_unused: 0 },
    ],
    local_resources: [],
    'mapped-resources': [],
    'mapped-resource-info': {},
    ...ha,
  };
  if (nine) res['has-dbus-vmstate'] = 1;
  return res;
}
