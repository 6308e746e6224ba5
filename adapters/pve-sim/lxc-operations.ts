// Container operations with pve-container's checks, in its order (API2/LXC/Status.pm, API2/LXC/Snapshot.pm,
// API2/LXC.pm destroy_vm): what the API checks before forking a worker answers HTTP 500; what the worker checks
// fails the task. The config flock is the container's (/run/lock/lxc/pve-config-<vmid>.lock). Effects apply when
// the task ends. The clone is in lxc-clone.ts.
import type { Principal } from './auth';
import { PveHttpError, PveParamError } from './errors';
import { assertConfigWritable, completeSnapshot, lockedText } from './guest-config';
import { applyPendingChanges, prepareStart } from './guest-start';
import { ctVolume } from './lxc-views';
import {
  checkSkiplock,
  fail,
  isRunning,
  isType,
  markStarted,
  markStopped,
  type OpsContext,
  reloadVm,
  requireQuorum,
  requireVm,
} from './operations';
import { bool, type Params, str } from './params';
import type { TaskContext } from './tasks';
import type { SimState, SimVm } from './types';

export type CtPowerAction = 'start' | 'stop' | 'shutdown' | 'reboot';

/** `CT is locked (<lock>)`: AbstractConfig::check_lock with LXC::Config's guest_type "CT" (no VMID in it). */
export const ctLocked = (vm: SimVm): string => lockedText(vm);

/** The container `vmid` if it is on this node (PVE::LXC::check_running looks at the node's own containers). */
function localCt(state: SimState, node: string, vmid: number): SimVm | undefined {
  const vm = state.vms.get(vmid);
  return vm && vm.node === node && isType(vm, 'lxc') ? vm : undefined;
}

const ctRunning = (state: SimState, node: string, vmid: number): boolean => {
  const vm = localCt(state, node, vmid);
  return vm !== undefined && isRunning(vm);
};

/** Reloads the container under its flock (a worker's `lock_config`). */
async function lockedCt(t: TaskContext, state: SimState, node: string, vmid: number): Promise<SimVm> {
  await t.flock(vmid, 'exclusive', 'lxc');
  return reloadVm(state, node, vmid, 'lxc');
}

/** The HA hand-off of start/stop/shutdown for an HA-managed container (`ha-manager set ct:<vmid> ...`). */
function haRequest(ctx: OpsContext, who: Principal, node: string, vmid: number, action: CtPowerAction): string {
  const { state, clock, tasks } = ctx;
  const start = action === 'start';
  return tasks.start({
    node,
    type: start ? 'hastart' : 'hastop',
    vmid,
    user: who.authid,
    op: action,
    run: async (t) => {
      t.log(`Requesting HA ${start ? 'start' : 'stop'} for CT ${vmid}`);
      await t.work();
      const cur = reloadVm(state, node, vmid, 'lxc');
      cur.hastate = start ? 'started' : 'stopped';
      if (start && !isRunning(cur)) markStarted(cur, clock.now(), t.task.pid + 1);
      if (!start) markStopped(cur);
    },
  }).upid;
}

/** POST /nodes/{node}/lxc/{vmid}/status/{start,stop,shutdown,reboot}. Returns the UPID. */
export function ctPower(
  ctx: OpsContext,
  who: Principal,
  node: string,
  vmid: number,
  action: CtPowerAction,
  p: Params,
): string {
  const { state, clock, tasks } = ctx;
  const skiplock = action === 'start' || action === 'stop' ? checkSkiplock(p, who) : false;
  const running = ctRunning(state, node, vmid);
  if (action === 'start' && running) throw new PveHttpError(500, `CT ${vmid} already running`);
  if ((action === 'stop' || action === 'shutdown') && !running) throw new PveHttpError(500, `CT ${vmid} not running`);
  // sic: pve-container's reboot says "VM".
  if (action === 'reboot' && !running) throw new PveHttpError(500, `VM ${vmid} not running`);
  // Only start checks quorum before forking: a stop or shutdown changes no config and works without quorum.
  if (action === 'start') requireQuorum(state);

  const ha = localCt(state, node, vmid)?.hastate !== undefined;
  if (ha && action !== 'reboot') {
    if (action === 'stop' && bool(p, 'overrule-shutdown')) {
      throw new PveParamError({ 'overrule-shutdown': 'Not applicable for HA resources.' });
    }
    return haRequest(ctx, who, node, vmid, action);
  }

  const run = async (t: TaskContext) => {
    const cur = await lockedCt(t, state, node, vmid);
    switch (action) {
      case 'start':
        if (cur.template) throw fail("you can't start a CT if it's a template");
        if (!skiplock && cur.lock !== 'mounted' && cur.lock) throw fail(ctLocked(cur));
        prepareStart(state, cur, (line) => t.log(line));
        await t.work();
        markStarted(cur, clock.now(), t.task.pid + 1);
        return;
      case 'stop':
        if (!skiplock && cur.lock !== 'mounted' && cur.lock) throw fail(ctLocked(cur));
        await t.work();
        markStopped(cur);
        applyPendingChanges(cur); // lxc-pve-poststop-hook
        return;
      case 'shutdown':
        if (cur.lock) throw fail(ctLocked(cur));
        await t.work();
        markStopped(cur);
        applyPendingChanges(cur);
        return;
      case 'reboot':
        // vm_reboot: nothing to do once it stopped meanwhile; no config lock check.
        if (!isRunning(cur)) return;
        await t.work();
        markStarted(cur, clock.now(), t.task.pid + 1);
        return;
    }
  };
  return tasks.start({ node, type: `vz${action}`, vmid, user: who.authid, op: action, run }).upid;
}

