// What one approved request does on the platform, step by step: the plan the executor (executor.ts) runs. Each step
// is one platform task of a known type on a known node, so that a restarted executor can recognise a task it issued
// before a crash. Guests are VMs (qemu) or containers (lxc): the same steps, PVE's task names differ.
import type { MigrateOptions, Platform, PowerAction, TaskRef } from '../adapters/platform/types';
import type { RequestContext } from '../machines/request.machine';
import type {
  ConfigureParams,
  DeployParams,
  GuestType,
  MigrateParams,
  SnapshotParams,
  SnapshotRefParams,
  VmInfo,
} from '../machines/types';
import { guestTypeOf, vmKey } from '../machines/types';
import type { GuestRef } from './guest-refresh';

const MiB = 1024 * 1024;

/** One platform task of a request. */
export interface ExecutionStep {
  index: number;
  /** PVE task type (qmstart, vzclone, ...) used to recognise a task issued before a crash. */
  taskType: string;
  node: string;
  /** The guest the task is listed under on the platform (for a clone: the template). */
  taskVmid: number;
  /** The guest the step creates or changes (for a clone: the new VMID, known only once reserved). */
  vmid?: number | undefined;
  describe: string;
  /** For a clone: the name the new guest gets (how a restarted executor tells its clone from another's). */
  creates?: string | undefined;
  /**
   * A task the platform starts by itself after the previous step (the HA manager's migration after `hamigrate`):
   * it is never issued, only found in the node's task list and waited for.
   */
  discovered?: boolean | undefined;
}

export class ExecutionError extends Error {
  override name = 'ExecutionError';
}

/** What `execute` needs from a request, resolved against the current view. */
export interface Plan {
  platform: Platform;
  cluster: string;
  steps: ExecutionStep[];
  /** Makes the step's platform call: its task, or null when the platform did it at once (a config PUT). */
  run(step: ExecutionStep, vmid: number | undefined): Promise<TaskRef | null>;
  /** Is this step's effect already visible on the platform (then it is not issued)? */
  effectVisible(step: ExecutionStep, vmid: number | undefined): boolean;
  /** The guest the plan works on, for waiting on a backup's lock (none for a deploy). */
  guest?: { vmid: number } | undefined;
  /**
   * The guest to read again once the plan ran, when its tasks leave it where it was and a read of it alone tells
   * what they did (actors/guest-refresh.ts); without it the cluster is synced.
   */
  readBack?: GuestRef | undefined;
}

export interface PlanDeps {
  platforms: ReadonlyMap<string, Platform>;
  /** Current guest view (node, status, lock) by `<cluster>/<vmid>`. */
  vms: ReadonlyMap<string, VmInfo>;
}

/** PVE's task type for an operation on a guest of `type` (`qm...` for VMs, `vz...` for containers). */
export function taskTypeOf(type: GuestType, operation: string): string {
  if (type === 'lxc') return `vz${operation === 'migrate' ? 'migrate' : operation}`;
  return operation === 'migrate' ? 'qmigrate' : `qm${operation}`;
}

const POWER_RESULT: Partial<Record<PowerAction, VmInfo['status']>> = {
  start: 'running',
  stop: 'stopped',
  shutdown: 'stopped',
  suspend: 'paused',
  resume: 'running',
};

/**
 * PVE's task for a power action: an HA-managed guest's start and stop are the HA manager's (hastart, hastop); a
 * suspend to memory is `qmpause` (qemu-server vm_suspend: `qmsuspend` only with todisk).
 */
function powerTaskType(vm: VmInfo, action: PowerAction): string {
  if (vm.haManaged && action === 'start') return 'hastart';
  if (vm.haManaged && (action === 'stop' || action === 'shutdown')) return 'hastop';
  if (action === 'suspend' && guestTypeOf(vm) === 'qemu') return 'qmpause';
  return taskTypeOf(guestTypeOf(vm), action);
}

