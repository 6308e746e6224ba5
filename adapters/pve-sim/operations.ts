// VM operations with PVE's checks, in PVE's order: what PVE checks before forking a worker answers
// HTTP 500; what its worker checks fails the task. Effects apply when the task ends.
import type { Clock } from '../clock';
import type { Principal } from './auth';
import { removeFromBackupJobs } from './backups';
import { PveHttpError, PveParamError, TaskError } from './errors';
import type { FlockTable, Release } from './flocks';
import { completeSnapshot, lockedText } from './guest-config';
import { prepareStart } from './guest-start';
import { bool, type Params, str } from './params';
import { makeVm } from './state';
import type { TaskContext, TaskEngine } from './tasks';
import type { SimState, SimVm } from './types';
import { diskVolume, noConfig, poolNames } from './views';

/** Pre-fork lock wait of API handlers (PVE: lock_config_full(..., 1, ...)). */
export const API_LOCK_WAIT_MS = 1_000;

export interface OpsContext {
  state: SimState;
  clock: Clock;
  flocks: FlockTable;
  tasks: TaskEngine;
}

export type PowerAction = 'start' | 'stop' | 'shutdown' | 'reboot' | 'suspend' | 'resume';

export const fail = (message: string) => new TaskError(message);

export function requireQuorum(state: SimState): void {
  if (!state.quorate) throw new PveHttpError(500, 'cluster not ready - no quorum?');
}

/** Whether a guest is served under `type`'s paths (a restored state without `type` holds VMs). */
export const isType = (vm: SimVm, type: SimVm['type']): boolean => (vm.type ?? 'qemu') === type;

/** The guest's config on this node (a VM's, or a container's with type lxc), or PVE's "does not exist" 500. */
export function requireVm(state: SimState, node: string, vmid: number, type: SimVm['type'] = 'qemu'): SimVm {
  const vm = state.vms.get(vmid);
  if (!vm || vm.node !== node || !isType(vm, type)) throw noConfig(node, vmid, type);
  return vm;
}

/** In a worker: the config again (it may have changed while waiting for the lock). */
export function reloadVm(state: SimState, node: string, vmid: number, type: SimVm['type'] = 'qemu'): SimVm {
  const vm = state.vms.get(vmid);
  if (!vm || vm.node !== node || !isType(vm, type)) throw fail(noConfig(node, vmid, type).message);
  return vm;
}

function checkLock(vm: SimVm, skiplock = false): void {
  if (vm.lock && !skiplock) throw fail(lockedText(vm));
}

export function checkSkiplock(p: Params, who: Principal): boolean {
  const skiplock = bool(p, 'skiplock') ?? false;
  if (skiplock && !who.root) throw new PveParamError({ skiplock: 'Only root may use this option.' });
  return skiplock;
}

export const isRunning = (vm: SimVm) => vm.status === 'running';

export function markStarted(vm: SimVm, now: number, pid: number): void {
  vm.status = 'running';
  vm.paused = false;
  vm.startedAt = now;
  vm.pid = pid;
}

export function markStopped(vm: SimVm): void {
  vm.status = 'stopped';
  vm.paused = false;
  vm.startedAt = undefined;
  vm.pid = undefined;
}