/** Snapshot names pve-container's API refuses (`current` and `vzdump`; `pending` is a qemu-server name only). */
const RESERVED_CT_SNAPNAMES = new Set(['current', 'vzdump']);

/** POST /nodes/{node}/lxc/{vmid}/snapshot. PVE forks at once: a missing CT fails the task. */
export function ctSnapshot(ctx: OpsContext, who: Principal, node: string, vmid: number, p: Params): string {
  const { state, clock, tasks } = ctx;
  const snapname = p.snapname as string;
  const description = str(p, 'description') ?? '';
  if (RESERVED_CT_SNAPNAMES.has(snapname)) {
    throw new PveHttpError(500, `unable to use snapshot name '${snapname}' (reserved name)`);
  }
  return tasks.start({
    node,
    type: 'vzsnapshot',
    vmid,
    user: who.authid,
    op: 'snapshot',
    detail: { snapname },
    run: async (t) => {
      const vm = await lockedCt(t, state, node, vmid);
      if (vm.template) throw fail("you can't take a snapshot if it's a template");
      if (vm.lock) throw fail(ctLocked(vm));
      if (vm.snapshots.some((s) => s.name === snapname)) throw fail(`snapshot name '${snapname}' already used`);
      // __snapshot_prepare writes the config with lock 'snapshot': /etc/pve is read-only without quorum.
      assertConfigWritable(state, vm, t.task.pid);
      vm.lock = 'snapshot';
      t.unlockAll();
      await completeSnapshot(t, vm, { name: snapname, description, vmstate: false }, () => clock.now());
    },
  }).upid;
}

/** DELETE /nodes/{node}/lxc/{vmid}: `force` stops a running CT first; `purge` also removes it from HA. */
export function ctDestroy(ctx: OpsContext, who: Principal, node: string, vmid: number, p: Params): string {
  const { state, tasks } = ctx;
  const purge = bool(p, 'purge') ?? false;
  const force = bool(p, 'force') ?? false;
  const early = (vm: SimVm, err: (m: string) => Error) => {
    if (vm.protection) throw err(`can't remove CT ${vmid} - protection mode enabled`);
    if (vm.lock) throw err(ctLocked(vm));
    if (vm.hastate !== undefined && !purge) {
      throw err(`unable to remove CT ${vmid} - used in HA resources and purge parameter not set.`);
    }
  };
  const runningMsg = `unable to destroy CT ${vmid} - container is running`;
  const vm0 = requireVm(state, node, vmid, 'lxc');
  early(vm0, (m) => new PveHttpError(500, m));
  if (!force && isRunning(vm0)) throw new PveHttpError(500, runningMsg);
  return tasks.start({
    node,
    type: 'vzdestroy',
    vmid,
    user: who.authid,
    op: 'destroy',
    detail: { purge, force },
    run: async (t) => {
      const vm = await lockedCt(t, state, node, vmid);
      early(vm, fail);
      const ha = vm.hastate !== undefined;
      if (isRunning(vm)) {
        if (!force) throw fail(runningMsg);
        t.log(`forced to stop CT ${vmid} before destroying!`);
        markStopped(vm);
      }
      // destroy_lxc_container: the volumes go first (vdisk_free refuses a base volume linked clones use), then
      // the config is replaced by one with lock 'destroyed' (which fails without quorum: the CT's config stays).
      if (vm.template && [...state.vms.values()].some((x) => x.linkedFrom === vmid)) {
        const volname = ctVolume(vm).replace(/^[^:]+:/, '');
        throw fail(`base volume '${volname}' is still in use by linked clones`);
      }
      await t.work();
      assertConfigWritable(state, vm, t.task.pid);
      vm.lock = 'destroyed';
      if (purge) {
        t.log(`purging CT ${vmid} from related configurations..`);
        if (ha) {
          vm.hastate = undefined;
          t.log(`NOTE: removed CT ${vmid} from HA resource configuration.`);
        }
      }
      state.vms.delete(vmid);
    },
  }).upid;
}