export function planRequest(context: RequestContext, deps: PlanDeps): Plan {
  const { spec } = context;
  const cluster = spec.target.cluster;
  const platform = deps.platforms.get(cluster);
  if (!platform) throw new ExecutionError(`no platform is configured for cluster ${cluster}`);
  const vmOf = (vmid: number) => deps.vms.get(vmKey(cluster, vmid));

  if (spec.action === 'deploy') {
    const params = spec.params as unknown as DeployParams;
    const template = vmOf(params.template);
    if (!template) throw new ExecutionError(`template ${cluster}/${params.template} is not in the inventory`);
    const type = guestTypeOf(template);
    const count = params.count ?? 1;
    const nameOf = (index: number) => (count > 1 ? `${params.name}-${index + 1}` : params.name);
    const steps = Array.from({ length: count }, (_, index) => ({
      index,
      taskType: taskTypeOf(type, 'clone'),
      node: template.node,
      taskVmid: params.template,
      describe: `clone ${cluster}/${params.template} as ${nameOf(index)}`,
      creates: nameOf(index),
    }));
    return {
      platform,
      cluster,
      steps,
      run: (step, newid) => {
        if (newid === undefined) throw new ExecutionError('a clone needs a reserved VMID');
        return platform.clone(template.node, params.template, newid, {
          name: nameOf(step.index),
          full: params.full ?? true,
          target: params.node,
          type,
          pool: params.pool,
        });
      },
      effectVisible: (step, newid) => newid !== undefined && vmOf(newid)?.name === nameOf(step.index),
    };
  }

  const vmid = spec.target.vmid;
  if (vmid === undefined) throw new ExecutionError(`${spec.action} needs a target guest`);
  const vm = vmOf(vmid);
  if (!vm) throw new ExecutionError(`guest ${cluster}/${vmid} is not in the inventory`);
  const node = vm.node;
  const type = guestTypeOf(vm);
  const step = (index: number, taskType: string, describe: string, extra: Partial<ExecutionStep> = {}) => ({
    index,
    taskType,
    node,
    taskVmid: vmid,
    vmid,
    describe,
    ...extra,
  });
  const base = { platform, cluster, guest: { vmid } };
  // Tasks that change the guest in place (no HA: its HA state comes only with a sync).
  const inPlace = { ...base, readBack: vm.haManaged ? undefined : { node, vmid, type } };
  const label = `${cluster}/${vmid}`;

  switch (spec.action) {
    case 'snapshot': {
      const params = spec.params as unknown as SnapshotParams;
      return {
        ...inPlace,
        steps: [step(0, taskTypeOf(type, 'snapshot'), `snapshot ${label} as ${params.snapname}`)],
        run: () => platform.snapshot(node, vmid, params.snapname, params.description, type),
        effectVisible: () => false,
      };
    }
    case 'rollback': {
      const { snapname } = spec.params as unknown as SnapshotRefParams;
      return {
        ...inPlace,
        steps: [step(0, taskTypeOf(type, 'rollback'), `roll ${label} back to ${snapname}`)],
        run: () => platform.rollback(node, vmid, snapname, type),
        effectVisible: () => false,
      };
    }
    case 'delsnapshot': {
      const { snapname } = spec.params as unknown as SnapshotRefParams;
      return {
        ...inPlace,
        steps: [step(0, taskTypeOf(type, 'delsnapshot'), `delete snapshot ${snapname} of ${label}`)],
        run: () => platform.deleteSnapshot(node, vmid, snapname, type),
        effectVisible: () => false,
      };
    }
    case 'configure': {
      // Settings first (a VM's POST config is a task, a container's PUT is done at once), then a larger disk.
      const { disk, ...settings } = spec.params as unknown as ConfigureParams;
      const grow = disk !== undefined && (vm.maxdisk === undefined || disk * MiB > vm.maxdisk);
      const steps = [step(0, taskTypeOf(type, 'config'), `configure ${label}`)];
      if (grow) steps.push(step(1, taskTypeOf(type, 'resize'), `grow the disk of ${label} to ${disk} MiB`));
      return {
        ...base,
        steps,
        run: (s) =>
          s.index === 0
            ? platform.configureGuest(node, vmid, settings, type)
            : platform.resizeDisk(node, vmid, type === 'lxc' ? 'rootfs' : 'scsi0', `${disk}M`, type),
        effectVisible: () => false,
      };
    }
    case 'migrate':
      return planMigration(spec.params as unknown as MigrateParams, vm, base, step);
    case 'destroy': {
      // Proxmox refuses to delete a running guest: stop it first, then delete it with its disks (an HA guest with
      // `purge`, which also takes it out of HA). The stop step is skipped when the guest is already stopped.
      const steps = [
        step(0, powerTaskType(vm, 'stop'), `stop ${label}`),
        step(1, taskTypeOf(type, 'destroy'), `destroy ${label}`),
      ];
      return {
        ...base,
        steps,
        run: (s) =>
          s.index === 0
            ? platform.power(node, vmid, 'stop', type)
            : platform.destroy(node, vmid, { type, purge: vm.haManaged }),
        effectVisible: (s) => (s.index === 0 ? vmOf(vmid)?.status === 'stopped' : vmOf(vmid) === undefined),
      };
    }
    default: {
      const action = spec.action as PowerAction;
      return {
        ...inPlace,
        steps: [step(0, powerTaskType(vm, action), `${action} ${label}`)],
        run: () => platform.power(node, vmid, action, type),
        effectVisible: () => POWER_RESULT[action] !== undefined && vmOf(vmid)?.status === POWER_RESULT[action],
      };
    }
  }
}

/**
 * A migration: one task, or for an HA-managed guest the `hamigrate` hand-off and then the HA manager's own
 * migration task on the source node, which does the work and is the one waited for.
 */
function planMigration(
  params: MigrateParams,
  vm: VmInfo,
  base: Pick<Plan, 'platform' | 'cluster' | 'guest'>,
  step: (index: number, taskType: string, describe: string, extra?: Partial<ExecutionStep>) => ExecutionStep,
): Plan {
  const { platform, cluster } = base;
  const type = guestTypeOf(vm);
  const label = `${cluster}/${vm.vmid}`;
  const options: MigrateOptions = {
    target: params.target,
    online: params.online ?? vm.status === 'running',
    withLocalDisks: params.withLocalDisks,
    type,
  };
  const move = taskTypeOf(type, 'migrate');
  const steps = vm.haManaged
    ? [
        step(0, 'hamigrate', `hand ${label} to the HA manager to move to ${params.target}`),
        step(1, move, `migration of ${label} to ${params.target} by the HA manager`, { discovered: true }),
      ]
    : [step(0, move, `migrate ${label} to ${params.target}`)];
  return {
    ...base,
    steps,
    run: () => platform.migrate(vm.node, vm.vmid, options),
    effectVisible: () => false,
  };
}
