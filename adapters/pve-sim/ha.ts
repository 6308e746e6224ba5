// The HA stack as far as the API shows it: HA resources (a guest with `hastate` is one, sid vm:<id> / ct:<id>)
// and the migration hand-off. A migrate call on an HA guest answers a `hamigrate` task that only queues
// `ha-manager migrate <sid> <target>` and ends OK; a moment later the HA manager's LRM on the source node runs the
// real qmigrate/vzmigrate as root@pam (pve-ha-manager Resources/PVEVM.pm, PVECT.pm migrate). That second task
// moves the guest, or fails.
import { createHash } from 'node:crypto';
import type { Principal } from './auth';
import { PveHttpError } from './errors';
import { checkConfigLock, guestTypeOf, guestWord } from './guest-config';
import { haSid } from './guest-metrics';
import { startMigration } from './migrate';
import { isRunning, markStarted, markStopped, type OpsContext, reloadVm } from './operations';
import type { TaskContext } from './tasks';
import type { SimState, SimVm } from './types';

/** Clock time between the hamigrate task's end and the LRM starting the migration (CRM + LRM rounds). */
export const HA_DISPATCH_MS = 2_000;

/** The user the HA manager's workers run as. */
export const HA_USER = 'root@pam';

/** The state the HA resource config requests (started, stopped, disabled, ignored) for a guest's HA state. */
function requestedState(hastate: string): string {
  if (hastate === 'stopped' || hastate === 'request_stop') return 'stopped';
  if (hastate === 'disabled' || hastate === 'ignored') return hastate;
  return 'started';
}

/** POST .../migrate of an HA-managed guest: the hamigrate task, then the HA manager's migration. */
export function haMigrate(ctx: OpsContext, who: Principal, vm: SimVm, target: string): string {
  const { vmid, node } = vm;
  const type = guestTypeOf(vm);
  const task = ctx.tasks.start({
    node,
    type: 'hamigrate',
    vmid,
    user: who.authid,
    op: 'migrate',
    detail: { target, ha: true },
    run: async (t) => {
      t.log(`Requesting HA migration for ${guestWord(type)} ${vmid} to node ${target}`);
      await t.work();
      ctx.tasks.track(dispatch(ctx, vmid, node, target));
    },
  });
  return task.upid;
}

/** The CRM taking the queued command and the source node's LRM carrying it out. */
async function dispatch(ctx: OpsContext, vmid: number, source: string, target: string): Promise<void> {
  const { state, clock, tasks } = ctx;
  await clock.sleep(HA_DISPATCH_MS, tasks.signal);
  const vm = state.vms.get(vmid);
  // The CRM ignores a request for a service that is gone, already there, or a target that is not online.
  if (!vm || vm.hastate === undefined || vm.node !== source || vm.node === target) return;
  if (!state.nodes.get(target)?.online) return;
  const before = vm.hastate;
  const type = guestTypeOf(vm);
  vm.hastate = 'migrate';
  try {
    const wasRunning = isRunning(vm);
    // The LRM calls the guest's migrate API: its early checks refuse before any task exists.
    if (!state.quorate || (type === 'qemu' && vm.lock)) return;
    // A container is always relocated: shut down first, moved offline, started again by the HA manager.
    if (type === 'lxc' && wasRunning) {
      await lrmTask(ctx, source, vmid, 'vzshutdown', (ct) => markStopped(ct));
      if (isRunning(vm)) return;
    }
    const moved = await new Promise<boolean>((resolve) => {
      const req = { node: source, vmid, type, target, user: HA_USER, withLocalDisks: true, restart: false };
      startMigration(ctx, { ...req, online: type === 'qemu' && wasRunning }, resolve);
    });
    const cur = state.vms.get(vmid);
    if (cur?.hastate === 'migrate') cur.hastate = before;
    if (type === 'lxc' && cur && requestedState(before) === 'started' && !isRunning(cur)) {
      const node = moved ? target : source;
      await lrmTask(ctx, node, vmid, 'vzstart', (ct, t) => markStarted(ct, clock.now(), t.task.pid + 1));
    }
  } finally {
    const cur = state.vms.get(vmid);
    if (cur?.hastate === 'migrate') cur.hastate = before;
  }
}

/** A container task the LRM runs through the API as root@pam (no HA redirection: its rpcenv type is 'ha'). */
function lrmTask(
  ctx: OpsContext,
  node: string,
  vmid: number,
  type: 'vzshutdown' | 'vzstart',
  effect: (vm: SimVm, t: TaskContext) => void,
): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    ctx.tasks.start({
      node,
      type,
      vmid,
      user: HA_USER,
      op: type === 'vzstart' ? 'start' : 'shutdown',
      run: async (t) => {
        let ok = false;
        try {
          await t.flock(vmid, 'exclusive', 'lxc');
          const vm = reloadVm(ctx.state, node, vmid, 'lxc');
          checkConfigLock(vm);
          await t.work();
          effect(vm, t);
          ok = true;
        } finally {
          resolve(ok);
        }
      },
    });
  });
}

export interface HaResourceWire {
  sid: string;
  type: 'vm' | 'ct';
  state: string;
  digest: string;
  max_restart: number;
  max_relocate: number;
}

/** The config digest of resources.cfg (one for all entries, as PVE gives it). */
function digestOf(state: SimState): string {
  const lines = [...state.vms.values()]
    .filter((vm) => vm.hastate !== undefined)
    .map((vm) => `${haSid(vm)} ${requestedState(vm.hastate!)}`)
    .sort();
  return createHash('sha1').update(lines.join('\n')).digest('hex');
}

function resourceOf(vm: SimVm, digest: string): HaResourceWire {
  return {
    sid: haSid(vm),
    type: guestTypeOf(vm) === 'lxc' ? 'ct' : 'vm',
    state: requestedState(vm.hastate!),
    digest,
    max_restart: 1,
    max_relocate: 1,
  };
}

/** GET /cluster/ha/resources[?type=vm|ct]. */
export function haResources(state: SimState, type?: string): HaResourceWire[] {
  const digest = digestOf(state);
  return [...state.vms.values()]
    .filter((vm) => vm.hastate !== undefined)
    .map((vm) => resourceOf(vm, digest))
    .filter((r) => type === undefined || r.type === type);
}

/** GET /cluster/ha/resources/{sid}: sid `vm:100`, `ct:200` or a bare VMID (PVE::HA::Config::parse_sid). */
export function haResource(state: SimState, rawSid: string): HaResourceWire {
  let sid = rawSid;
  if (/^\d+$/.test(rawSid)) {
    const vm = state.vms.get(Number(rawSid));
    if (!vm) throw new PveHttpError(500, `unable to detect SID from VMID - VM/CT ${rawSid} does not exist`);
    sid = haSid(vm);
  } else if (!/^\S+:\S+$/.test(rawSid)) {
    throw new PveHttpError(500, `unable to parse service id '${rawSid}'`);
  }
  const vm = [...state.vms.values()].find((v) => v.hastate !== undefined && haSid(v) === sid);
  if (!vm) throw new PveHttpError(500, `no such resource '${sid}'`);
  return resourceOf(vm, digestOf(state));
}
