// How the executor comes by the platform task of each step of one request: it issues it (its intent made durable
// before the platform call, its task id right after), adopts the task a crashed run (or a call whose answer was lost)
// may have started, or finds the one the platform started by itself; meanwhile, a guest locked by a running backup is
// waited for, and a clone that lost the race for its VMID is issued again with a new one. One per run of the executor.
import { PlatformTimeoutError, PlatformUnavailableError, PveApiError } from '../adapters/platform/errors';
import { classifyPveFailure } from '../adapters/platform/pve-failures';
import type { TaskStatus } from '../adapters/platform/types';
import type { RequestContext, RequestEvent, RequestTask } from '../machines/request.machine';
import { vmKey } from '../machines/types';
import type { ExecutionStep, Plan } from './execution-plan';
import { ExecutionError } from './execution-plan';
import type { ExecutorDeps } from './executor';
import type { VmidAllocator } from './vmid-allocator';

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

/** One run of the executor: the platform tasks of its steps (issued, adopted or found), and what it waits for. */
export class StepTasks {
  /** How many times this request's platform calls went unanswered (each looked into, then issued again). */
  private lostAnswers = 0;

  /** When waiting for backups must end (one limit for the whole request). */
  private backupDeadline: number | undefined;

  constructor(
    private readonly deps: ExecutorDeps,
    /** One per core: the VMIDs this core's clones read from nextid, each handed to one clone only. */
    private readonly vmids: VmidAllocator,
    private readonly requestId: string,
    /** Aborted once the request left executing. */
    private readonly signal: AbortSignal,
  ) {}

  /** Issues a step (or adopts the task a crashed run issued); undefined when its effect is already there. */
  async startStep(
    plan: Plan,
    step: ExecutionStep,
    context: RequestContext,
    sendEvent: (e: RequestEvent) => void,
    /** Tasks of this step known to have failed (not to be adopted). */
    failed: readonly string[],
  ): Promise<RequestTask | undefined> {
    if (step.discovered) return this.discover(plan, step, sendEvent);
    const intent = context.issuing?.step === step.index ? context.issuing : undefined;
    const vmid = intent?.vmid ?? step.vmid;
    if (!intent) await this.waitForBackup(plan);
    if (!intent && plan.effectVisible(step, vmid)) {
      this.deps.log.info(`req:${this.requestId}: ${step.describe} not needed: already in effect`);
      return undefined;
    }
    if (intent) return this.resume(plan, step, intent, failed, sendEvent);
    return this.issue(plan, step, vmid, sendEvent);
  }