/** POST /nodes/{node}/qemu/{vmid}/status/{action}. Returns the UPID. */
export function power(ctx: OpsContext, who: Principal, node: string, vmid: number, action: PowerAction, p: Params) {
  const { state, clock, tasks } = ctx;
  requireQuorum(state);
  const vm = requireVm(state, node, vmid);
  const skiplock = checkSkiplock(p, who);
  const user = who.authid;

  // HA-managed VMs: start/stop/shutdown become requests to the HA stack.
  if (vm.hastate !== undefined && (action === 'start' || action === 'stop' || action === 'shutdown')) {
    const start = action === 'start';
    return tasks.start({
      node,
      type: start ? 'hastart' : 'hastop',
      vmid,
      user,
      op: action,
      run: async (t) => {
        t.log(`Requesting HA ${start ? 'start' : 'stop'} for VM ${vmid}`);
        await t.work();
        const cur = reloadVm(state, node, vmid);
        cur.hastate = start ? 'started' : 'stopped';
        if (start && !isRunning(cur)) markStarted(cur, clock.now(), t.task.pid + 1);
        if (!start) markStopped(cur);
      },
    }).upid;
  }

  // Checks PVE's API does before forking.
  if (action === 'shutdown' && vm.paused && !(bool(p, 'forceStop') ?? false)) {
    throw new PveHttpError(500, 'VM is paused - cannot shutdown');
  }
  if (action === 'reboot' && vm.paused) throw new PveHttpError(500, 'VM is paused - cannot shutdown');
  if ((action === 'reboot' || action === 'suspend' || action === 'resume') && !isRunning(vm)) {
    throw new PveHttpError(500, `VM ${vmid} not running`);
  }

  const worker = async (t: TaskContext) => {
    await t.flock(vmid, 'exclusive');
    const cur = reloadVm(state, node, vmid);
    switch (action) {
      case 'start': {
        if (cur.template) throw fail("you can't start a vm if it's a template");
        const resume = cur.lock === 'suspended';
        checkLock(cur, skiplock || resume);
        if (isRunning(cur)) throw fail(`VM ${vmid} already running`);
        prepareStart(state, cur, (line) => t.log(line));
        await t.work();
        if (resume) cur.lock = undefined;
        markStarted(cur, clock.now(), t.task.pid + 1);
        return;
      }
      case 'stop':
      case 'shutdown':
        checkLock(cur, skiplock);
        await t.work();
        markStopped(cur);
        return;
      case 'reboot':
        checkLock(cur);
        if (!isRunning(cur)) throw fail(`VM ${vmid} not running`);
        prepareStart(state, cur, (line) => t.log(line));
        await t.work();
        markStarted(cur, clock.now(), t.task.pid + 1);
        return;
      case 'suspend': {
        // RunState::vm_suspend: pausing is allowed during a backup, suspending to disk is not.
        const todisk = bool(p, 'todisk') ?? false;
        const backingUp = cur.lock === 'backup';
        checkLock(cur, skiplock || backingUp);
        if (backingUp && todisk) throw fail('cannot suspend to disk during backup');
        if (!isRunning(cur)) throw fail(`VM ${vmid} not running`);
        t.log(todisk ? 'suspending to disk' : `suspend VM ${vmid}`);
        // Saving the state runs outside the config flock, under lock 'suspending' (left in place if it fails).
        if (todisk) {
          cur.lock = 'suspending';
          t.unlockAll();
        }
        await t.work();
        if (todisk) {
          markStopped(cur);
          cur.lock = 'suspended';
        } else {
          cur.paused = true;
        }
        return;
      }
      case 'resume':
        checkLock(cur, skiplock);
        if (!isRunning(cur)) throw fail(`VM ${vmid} not running`);
        await t.work();
        cur.paused = false;
        return;
    }
  };
  return tasks.start({ node, type: `qm${action}`, vmid, user, op: action, run: worker }).upid;
}

/**
 * POST /nodes/{node}/qemu/{vmid}/clone, as qemu-server does since "api: clone: fork before locking": the early
 * checks answer HTTP 500; the worker takes the source's flock (shared when stopped, so parallel clones of a
 * template work; exclusive when running) and the new VMID's, each waiting 1 s, checks again and reserves the new
 * VMID (lock 'clone'). A lock not had in time, or a VMID taken meanwhile, fails the task.
 */
