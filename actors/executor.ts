// The executor: runs one approved request on the platform, step by step. Each step's intent is recorded before
// the platform call (TASK_ISSUING) and its task id right after (TASK_STARTED), both persisted with the request's
// snapshot; after a crash a recorded task is polled, never re-issued, and an intent without a task id is matched
// against the platform's task list and the VM's visible state before anything is issued again. A `command` request
// makes no platform call: it runs over SSH (command-executor.ts), at most once.
import { fromCallback } from 'xstate';
import type { Clock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import { TaskFailedError } from '../adapters/platform/errors';
import type { Platform, PowerAction, TaskRef, TaskStatus } from '../adapters/platform/types';
import type {
  ExecutorEvent,
  ExecutorInput,
  RequestContext,
  RequestEvent,
  RequestTask,
} from '../machines/request.machine';
import type { DeployParams, SnapshotParams, VmInfo } from '../machines/types';
import { vmKey } from '../machines/types';
import type { CommandRecord, CommandRunner } from './command-executor';
import { executeCommand } from './command-executor';

/** One platform task of a request. */
export interface ExecutionStep {
  index: number;
  /** PVE task type (qmstart, qmclone, ...) used to recognise a task issued before a crash. */
  taskType: string;
  node: string;
  /** The VM the task is listed under on the platform (for a clone: the template). */
  taskVmid: number;
  /** The VM the step creates or changes (for a clone: the new VMID, known only once reserved). */
  vmid?: number | undefined;
  describe: string;
}

export interface ExecutorDeps {
  clock: Clock;
  log: Log;
  platforms: ReadonlyMap<string, Platform>;
  /** Current VM view (node, status) by `<cluster>/<vmid>`. */
  vms: ReadonlyMap<string, VmInfo>;
  /** The live context of a request (read at start, so a restored executor sees the recorded tasks). */
  requestContext: (requestId: string) => RequestContext | undefined;
  taskTimeoutMs: number;
  /** Makes what the request recorded so far durable (called before every platform call and after its task id). */
  durable?: () => void;
  /** Called once a request changed the platform, so the inventory is read again soon. */
  onPlatformChanged?: (cluster: string) => void;
  /** Re-issuing a task that failed on a lock timeout (default LOCK_TIMEOUT_RETRY). */
  lockRetry?: { attempts: number; baseMs: number; capMs: number } | undefined;
  /**
   * The request that recorded a platform task (by UPID), if any. A restarted executor never adopts a task another
   * request recorded: the window it searches (seconds, with clock skew allowed) also holds the tasks of earlier
   * requests on the same VM, and their task is not this request's.
   */
  taskOwner?: ((upid: string) => string | undefined) | undefined;
  /** Where a `command` request's command runs (over SSH on the VM's guest); without it such a request fails. */
  ssh?: CommandRunner | undefined;
  /** The exit and output tail of a `command` request, for the audit log. */
  onCommandResult?: ((record: CommandRecord) => void) | undefined;
}

/**
 * A task whose worker could not take the VM's config lock in time ("can't lock file ... got timeout") did
 * nothing, so it is issued again after a backoff: `attempts` tasks in all, `baseMs` doubling up to `capMs`.
 */
export const LOCK_TIMEOUT_RETRY = { attempts: 4, baseMs: 500, capMs: 8_000 } as const;

/** True for a task that ended because its worker timed out waiting for a config lock (it changed nothing). */
export function isTaskLockTimeout(error: unknown): error is TaskFailedError {
  return error instanceof TaskFailedError && /can't lock file .*got timeout/i.test(error.exitstatus);
}

/** Of the tasks a crashed run may have issued, the one to adopt: a running one, else a successful one, else the newest. */
function adoptable(tasks: TaskStatus[], type: string, exclude: readonly string[]): TaskStatus | undefined {
  const candidates = tasks.filter((t) => t.type === type && !exclude.includes(t.upid));
  return (
    candidates.find((t) => t.status === 'running') ??
    candidates.find((t) => t.exitstatus === 'OK') ??
    candidates.sort((a, b) => b.starttime - a.starttime)[0]
  );
}

export class ExecutionError extends Error {
  override name = 'ExecutionError';
}

const POWER_TASK: Record<PowerAction, string> = {
  start: 'qmstart',
  stop: 'qmstop',
  shutdown: 'qmshutdown',
  reboot: 'qmreboot',
  suspend: 'qmsuspend',
  resume: 'qmresume',
};

const POWER_RESULT: Partial<Record<PowerAction, VmInfo['status']>> = {
  start: 'running',
  stop: 'stopped',
  shutdown: 'stopped',
  suspend: 'paused',
  resume: 'running',
};

/** What `execute` needs from a request, resolved against the current view. */
interface Plan {
  platform: Platform;
  cluster: string;
  steps: ExecutionStep[];
  run(step: ExecutionStep, vmid: number | undefined): Promise<TaskRef>;
  /** Is this step's effect already visible on the platform (then it is not issued)? */
  effectVisible(step: ExecutionStep, vmid: number | undefined): boolean;
}

function planRequest(context: RequestContext, deps: ExecutorDeps): Plan {
  const { spec } = context;
  const cluster = spec.target.cluster;
  const platform = deps.platforms.get(cluster);
  if (!platform) throw new ExecutionError(`no platform is configured for cluster ${cluster}`);
  const vmOf = (vmid: number) => deps.vms.get(vmKey(cluster, vmid));

  if (spec.action === 'deploy') {
    const params = spec.params as unknown as DeployParams;
    const template = vmOf(params.template);
    if (!template) throw new ExecutionError(`template ${cluster}/${params.template} is not in the inventory`);
    const count = params.count ?? 1;
    const steps = Array.from({ length: count }, (_, index) => ({
      index,
      taskType: 'qmclone',
      node: template.node,
      taskVmid: params.template,
      describe: `clone ${cluster}/${params.template} as ${count > 1 ? `${params.name}-${index + 1}` : params.name}`,
    }));
    return {
      platform,
      cluster,
      steps,
      run: (step, newid) => {
        if (newid === undefined) throw new ExecutionError('a clone needs a reserved VMID');
        return platform.clone(template.node, params.template, newid, {
          name: count > 1 ? `${params.name}-${step.index + 1}` : params.name,
          full: params.full ?? true,
          target: params.node,
        });
      },
      effectVisible: (_, newid) => newid !== undefined && vmOf(newid) !== undefined,
    };
  }

  const vmid = spec.target.vmid;
  if (vmid === undefined) throw new ExecutionError(`${spec.action} needs a target VM`);
  const vm = vmOf(vmid);
  if (!vm) throw new ExecutionError(`VM ${cluster}/${vmid} is not in the inventory`);
  const node = vm.node;
  const step = (index: number, taskType: string, describe: string): ExecutionStep => ({
    index,
    taskType,
    node,
    taskVmid: vmid,
    vmid,
    describe,
  });

  switch (spec.action) {
    case 'snapshot': {
      const params = spec.params as unknown as SnapshotParams;
      return {
        platform,
        cluster,
        steps: [step(0, 'qmsnapshot', `snapshot ${cluster}/${vmid} as ${params.snapname}`)],
        run: () => platform.snapshot(node, vmid, params.snapname, params.description),
        effectVisible: () => false,
      };
    }
    case 'destroy': {
      // Proxmox refuses to delete a running VM: stop it first, then delete it with its disks.
      // The stop step is skipped when the VM is already stopped (its effect is visible).
      const steps = [step(0, 'qmstop', `stop ${cluster}/${vmid}`), step(1, 'qmdestroy', `destroy ${cluster}/${vmid}`)];
      return {
        platform,
        cluster,
        steps,
        run: (s) => (s.taskType === 'qmstop' ? platform.power(node, vmid, 'stop') : platform.destroy(node, vmid)),
        effectVisible: (s) => (s.taskType === 'qmstop' ? vmOf(vmid)?.status === 'stopped' : vmOf(vmid) === undefined),
      };
    }
    default: {
      const action = spec.action as PowerAction;
      return {
        platform,
        cluster,
        steps: [step(0, POWER_TASK[action], `${action} ${cluster}/${vmid}`)],
        run: () => platform.power(node, vmid, action),
        effectVisible: () => POWER_RESULT[action] !== undefined && vmOf(vmid)?.status === POWER_RESULT[action],
      };
    }
  }
}

/** Seconds-resolution PVE start times: allow this much clock skew when matching a task to an intent. */
const TASK_MATCH_SKEW_S = 30;

/**
 * The `execute` actor of the request machine: a callback actor that reports TASK_ISSUING, TASK_STARTED and
 * finally EXECUTION_SUCCEEDED / EXECUTION_FAILED / EXECUTION_CANCELLED to its request.
 */
export function createExecutor(deps: ExecutorDeps) {
  return fromCallback<ExecutorEvent, ExecutorInput>(({ input, sendBack, receive }) => {
    const abort = new AbortController();
    let cancelRequested = false;
    const send = (event: RequestEvent) => {
      if (!abort.signal.aborted) sendBack(event);
    };
    receive((event) => {
      if (event.type === 'CANCEL') cancelRequested = true;
    });

    const run = async () => {
      // Let the restoring runtime register the request before reading its context.
      await Promise.resolve();
      const context = deps.requestContext(input.requestId);
      if (!context) throw new ExecutionError(`request ${input.requestId} is not known to the runtime`);
      cancelRequested ||= context.cancelRequested;
      if (context.spec.action === 'command') {
        const commandDeps = { ...deps, now: () => deps.clock.now() };
        return executeCommand(context, commandDeps, send, () => cancelRequested);
      }
      const plan = planRequest(context, deps);
      let changed = false;
      const retry = deps.lockRetry ?? LOCK_TIMEOUT_RETRY;
      for (const step of plan.steps) {
        const recorded = context.tasks.find((t) => t.step === step.index);
        if (!recorded && cancelRequested) {
          if (changed) deps.onPlatformChanged?.(plan.cluster);
          send({ type: 'EXECUTION_CANCELLED' });
          return;
        }
        // An intent recorded after this step's task: a re-issue (after a lock timeout) was under way at a crash.
        const reissuing = recorded !== undefined && context.issuing?.step === step.index;
        let task =
          recorded && !reissuing
            ? recorded
            : await startStep(plan, step, context, send, recorded ? [recorded.upid] : []);
        for (let attempt = 1; task; attempt++) {
          changed = true;
          deps.log.info(`req:${input.requestId}: waiting for ${step.describe} (${task.upid})`);
          try {
            await plan.platform.waitTask(task, { timeoutMs: deps.taskTimeoutMs, signal: abort.signal });
            break;
          } catch (error) {
            if (!isTaskLockTimeout(error) || attempt >= retry.attempts || abort.signal.aborted) throw error;
            const delay = Math.min(retry.capMs, retry.baseMs * 2 ** (attempt - 1));
            deps.log.warn(
              `req:${input.requestId}: ${step.describe} failed on a lock timeout (${error.exitstatus}); it changed nothing: ` +
                `issuing it again in ${delay} ms (retry ${attempt}/${retry.attempts - 1})`,
            );
            await deps.clock.sleep(delay, abort.signal);
            if (cancelRequested) {
              deps.onPlatformChanged?.(plan.cluster);
              send({ type: 'EXECUTION_CANCELLED' });
              return;
            }
            task = await issue(plan, step, task.vmid, send);
          }
        }
      }
      if (changed) deps.onPlatformChanged?.(plan.cluster);
      send({ type: 'EXECUTION_SUCCEEDED' });
    };

    /** Issues a step (or adopts the task a crashed run issued); undefined when its effect is already there. */
    async function startStep(
      plan: Plan,
      step: ExecutionStep,
      context: RequestContext,
      sendEvent: (e: RequestEvent) => void,
      /** Tasks of this step known to have failed (not to be adopted). */
      failed: readonly string[],
    ): Promise<RequestTask | undefined> {
      const intent = context.issuing?.step === step.index ? context.issuing : undefined;
      const vmid = intent?.vmid ?? step.vmid;
      if (!intent && plan.effectVisible(step, vmid)) {
        deps.log.info(`req:${input.requestId}: ${step.describe} not needed: already in effect`);
        return undefined;
      }
      if (intent) {
        const since = Math.floor(intent.at / 1000) - TASK_MATCH_SKEW_S;
        const tasks = await plan.platform.recentTasks(step.node, step.taskVmid, since);
        const othersTasks = tasks
          .filter((t) => t.type === step.taskType)
          .filter((t) => (deps.taskOwner?.(t.upid) ?? input.requestId) !== input.requestId)
          .map((t) => t.upid);
        const found = adoptable(tasks, step.taskType, [...failed, ...othersTasks]);
        if (found) {
          deps.log.warn(`req:${input.requestId}: adopting ${found.upid} issued before a restart (${step.describe})`);
          const task = { upid: found.upid, node: found.node, step: step.index, vmid };
          sendEvent({ type: 'TASK_STARTED', task });
          deps.durable?.();
          return task;
        }
        if (plan.effectVisible(step, vmid)) {
          deps.log.warn(`req:${input.requestId}: ${step.describe} already took effect; not issuing it again`);
          return undefined;
        }
      }
      return issue(plan, step, vmid, sendEvent);
    }

    /** Records the intent, makes the platform call, records its task id. */
    async function issue(
      plan: Plan,
      step: ExecutionStep,
      reserved: number | undefined,
      sendEvent: (e: RequestEvent) => void,
    ): Promise<RequestTask> {
      let vmid = reserved;
      if (step.taskType === 'qmclone' && vmid === undefined) vmid = await plan.platform.nextId();
      sendEvent({ type: 'TASK_ISSUING', step: step.index, at: deps.clock.now(), vmid });
      deps.durable?.();
      const ref = await plan.run(step, vmid);
      const task = { upid: ref.upid, node: ref.node, step: step.index, vmid };
      sendEvent({ type: 'TASK_STARTED', task });
      deps.durable?.();
      return task;
    }

    run().catch((error: unknown) => {
      if (abort.signal.aborted) return;
      send({ type: 'EXECUTION_FAILED', error: error instanceof Error ? error.message : String(error) });
    });
    return () => abort.abort(new ExecutionError('the request left executing'));
  });
}