  /**
   * A step whose intent was recorded but whose task id was not (a restart, or an answer lost on the way back):
   * the task it may have started is found in the node's task list (never one another request recorded) and
   * adopted, or its effect is seen, before anything is issued again. A clone is told by its guest's name instead.
   */
  private async resume(
    plan: Plan,
    step: ExecutionStep,
    intent: NonNullable<RequestContext['issuing']>,
    failed: readonly string[],
    sendEvent: (e: RequestEvent) => void,
  ): Promise<RequestTask | undefined> {
    if (step.creates !== undefined) return this.resumeClone(plan, step, intent, sendEvent);
    const vmid = intent.vmid ?? step.vmid;
    const since = Math.max(0, Math.floor(intent.at / 1000) - TASK_MATCH_SKEW_S);
    const tasks = await plan.platform.recentTasks(step.node, step.taskVmid, since);
    const othersTasks = tasks
      .filter((t) => t.type === step.taskType)
      .filter((t) => (this.deps.taskOwner?.(t.upid) ?? this.requestId) !== this.requestId)
      .map((t) => t.upid);
    const found = adoptable(tasks, step.taskType, [...failed, ...othersTasks]);
    if (found) {
      this.deps.log.warn(`req:${this.requestId}: adopting ${found.upid} issued before (${step.describe})`);
      const task = { upid: found.upid, node: found.node, step: step.index, vmid };
      sendEvent({ type: 'TASK_STARTED', task });
      const recorded = this.durableAfterTask(task);
      if (recorded) await recorded;
      return task;
    }
    if (plan.effectVisible(step, vmid)) {
      this.deps.log.warn(`req:${this.requestId}: ${step.describe} already took effect; not issuing it again`);
      return undefined;
    }
    return this.issue(plan, step, vmid, sendEvent);
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
  private async resumeClone(
    plan: Plan,
    step: ExecutionStep,
    intent: NonNullable<RequestContext['issuing']>,
    sendEvent: (e: RequestEvent) => void,
  ): Promise<RequestTask | undefined> {
    const vmid = intent.vmid;
    if (vmid === undefined) return this.issue(plan, step, undefined, sendEvent);
    const since = Math.max(0, Math.floor(intent.at / 1000) - TASK_MATCH_SKEW_S);
    const until = this.deps.clock.now() + this.deps.taskTimeoutMs;
    for (;;) {
      const guest = (await plan.platform.inventory()).vms.find((v) => v.vmid === vmid);
      if (guest && guest.name !== step.creates) {
        this.deps.log.warn(`req:${this.requestId}: VMID ${vmid} is '${guest.name}': ${step.describe} is issued again`);
        return this.issue(plan, step, undefined, sendEvent);
      }
      if (guest && !guest.lock) {
        this.deps.log.warn(
          `req:${this.requestId}: ${step.describe} was made before a restart (${vmid}); not issued again`,
        );
        return undefined;
      }
      if (!guest) {
        const tasks = await plan.platform.recentTasks(step.node, step.taskVmid, since);
        const unowned = tasks.filter(
          (t) => t.type === step.taskType && t.status === 'running' && this.deps.taskOwner?.(t.upid) === undefined,
        );
        if (unowned.length === 0) return this.issue(plan, step, vmid, sendEvent);
      }
      if (this.deps.clock.now() > until) {
        throw new ExecutionError(`${step.describe}: VMID ${vmid} did not settle after a restart`);
      }
      await this.deps.clock.sleep(WAIT_POLL_MS, this.signal);
    }
  }

  /**
   * Records the intent, makes the platform call, records its task id. A clone whose VMID another clone took
   * between `/cluster/nextid` and the call created nothing: it is issued again with a fresh id.
   */
  async issue(
    plan: Plan,
    step: ExecutionStep,
    reserved: number | undefined,
    sendEvent: (e: RequestEvent) => void,
  ): Promise<RequestTask | undefined> {
    const clone = step.taskType.endsWith('clone');
    let vmid = reserved;
    for (let attempt = 1; ; attempt++) {
      if (clone && vmid === undefined) vmid = await this.vmids.next(plan.cluster, plan.platform);
      const at = this.deps.clock.now();
      sendEvent({ type: 'TASK_ISSUING', step: step.index, at, vmid });
      const intent = this.durableBeforeCall();
      if (intent) await intent;
      try {
        const ref = await plan.run(step, vmid);
        // Done at once (no task): nothing to wait for, and doing it again after a crash sets the same again.
        if (!ref) return undefined;
        const task = { upid: ref.upid, node: ref.node, step: step.index, vmid };
        sendEvent({ type: 'TASK_STARTED', task });
        const recorded = this.durableAfterTask(task);
        if (recorded) await recorded;
        return task;
      } catch (error) {
        const failure = classifyPveFailure(error);
        if (clone && failure?.kind === 'vmid_taken' && attempt < VMID_RACE_ATTEMPTS) {
          this.deps.log.warn(`req:${this.requestId}: VMID ${vmid} was taken by another clone; asking for a new one`);
          vmid = undefined;
          continue;
        }
        // No answer (a proxy's 596, a timeout, a lost connection): PVE may have done it or not. Look, then decide.
        if (answerLost(error) && this.lostAnswers++ < LOST_ANSWER_ATTEMPTS && !this.signal.aborted) {
          this.deps.log.warn(
            `req:${this.requestId}: ${step.describe}: no answer (${(error as Error).message}); looking whether it was done`,
          );
          await this.deps.clock.sleep(WAIT_POLL_MS, this.signal);
          return this.resume(plan, step, { step: step.index, at, vmid }, [], sendEvent);
        }
        if (clone && failure?.kind !== 'vmid_taken') this.vmids.release(plan.cluster, vmid);
        if (failure?.kind === 'locked' && failure.lock === 'backup' && plan.guest) {
          await this.waitForBackup(plan, true);
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
  durableBeforeCall(): Promise<void> | undefined {
    const pending = this.deps.durable?.();
    if (!pending) return undefined;
    return pending.then(() => {
      if (this.signal.aborted) throw this.signal.reason;
    });
  }

  /** A task id just recorded made durable; a failure is logged, the task is still this request's to wait for. */
  private durableAfterTask(task: RequestTask): Promise<void> | undefined {
    const pending = this.deps.durable?.();
    if (!pending) return undefined;
    return pending.catch((error: unknown) => {
      this.deps.log.warn(
        `req:${this.requestId}: task ${task.upid} is recorded here but not made durable: ${(error as Error).message}`,
      );
    });
  }

  /**
   * A guest locked by a running backup is not an error: the request waits for the backup to end (up to
   * backupWaitMs in all), then goes on. `known`: the platform just said so (the view may not show the lock yet).
   */
  private async waitForBackup(plan: Plan, known = false): Promise<void> {
    const guest = plan.guest;
    if (!guest) return;
    const locked = () => this.deps.vms.get(vmKey(plan.cluster, guest.vmid))?.lock === 'backup';
    if (!known && !locked()) return;
    const limit = this.deps.backupWaitMs ?? this.deps.taskTimeoutMs;
    this.backupDeadline ??= this.deps.clock.now() + limit;
    this.deps.log.info(
      `req:${this.requestId}: ${plan.cluster}/${guest.vmid} is being backed up; waiting for the backup`,
    );
    do {
      if (this.deps.clock.now() > this.backupDeadline) {
        throw new ExecutionError(
          `${plan.cluster}/${guest.vmid} was still locked by a backup after ${Math.round(limit / 1000)} s`,
        );
      }
      await this.deps.clock.sleep(WAIT_POLL_MS, this.signal);
    } while (locked());
  }

  /**
   * A task the platform starts by itself (the HA manager's migration after `hamigrate`): found in the source
   * node's task list, never issued. Its effect already visible (the guest is on its new node) also ends the step.
   */
  private async discover(
    plan: Plan,
    step: ExecutionStep,
    sendEvent: (e: RequestEvent) => void,
  ): Promise<RequestTask | undefined> {
    const context = this.deps.requestContext(this.requestId);
    const started = context?.recheck?.at ?? context?.spec.submittedAt ?? this.deps.clock.now();
    const since = Math.max(0, Math.floor(started / 1000) - TASK_MATCH_SKEW_S);
    const until = this.deps.clock.now() + this.deps.taskTimeoutMs;
    for (;;) {
      const tasks = await plan.platform.recentTasks(step.node, step.taskVmid, since);
      const others = tasks
        .filter((t) => (this.deps.taskOwner?.(t.upid) ?? this.requestId) !== this.requestId)
        .map((t) => t.upid);
      const found = adoptable(tasks, step.taskType, others);
      if (found) {
        const task = { upid: found.upid, node: found.node, step: step.index, vmid: step.vmid };
        sendEvent({ type: 'TASK_STARTED', task });
        const recorded = this.durableAfterTask(task);
        if (recorded) await recorded;
        return task;
      }
      if (plan.effectVisible(step, step.vmid)) return undefined;
      if (this.deps.clock.now() > until) {
        throw new ExecutionError(`no ${step.taskType} task appeared for ${step.describe}`);
      }
      await this.deps.clock.sleep(WAIT_POLL_MS, this.signal);
    }
  }
}