export function clone(ctx: OpsContext, who: Principal, node: string, vmid: number, p: Params): string {
  const { state, flocks, tasks } = ctx;
  const newid = p.newid as number;
  const target = str(p, 'target');
  const snapname = str(p, 'snapname');
  const first = state.vms.get(vmid);
  // check_running → assert_config_exists_on_node
  if (!first || first.node !== node || !isType(first, 'qemu')) {
    throw new PveHttpError(500, `unable to find configuration file for VM ${vmid} on node '${node}'`);
  }
  const running = isRunning(first);
  // load_and_check: before forking (HTTP 500) and again in the worker under both locks (task failure).
  const pool = str(p, 'pool');
  const loadAndCheck = (err: (m: string) => Error) => {
    // RPCEnvironment::check_pool_exist: raise_perm_exc (403 before forking).
    if (pool !== undefined && !poolNames(state).includes(pool)) {
      const text = `Permission check failed (pool '${pool}' does not exist)`;
      throw err === fail ? fail(text) : new PveHttpError(403, text);
    }
    if (target && !state.nodes.has(target)) throw err(`no such cluster node '${target}'`);
    if (!state.quorate) throw err('cluster not ready - no quorum?');
    const cur = state.vms.get(vmid);
    if (!cur || cur.node !== node || !isType(cur, 'qemu')) throw err(noConfig(node, vmid).message);
    if (cur.lock) throw err(lockedText(cur));
    if (isRunning(cur) !== running) throw err('unexpected state change');
    if (snapname && !cur.snapshots.some((s) => s.name === snapname)) throw err(`snapshot '${snapname}' does not exist`);
    const full = bool(p, 'full') ?? !cur.template;
    if (!full && str(p, 'storage') !== undefined) throw err("parameter 'storage' not allowed for linked clones");
    if (!full && str(p, 'format') !== undefined) throw err("parameter 'format' not allowed for linked clones");
    if (!full && !cur.template) throw err(`Linked clone feature is not supported for '${diskVolume(cur)}' (scsi0)`);
    // `-f $conffile`: only a VM config of that VMID on this node
    const taken = state.vms.get(newid);
    if (taken && taken.node === node && isType(taken, 'qemu')) {
      throw err(`unable to create VM ${newid}: config file already exists`);
    }
    return { cur, full };
  };
  const early = loadAndCheck((m) => new PveHttpError(500, m));
  const name = str(p, 'name') ?? `Copy-of-VM-${early.cur.name}`;
  return tasks.start({
    node,
    type: 'qmclone',
    vmid,
    user: who.authid,
    op: 'clone',
    detail: { newid, name, full: early.full, target: target ?? node },
    run: async (t) => {
      const holds: Release[] = [];
      try {
        holds.push(await flocks.acquire(vmid, running ? 'exclusive' : 'shared', API_LOCK_WAIT_MS));
        holds.push(await flocks.acquire(newid, 'exclusive', API_LOCK_WAIT_MS));
        const { cur, full } = loadAndCheck(fail);
        // file_set_contents of the new config: pmxcfs refuses a VMID that exists on another node (or as a CT).
        if (state.vms.has(newid)) {
          throw fail(
            `close (rename) atomic file '/etc/pve/nodes/${node}/qemu-server/${newid}.conf' failed: File exists`,
          );
        }
        const reserved = makeVm(
          {
            vmid: newid,
            name,
            node,
            status: 'stopped',
            tags: cur.tags,
            cores: cur.cores,
            maxmem: cur.maxmem,
            maxdisk: cur.maxdisk,
            description: str(p, 'description') ?? cur.description,
            linkedFrom: full ? undefined : vmid,
            lock: 'clone',
            pool,
          },
          ctx.clock.now(),
        );
        state.vms.set(newid, reserved);
        t.log(`create ${full ? 'full' : 'linked'} clone of drive scsi0 (${diskVolume(cur)})`);
        try {
          await t.work();
        } catch (err) {
          if (state.vms.get(newid) === reserved) state.vms.delete(newid);
          throw err;
        }
        if (full) {
          const gib = (cur.maxdisk / 1024 ** 3).toFixed(1);
          t.log(`transferred ${gib} GiB of ${gib} GiB (100.00%)`);
        }
        const vm = state.vms.get(newid);
        if (!vm) throw fail(`unable to find configuration file for VM ${newid}`);
        vm.lock = undefined;
        if (target && target !== node) vm.node = target;
      } finally {
        for (const r of holds) r();
      }
    },
  }).upid;
}

