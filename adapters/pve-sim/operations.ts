// VM operations with PVE's checks, in PVE's order: what PVE checks before forking a worker answers
// HTTP 500; what its worker checks fails the task. Effects apply when the task ends.
import type { Clock } from '../clock';
import type { Principal } from './auth';
import { PveHttpError, PveParamError, TaskError } from './errors';
import type { FlockTable, Release } from './flocks';
import { bool, type Params, str } from './params';
import { makeVm } from './state';
import type { TaskContext, TaskEngine } from './tasks';
import type { SimState, SimVm } from './types';
import { diskVolume, noConfig } from './views';

/** Pre-fork lock wait of API handlers (PVE: lock_config_full(..., 1, ...)). */
const API_LOCK_WAIT_MS = 1_000;

export interface OpsContext {
  state: SimState;
  clock: Clock;
  flocks: FlockTable;
  tasks: TaskEngine;
}

export type PowerAction = 'start' | 'stop' | 'shutdown' | 'reboot' | 'suspend' | 'resume';

const fail = (message: string) => new TaskError(message);

export function requireQuorum(state: SimState): void {
  if (!state.quorate) throw new PveHttpError(500, 'cluster not ready - no quorum?');
}

/** The VM's config on this node, or PVE's "does not exist" 500. */
export function requireVm(state: SimState, node: string, vmid: number): SimVm {
  const vm = state.vms.get(vmid);
  if (!vm || vm.node !== node) throw noConfig(node, vmid);
  return vm;
}

/** In a worker: the config again (it may have changed while waiting for the lock). */
function reloadVm(state: SimState, node: string, vmid: number): SimVm {
  const vm = state.vms.get(vmid);
  if (!vm || vm.node !== node) throw fail(`Configuration file 'nodes/${node}/qemu-server/${vmid}.conf' does not exist`);
  return vm;
}

function checkLock(vm: SimVm, skiplock = false): void {
  if (vm.lock && !skiplock) throw fail(`VM ${vm.vmid} is locked (${vm.lock})`);
}

function checkSkiplock(p: Params, who: Principal): boolean {
  const skiplock = bool(p, 'skiplock') ?? false;
  if (skiplock && !who.root) throw new PveParamError({ skiplock: 'Only root may use this option.' });
  return skiplock;
}

const isRunning = (vm: SimVm) => vm.status === 'running';

function markStarted(vm: SimVm, now: number, pid: number): void {
  vm.status = 'running';
  vm.paused = false;
  vm.startedAt = now;
  vm.pid = pid;
}

function markStopped(vm: SimVm): void {
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
        await t.work();
        markStarted(cur, clock.now(), t.task.pid + 1);
        return;
      case 'suspend': {
        checkLock(cur, skiplock);
        if (!isRunning(cur)) throw fail(`VM ${vmid} not running`);
        const todisk = bool(p, 'todisk') ?? false;
        t.log(todisk ? 'suspending to disk' : `suspend VM ${vmid}`);
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

/** POST /nodes/{node}/qemu/{vmid}/clone. The new VMID is reserved (lock 'clone') before the UPID is returned. */
export async function clone(ctx: OpsContext, who: Principal, node: string, vmid: number, p: Params): Promise<string> {
  const { state, flocks, tasks } = ctx;
  const newid = p.newid as number;
  const target = str(p, 'target');
  const snapname = str(p, 'snapname');
  if (target && !state.nodes.has(target)) throw new PveHttpError(500, `no such cluster node '${target}'`);
  requireQuorum(state);
  const src = requireVm(state, node, vmid);
  const running = isRunning(src);

  // PVE: shared lock on a stopped source (parallel clones of a template work), exclusive on a running one;
  // then an exclusive lock on the new VMID. Both with a 1 s wait, before forking.
  const holds: Release[] = [];
  try {
    holds.push(await flocks.acquire(vmid, running ? 'exclusive' : 'shared', API_LOCK_WAIT_MS));
    holds.push(await flocks.acquire(newid, 'exclusive', API_LOCK_WAIT_MS));
  } catch (err) {
    for (const r of holds) r();
    throw new PveHttpError(500, (err as Error).message, undefined, false, { cause: err });
  }
  try {
    const cur = requireVm(state, node, vmid);
    if (cur.lock) throw new PveHttpError(500, `VM ${vmid} is locked (${cur.lock})`);
    if (snapname && !cur.snapshots.some((s) => s.name === snapname)) {
      throw new PveHttpError(500, `snapshot '${snapname}' does not exist`);
    }
    const full = bool(p, 'full') ?? !cur.template;
    if (!full && str(p, 'storage') !== undefined) {
      throw new PveHttpError(500, "parameter 'storage' not allowed for linked clones");
    }
    if (!full && str(p, 'format') !== undefined) {
      throw new PveHttpError(500, "parameter 'format' not allowed for linked clones");
    }
    if (!full && !cur.template) throw new PveHttpError(500, "Linked clone feature is not supported for drive 'scsi0'");
    if (state.vms.has(newid)) throw new PveHttpError(500, `unable to create VM ${newid}: config file already exists`);

    const reserved = makeVm(
      {
        vmid: newid,
        name: str(p, 'name') ?? `Copy-of-VM-${cur.name}`,
        node,
        status: 'stopped',
        tags: cur.tags,
        cores: cur.cores,
        maxmem: cur.maxmem,
        maxdisk: cur.maxdisk,
        description: str(p, 'description') ?? cur.description,
        linkedFrom: full ? undefined : vmid,
        lock: 'clone',
      },
      ctx.clock.now(),
    );
    state.vms.set(newid, reserved);
    const source = diskVolume(cur);
    return tasks.start({
      node,
      type: 'qmclone',
      vmid,
      user: who.authid,
      op: 'clone',
      detail: { newid, name: reserved.name, full, target: target ?? node },
      holds,
      run: async (t) => {
        t.log(`create ${full ? 'full' : 'linked'} clone of drive scsi0 (${source})`);
        await t.work();
        if (full)
          t.log(
            `transferred ${(cur.maxdisk / 1024 ** 3).toFixed(1)} GiB of ${(cur.maxdisk / 1024 ** 3).toFixed(1)} GiB (100.00%)`,
          );
        const vm = state.vms.get(newid);
        if (!vm) throw fail(`unable to find configuration file for VM ${newid}`);
        vm.lock = undefined;
        if (target && target !== node) vm.node = target;
      },
      onError: () => {
        if (state.vms.get(newid)?.lock === 'clone') state.vms.delete(newid);
      },
    }).upid;
  } catch (err) {
    for (const r of holds) r();
    throw err;
  }
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
      try {
        await t.work();
      } catch (err) {
        vm.lock = undefined;
        throw err;
      }
      vm.snapshots.push({
        name: snapname,
        description,
        snaptime: Math.floor(clock.now() / 1000),
        vmstate: withState,
        parent: vm.parentSnapshot,
      });
      vm.parentSnapshot = snapname;
      vm.lock = undefined;
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
      vm.lock = 'destroy';
      try {
        await t.work();
      } catch (err) {
        vm.lock = undefined;
        throw err;
      }
      t.log(`Removing image: ${diskVolume(vm)}`);
      if (purge) t.log(`purging VM ${vmid} from related configurations..`);
      state.vms.delete(vmid);
    },
  }).upid;
}
