// The executor: runs one approved request on the platform, step by step. Each step's intent is recorded before
// the platform call (TASK_ISSUING) and its task id right after (TASK_STARTED), both persisted with the request's
// snapshot; after a crash a recorded task is polled, never re-issued, and an intent without a task id is matched
// against the platform's task list and the VM's visible state before anything is issued again. A `command` request
// makes no platform call: it runs over SSH (command-executor.ts), at most once. A bulk request (a selector's, a
// drain's) runs each member as its own child request (bulk-executor.ts). What each action does on the platform, step
// by step, is in execution-plan.ts; a guest locked by a running backup is waited for, and a clone that lost the race
// for its VMID is issued again with a new one.
import { fromCallback } from 'xstate';
import type { Clock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import {
  PlatformTimeoutError,
  PlatformUnavailableError,
  PveApiError,
  TaskFailedError,
} from '../adapters/platform/errors';
import { classifyPveFailure } from '../adapters/platform/pve-failures';
import type { Platform, TaskStatus } from '../adapters/platform/types';
import type {
  ExecutorEvent,
  ExecutorInput,
  RequestContext,
  RequestEvent,
  RequestTask,
} from '../machines/request.machine';
import type { VmInfo } from '../machines/types';
import { vmKey } from '../machines/types';
import type { BulkRunner } from './bulk-executor';
import type { CommandRecord, CommandRunner } from './command-executor';
import { executeCommand } from './command-executor';
import type { ExecutionStep, Plan } from './execution-plan';
import { ExecutionError, planRequest } from './execution-plan';
import type { GuestRef } from './guest-refresh';
import { VmidAllocator } from './vmid-allocator';

export { ExecutionError };

/**
 * A task whose worker could not take the VM's config lock in time ("can't lock file ... got timeout") did
 * nothing, so it is issued again after a backoff: `attempts` tasks in all, `baseMs` doubling up to `capMs`.
 */
export const LOCK_TIMEOUT_RETRY = { attempts: 7, baseMs: 500, capMs: 4_000 } as const;

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

/** A call the platform may or may not have carried out: its answer was lost (a proxy's 596, a timeout, no connection). */
function answerLost(error: unknown): boolean {
  return (
    error instanceof PlatformTimeoutError ||
    error instanceof PlatformUnavailableError ||
    (error instanceof PveApiError && (error.status === 595 || error.status === 596))
  );
}

/** How many lost answers one request looks into before it gives up. */
export const LOST_ANSWER_ATTEMPTS = 5;

/** Seconds-resolution PVE start times: allow this much clock skew when matching a task to an intent. */
const TASK_MATCH_SKEW_S = 30;

/** A clone that lost the race for a VMID (`/cluster/nextid` reserves nothing) is issued again with a new one. */
export const VMID_RACE_ATTEMPTS = 10;
/** How often a request waiting for a backup to end, or for the HA manager's task to appear, looks again. */
export const WAIT_POLL_MS = 2_000;

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

    const run = async () => {
      // Let the restoring runtime register the request before reading its context.
      await Promise.resolve();
      const context = deps.requestContext(input.requestId);
      if (!context) throw new ExecutionError(`request ${input.requestId} is not known to the runtime`);
      cancelRequested ||= context.cancelRequested;
      if (context.spec.action === 'command' && context.spec.target.selector === undefined) {
        // Its intent made durable as before a platform call: not run once the executor was stopped meanwhile.
        const commandDeps = { ...deps, now: () => deps.clock.now(), durable: durableBeforeCall };
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
            : await startStep(plan, step, context, send, recorded ? [recorded.upid] : []);
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
              task = await issue(plan, step, undefined, send);
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
            task = await issue(plan, step, task.vmid, send);
          }
        }
      }
      if (changed) await deps.onPlatformChanged?.(plan.cluster, plan.readBack);
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
      if (step.discovered) return discover(plan, step, sendEvent);
      const intent = context.issuing?.step === step.index ? context.issuing : undefined;
      const vmid = intent?.vmid ?? step.vmid;
      if (!intent) await waitForBackup(plan);
      if (!intent && plan.effectVisible(step, vmid)) {
        deps.log.info(`req:${input.requestId}: ${step.describe} not needed: already in effect`);
        return undefined;
      }
      if (intent) return resume(plan, step, intent, failed, sendEvent);
      return issue(plan, step, vmid, sendEvent);
    }

    /**
     * A step whose intent was recorded but whose task id was not (a restart, or an answer lost on the way back):
     * the task it may have started is found in the node's task list (never one another request recorded) and
     * adopted, or its effect is seen, before anything is issued again. A clone is told by its guest's name instead.
     */
    async function resume(
      plan: Plan,
      step: ExecutionStep,
      intent: NonNullable<RequestContext['issuing']>,
      failed: readonly string[],
      sendEvent: (e: RequestEvent) => void,
    ): Promise<RequestTask | undefined> {
      if (step.creates !== undefined) return resumeClone(plan, step, intent, sendEvent);
      const vmid = intent.vmid ?? step.vmid;
      const since = Math.max(0, Math.floor(intent.at / 1000) - TASK_MATCH_SKEW_S);
      const tasks = await plan.platform.recentTasks(step.node, step.taskVmid, since);
      const othersTasks = tasks
        .filter((t) => t.type === step.taskType)
        .filter((t) => (deps.taskOwner?.(t.upid) ?? input.requestId) !== input.requestId)
        .map((t) => t.upid);
      const found = adoptable(tasks, step.taskType, [...failed, ...othersTasks]);
      if (found) {
        deps.log.warn(`req:${input.requestId}: adopting ${found.upid} issued before (${step.describe})`);
        const task = { upid: found.upid, node: found.node, step: step.index, vmid };
        sendEvent({ type: 'TASK_STARTED', task });
        const recorded = durableAfterTask(task);
        if (recorded) await recorded;
        return task;
      }
      if (plan.effectVisible(step, vmid)) {
        deps.log.warn(`req:${input.requestId}: ${step.describe} already took effect; not issuing it again`);
        return undefined;
      }
      return issue(plan, step, vmid, sendEvent);
    }

    /**
     * A clone whose intent was recorded before a restart. PVE's clone task names only its template, so which task is
     * this request's cannot be told from the task list; the guest at the intended VMID tells (PVE writes its config,
     * locked, as soon as the clone's worker starts). Read from the platform, not the view, which may predate it:
     * - it carries this clone's name: the clone happened (or runs): wait until it is unlocked, issue nothing;
     * - it is another guest: the VMID was lost to another clone, so this one issues again with a new VMID;
     * - there is none: while a clone task of the template no other request recorded still runs, it may be this one
     *   (its worker not yet started): wait and look again; once none runs, the clone was not made: issue it again.
     */
    async function resumeClone(
      plan: Plan,
      step: ExecutionStep,
      intent: NonNullable<RequestContext['issuing']>,
      sendEvent: (e: RequestEvent) => void,
    ): Promise<RequestTask | undefined> {
      const vmid = intent.vmid;
      if (vmid === undefined) return issue(plan, step, undefined, sendEvent);
      const since = Math.max(0, Math.floor(intent.at / 1000) - TASK_MATCH_SKEW_S);
      const until = deps.clock.now() + deps.taskTimeoutMs;
      for (;;) {
        const guest = (await plan.platform.inventory()).vms.find((v) => v.vmid === vmid);
        if (guest && guest.name !== step.creates) {
          deps.log.warn(`req:${input.requestId}: VMID ${vmid} is '${guest.name}': ${step.describe} is issued again`);
          return issue(plan, step, undefined, sendEvent);
        }
        if (guest && !guest.lock) {
          deps.log.warn(
            `req:${input.requestId}: ${step.describe} was made before a restart (${vmid}); not issued again`,
          );
          return undefined;
        }
        if (!guest) {
          const tasks = await plan.platform.recentTasks(step.node, step.taskVmid, since);
          const unowned = tasks.filter(
            (t) => t.type === step.taskType && t.status === 'running' && deps.taskOwner?.(t.upid) === undefined,
          );
          if (unowned.length === 0) return issue(plan, step, vmid, sendEvent);
        }
        if (deps.clock.now() > until) {
          throw new ExecutionError(`${step.describe}: VMID ${vmid} did not settle after a restart`);
        }
        await deps.clock.sleep(WAIT_POLL_MS, abort.signal);
      }
    }

    /**
     * Records the intent, makes the platform call, records its task id. A clone whose VMID another clone took
     * between `/cluster/nextid` and the call created nothing: it is issued again with a fresh id.
     */
    async function issue(
      plan: Plan,
      step: ExecutionStep,
      reserved: number | undefined,
      sendEvent: (e: RequestEvent) => void,
    ): Promise<RequestTask | undefined> {
      const clone = step.taskType.endsWith('clone');
      let vmid = reserved;
      for (let attempt = 1; ; attempt++) {
        if (clone && vmid === undefined) vmid = await vmids.next(plan.cluster, plan.platform);
        const at = deps.clock.now();
        sendEvent({ type: 'TASK_ISSUING', step: step.index, at, vmid });
        const intent = durableBeforeCall();
        if (intent) await intent;
        try {
          const ref = await plan.run(step, vmid);
          // Done at once (no task): nothing to wait for, and doing it again after a crash sets the same again.
          if (!ref) return undefined;
          const task = { upid: ref.upid, node: ref.node, step: step.index, vmid };
          sendEvent({ type: 'TASK_STARTED', task });
          const recorded = durableAfterTask(task);
          if (recorded) await recorded;
          return task;
        } catch (error) {
          const failure = classifyPveFailure(error);
          if (clone && failure?.kind === 'vmid_taken' && attempt < VMID_RACE_ATTEMPTS) {
            deps.log.warn(`req:${input.requestId}: VMID ${vmid} was taken by another clone; asking for a new one`);
            vmid = undefined;
            continue;
          }
          // No answer (a proxy's 596, a timeout, a lost connection): PVE may have done it or not. Look, then decide.
          if (answerLost(error) && lostAnswers++ < LOST_ANSWER_ATTEMPTS && !abort.signal.aborted) {
            deps.log.warn(
              `req:${input.requestId}: ${step.describe}: no answer (${(error as Error).message}); looking whether it was done`,
            );
            await deps.clock.sleep(WAIT_POLL_MS, abort.signal);
            return resume(plan, step, { step: step.index, at, vmid }, [], sendEvent);
          }
          if (clone && failure?.kind !== 'vmid_taken') vmids.release(plan.cluster, vmid);
          if (failure?.kind === 'locked' && failure.lock === 'backup' && plan.guest) {
            await waitForBackup(plan, true);
            continue;
          }
          throw error;
        }
      }
    }

    /**
     * The intent just recorded made durable before the platform call. Undefined when deps.durable is synchronous (the
     * single core: nothing to wait for); a promise that rejects when it failed or the executor was stopped meanwhile.
     */
    function durableBeforeCall(): Promise<void> | undefined {
      const pending = deps.durable?.();
      if (!pending) return undefined;
      return pending.then(() => {
        if (abort.signal.aborted) throw abort.signal.reason;
      });
    }

    /** A task id just recorded made durable; a failure is logged, the task is still this request's to wait for. */
    function durableAfterTask(task: RequestTask): Promise<void> | undefined {
      const pending = deps.durable?.();
      if (!pending) return undefined;
      return pending.catch((error: unknown) => {
        deps.log.warn(
          `req:${input.requestId}: task ${task.upid} is recorded here but not made durable: ${(error as Error).message}`,
        );
      });
    }

    /** How many times this request's platform calls went unanswered (each looked into, then issued again). */
    let lostAnswers = 0;

    /** When waiting for backups must end (one limit for the whole request). */
    let backupDeadline: number | undefined;

    /**
     * A guest locked by a running backup is not an error: the request waits for the backup to end (up to
     * backupWaitMs in all), then goes on. `known`: the platform just said so (the view may not show the lock yet).
     */
    async function waitForBackup(plan: Plan, known = false): Promise<void> {
      const guest = plan.guest;
      if (!guest) return;
      const locked = () => deps.vms.get(vmKey(plan.cluster, guest.vmid))?.lock === 'backup';
      if (!known && !locked()) return;
      const limit = deps.backupWaitMs ?? deps.taskTimeoutMs;
      backupDeadline ??= deps.clock.now() + limit;
      deps.log.info(`req:${input.requestId}: ${plan.cluster}/${guest.vmid} is being backed up; waiting for the backup`);
      do {
        if (deps.clock.now() > backupDeadline) {
          throw new ExecutionError(
            `${plan.cluster}/${guest.vmid} was still locked by a backup after ${Math.round(limit / 1000)} s`,
          );
        }
        await deps.clock.sleep(WAIT_POLL_MS, abort.signal);
      } while (locked());
    }

    /**
     * A task the platform starts by itself (the HA manager's migration after `hamigrate`): found in the source
     * node's task list, never issued. Its effect already visible (the guest is on its new node) also ends the step.
     */
    async function discover(
      plan: Plan,
      step: ExecutionStep,
      sendEvent: (e: RequestEvent) => void,
    ): Promise<RequestTask | undefined> {
      const context = deps.requestContext(input.requestId);
      const started = context?.recheck?.at ?? context?.spec.submittedAt ?? deps.clock.now();
      const since = Math.max(0, Math.floor(started / 1000) - TASK_MATCH_SKEW_S);
      const until = deps.clock.now() + deps.taskTimeoutMs;
      for (;;) {
        const tasks = await plan.platform.recentTasks(step.node, step.taskVmid, since);
        const others = tasks
          .filter((t) => (deps.taskOwner?.(t.upid) ?? input.requestId) !== input.requestId)
          .map((t) => t.upid);
        const found = adoptable(tasks, step.taskType, others);
        if (found) {
          const task = { upid: found.upid, node: found.node, step: step.index, vmid: step.vmid };
          sendEvent({ type: 'TASK_STARTED', task });
          const recorded = durableAfterTask(task);
          if (recorded) await recorded;
          return task;
        }
        if (plan.effectVisible(step, step.vmid)) return undefined;
        if (deps.clock.now() > until) {
          throw new ExecutionError(`no ${step.taskType} task appeared for ${step.describe}`);
        }
        await deps.clock.sleep(WAIT_POLL_MS, abort.signal);
      }
    }

    run().catch((error: unknown) => {
      if (abort.signal.aborted) return;
      send({ type: 'EXECUTION_FAILED', error: error instanceof Error ? error.message : String(error) });
    });
    return () => abort.abort(new ExecutionError('the request left executing'));
  });
}