const RESERVED_SNAPNAMES = new Set(['current', 'pending', 'vzdump']);

/** POST /nodes/{node}/qemu/{vmid}/snapshot. */
export function snapshot(ctx: OpsContext, who: Principal, node: string, vmid: number, p: Params): string {
  const { state, clock, tasks } = ctx;
  const snapname = p.snapname as string;
  const description = str(p, 'description') ?? '';
  const vmstate = bool(p, 'vmstate') ?? false;
  requireQuorum(state);
  requireVm(state, node, vmid);
  if (RESERVED_SNAPNAMES.has(snapname)) {
    throw new PveHttpError(500, `unable to use snapshot name '${snapname}' (reserved name)`);
  }
  return tasks.start({
    node,
    type: 'qmsnapshot',
    vmid,
    user: who.authid,
    op: 'snapshot',
    detail: { snapname },
    run: async (t) => {
      await t.flock(vmid, 'exclusive');
      const vm = reloadVm(state, node, vmid);
      checkLock(vm);
      if (vm.snapshots.some((s) => s.name === snapname)) throw fail(`snapshot name '${snapname}' already used`);
      vm.lock = 'snapshot';
      t.unlockAll();
      const withState = vmstate && isRunning(vm);
      if (withState) t.log("saving VM state and RAM using storage 'local-zfs'");
      t.log(`snapshotting 'drive-scsi0' (${diskVolume(vm)})`);
      await completeSnapshot(t, vm, { name: snapname, description, vmstate: withState }, () => clock.now());
    },
  }).upid;
}

/** DELETE /nodes/{node}/qemu/{vmid}. */
export function destroy(ctx: OpsContext, who: Principal, node: string, vmid: number, p: Params): string {
  const { state, tasks } = ctx;
  const skiplock = checkSkiplock(p, who);
  const purge = bool(p, 'purge') ?? false;
  const early = (vm: SimVm, err: (m: string) => Error) => {
    if (vm.protection) throw err(`can't remove VM ${vmid} - protection mode enabled`);
    if (vm.hastate !== undefined && !purge) {
      throw err(`unable to remove VM ${vmid} - used in HA resources and purge parameter not set.`);
    }
    if (isRunning(vm)) throw err(`VM ${vmid} is running - destroy failed`);
  };
  requireQuorum(state);
  early(requireVm(state, node, vmid), (m) => new PveHttpError(500, m));
  return tasks.start({
    node,
    type: 'qmdestroy',
    vmid,
    user: who.authid,
    op: 'destroy',
    detail: { purge },
    run: async (t) => {
      await t.flock(vmid, 'exclusive');
      const vm = reloadVm(state, node, vmid);
      early(vm, fail);
      checkLock(vm, skiplock);
      // QemuServer::destroy_vm: a template's base volume may still back linked clones.
      if (vm.template && [...state.vms.values()].some((x) => x.linkedFrom === vmid)) {
        throw fail(`base volume '${diskVolume(vm)}' is still in use by linked cloned`);
      }
      vm.lock = 'destroy';
      try {
        await t.work();
      } catch (err) {
        vm.lock = undefined;
        throw err;
      }
      t.log(`Removing image: ${diskVolume(vm)}`);
      if (purge) {
        t.log(`purging VM ${vmid} from related configurations..`);
        removeFromBackupJobs(state, vmid);
        if (vm.hastate !== undefined) t.log(`NOTE: removed VM ${vmid} from HA resource configuration.`);
      }
      state.vms.delete(vmid);
    },
  }).upid;
}
