// The executor: runs one approved request on the platform, step by step. Each step's intent is recorded before
// the platform call (TASK_ISSUING) and its task id right after (TASK_STARTED), both persisted with the request's
// snapshot; after a crash a recorded task is polled, never re-issued, and an intent without a task id is matched
// against the platform's task list and the VM's visible state before anything is issued again. A `command` request
// makes no platform call: it runs over SSH (command-executor.ts), at most once. A bulk request (a selector's, a
// drain's) runs each member as its own child request (bulk-executor.ts). What each action does on the platform, step
// by step, is in execution-plan.ts; how a step's task is issued, adopted or found, in executor-tasks.ts. A guest
// locked by a running backup is waited for, and a clone that lost the race for its VMID is issued again with a new one.
import { fromCallback } from 'xstate';
import type { Clock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import { TaskFailedError } from '../adapters/platform/errors';
import { classifyPveFailure } from '../adapters/platform/pve-failures';
import type { Platform } from '../adapters/platform/types';
import type { ExecutorEvent, ExecutorInput, RequestContext, RequestEvent } from '../machines/request.machine';
import type { VmInfo } from '../machines/types';
import type { BulkRunner } from './bulk-executor';
import type { CommandRecord, CommandRunner } from './command-executor';
import { executeCommand } from './command-executor';
import { ExecutionError, planRequest } from './execution-plan';
import { StepTasks, VMID_RACE_ATTEMPTS } from './executor-tasks';
import type { GuestRef } from './guest-refresh';
import { VmidAllocator } from './vmid-allocator';

export { ExecutionError };
export { LOST_ANSWER_ATTEMPTS, VMID_RACE_ATTEMPTS, WAIT_POLL_MS } from './executor-tasks';

/**
 * A task whose worker could not take the VM's config lock in time ("can't lock file ... got timeout") did
 * nothing, so it is issued again after a backoff: `attempts` tasks in all, `baseMs` doubling up to `capMs`.
 */
export const LOCK_TIMEOUT_RETRY = { attempts: 7, baseMs: 500, capMs: 4_000 } as const;

/** True for a task that ended because its worker timed out waiting for a config lock (it changed nothing). */
export function isTaskLockTimeout(error: unknown): error is TaskFailedError {
  return error instanceof TaskFailedError && /can't lock file .*got timeout/i.test(error.exitstatus);
}

export interface ExecutorDeps {
  clock: Clock;
  log: Log;
  platforms: ReadonlyMap<string, Platform>;
  /** Current guest view (node, status, lock) by `<cluster>/<vmid>`. */
  vms: ReadonlyMap<string, VmInfo>;
  /** The live context of a request (read at start, so a restored executor sees the recorded tasks). */
  requestContext: (requestId: string) => RequestContext | undefined;
  taskTimeoutMs: number;
  /** How long a request waits for a running backup to release its guest (default taskTimeoutMs). */
  backupWaitMs?: number | undefined;
  /**
   * Makes what the request recorded so far durable (called before every platform call and after its task id). A
   * promise (a core that ships its record, issue 15) is awaited: before a platform call, a rejection means the call
   * is not made and the request fails; after a task id, it is logged (the task runs; its id is on the local disk).
   */
  durable?: () => void | Promise<void>;
  /**
   * Called once a request changed the platform, so that it is read again soon: the guest alone when the plan's tasks
   * left it in place and ran to their end (`readBack`), the cluster's inventory otherwise. A request succeeds once
   * the guest was read back (what it did is in the view when it is `completed`); it never fails on that read.
   */
  onPlatformChanged?: (cluster: string, readBack?: GuestRef) => void | Promise<void>;
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
  /** Runs a bulk request (a selector's or a drain's) as one child request per member; undrain ends maintenance. */
  bulk?: BulkRunner | undefined;
}

/** A request whose members run as child requests, or that acts on Overseer's own records only. */
const runsWithoutPlan = (context: RequestContext): boolean =>
  context.spec.target.selector !== undefined || context.spec.action === 'drain' || context.spec.action === 'undrain';

/**
 * The `execute` actor of the request machine: a callback actor that reports TASK_ISSUING, TASK_STARTED and
 * finally EXECUTION_SUCCEEDED / EXECUTION_FAILED / EXECUTION_CANCELLED to its request.
 */
export function createExecutor(deps: ExecutorDeps) {
  // One per core: the VMIDs this core's clones read from nextid, each handed to one clone only.
  const vmids = new VmidAllocator(deps.clock);
  return fromCallback<ExecutorEvent, ExecutorInput>(({ input, sendBack, receive }) => {
    const abort = new AbortController();
    let cancelRequested = false;
    const send = (event: RequestEvent) => {
      if (!abort.signal.aborted) sendBack(event);
    };
    receive((event) => {
      if (event.type === 'CANCEL') cancelRequested = true;
    });
    const steps = new StepTasks(deps, vmids, input.requestId, abort.signal);

    const run = async () => {
      // Let the restoring runtime register the request before reading its context.
      await Promise.resolve();
      const context = deps.requestContext(input.requestId);
      if (!context) throw new ExecutionError(`request ${input.requestId} is not known to the runtime`);
      cancelRequested ||= context.cancelRequested;
      if (context.spec.action === 'command' && context.spec.target.selector === undefined) {
        // Its intent made durable as before a platform call: not run once the executor was stopped meanwhile.
        const commandDeps = { ...deps, now: () => deps.clock.now(), durable: () => steps.durableBeforeCall() };
        return executeCommand(context, commandDeps, send, () => cancelRequested);
      }
      if (runsWithoutPlan(context)) {
        if (!deps.bulk) throw new ExecutionError(`${context.spec.action} of many guests cannot run here`);
        return deps.bulk.run(context, send, { cancelled: () => cancelRequested, signal: abort.signal });
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
            : await steps.startStep(plan, step, context, send, recorded ? [recorded.upid] : []);
        for (let attempt = 1; task; attempt++) {
          changed = true;
          deps.log.info(`req:${input.requestId}: waiting for ${step.describe} (${task.upid})`);
          try {
            await plan.platform.waitTask(task, { timeoutMs: deps.taskTimeoutMs, signal: abort.signal });
            break;
          } catch (error) {
            // A clone task that found its VMID taken (another clone won the race for it) created nothing.
            const raced = step.taskType.endsWith('clone') && classifyPveFailure(error)?.kind === 'vmid_taken';
            if (step.taskType.endsWith('clone') && !raced) vmids.release(plan.cluster, task.vmid);
            if (raced && attempt < VMID_RACE_ATTEMPTS && !abort.signal.aborted) {
              deps.log.warn(`req:${input.requestId}: ${step.describe}: VMID ${task.vmid} was taken; cloning again`);
              task = await steps.issue(plan, step, undefined, send);
              continue;
            }
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
            task = await steps.issue(plan, step, task.vmid, send);
          }
        }
      }
      if (changed) await deps.onPlatformChanged?.(plan.cluster, plan.readBack);
      send({ type: 'EXECUTION_SUCCEEDED' });
    };

    run().catch((error: unknown) => {
      if (abort.signal.aborted) return;
      send({ type: 'EXECUTION_FAILED', error: error instanceof Error ? error.message : String(error) });
    });
    return () => abort.abort(new ExecutionError('the request left executing'));
  });
}
