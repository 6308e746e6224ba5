// Workers: every mutating operation runs as a task with a UPID that takes clock time, holds its
// config-file locks while it runs, and ends with exitstatus 'OK' or the error text.

import type { Clock } from '../clock';
import { TaskError } from './errors';
import type { SimFaults } from './faults';
import type { FlockMode, FlockTable, Release } from './flocks';
import { requestScope } from './request-scope';
import type { OpLogEntry, SimState, SimTask, TaskType } from './types';
import { encodeUpid } from './upid';

/** Default clock milliseconds per task type. */
export const DEFAULT_TASK_DURATIONS: Readonly<Record<TaskType, number>> = {
  qmstart: 2_000,
  qmstop: 1_000,
  qmshutdown: 5_000,
  qmreboot: 6_000,
  qmsuspend: 1_000,
  qmresume: 1_000,
  qmclone: 10_000,
  qmsnapshot: 3_000,
  qmdestroy: 2_000,
  hastart: 1_000,
  hastop: 1_000,
  vzstart: 2_000,
  vzstop: 1_000,
  vzshutdown: 4_000,
  vzreboot: 5_000,
  vzclone: 8_000,
  vzsnapshot: 2_000,
  vzdestroy: 2_000,
  qmigrate: 8_000,
  vzmigrate: 6_000,
  hamigrate: 1_000,
  qmrollback: 3_000,
  vzrollback: 3_000,
  qmdelsnapshot: 2_000,
  vzdelsnapshot: 2_000,
  vzdump: 5_000,
  qmconfig: 1_000,
  resize: 2_000,
  reloadnetworkall: 3_000,
};

/** What a worker can do while it runs. */
export interface TaskContext {
  readonly task: SimTask;
  log(line: string): void;
  /** Takes a guest's config file lock (a container's with type lxc); released automatically when the task ends. */
  flock(vmid: number, mode: FlockMode, type?: 'qemu' | 'lxc'): Promise<void>;
  /** Releases the flocks taken so far (PVE workers that only lock while preparing). */
  unlockAll(): void;
  /**
   * Spends the task's duration (configured, scaled by slow-task faults). Throws the injected
   * failure, if one was armed for this task, so the effects after it never happen.
   */
  work(): Promise<void>;
}

export interface StartTaskOptions {
  node: string;
  type: TaskType;
  /** The task's object id (the VMID). */
  vmid: number;
  /** A task id other than the VMID (vzdump of several guests: empty). */
  id?: string | undefined;
  user: string;
  /** Operation name for the oplog (clone, start, ...). */
  op: string;
  detail?: Record<string, unknown> | undefined;
  /** Locks taken before the worker was forked (clone), released when it ends. */
  holds?: Release[] | undefined;
  run(ctx: TaskContext): Promise<void>;
  /** Cleanup when the worker fails (e.g. drop a clone's reserved VMID). */
  onError?: ((message: string) => void) | undefined;
}

export interface TaskEngineOptions {
  state: SimState;
  clock: Clock;
  faults: SimFaults;
  flocks: FlockTable;
  oplog: OpLogEntry[];
  durations: Partial<Record<string, number>>;
  lockWaitMs: number;
  signal: AbortSignal;
  /** Called when a task starts and when it ends (the state may have changed). */
  onChange?: (() => void) | undefined;
}

/** The first worker pid of a simulator with no tasks yet. */
const FIRST_PID = 0x2a000;

export class TaskEngine {
  private nextPid: number;
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly o: TaskEngineOptions) {
    // A state restored with tasks in it: new workers get pids after theirs (UPIDs stay unique).
    let last = FIRST_PID - 1;
    for (const task of o.state.tasks.values()) last = Math.max(last, task.pid);
    this.nextPid = last + 1;
  }

  /** How long a worker (or PVE's lock_config in an API handler) waits for a config file lock. */
  get lockWaitMs(): number {
    return this.o.lockWaitMs;
  }

  durationOf(type: string): number {
    const base = this.o.durations[type] ?? DEFAULT_TASK_DURATIONS[type as TaskType] ?? 1_000;
    return base * this.o.faults.multiplierFor(type);
  }

  /** Starts a worker and returns its task (status running) at once. */
  start(opts: StartTaskOptions): SimTask {
    const { state, clock, faults, oplog } = this.o;
    const now = clock.now();
    const node = state.nodes.get(opts.node);
    const pid = this.nextPid++;
    const pstart = node ? Math.max(0, Math.floor((now - node.bootedAt) / 10)) : 0;
    const starttime = Math.floor(now / 1000);
    const upid = encodeUpid({
      node: opts.node,
      pid,
      pstart,
      starttime,
      type: opts.type,
      id: opts.id ?? String(opts.vmid),
      user: opts.user,
    });
    const task: SimTask = {
      upid,
      node: opts.node,
      pid,
      pstart,
      starttime,
      type: opts.type,
      id: opts.id ?? String(opts.vmid),
      user: opts.user,
      status: 'running',
      log: [],
    };
    state.tasks.set(upid, task);
    state.tasksByNode.get(opts.node)?.push(task);
    const agent = requestScope.getStore()?.agent;
    const entry = (at: number, result: string): OpLogEntry => {
      const e: OpLogEntry = { at, op: opts.op, node: opts.node, vmid: opts.vmid, upid, result, user: opts.user };
      if (opts.detail) e.detail = opts.detail;
      if (agent) e.agent = agent;
      return e;
    };
    oplog.push(entry(now, 'started'));
    this.o.onChange?.();

    const failure = faults.takeTaskFailure(opts.type);
    const held: Release[] = [...(opts.holds ?? [])];
    const unlockAll = () => {
      for (const r of held.splice(0)) r();
    };
    const ctx: TaskContext = {
      task,
      log: (line) => task.log.push(line),
      flock: async (vmid, mode, type) => {
        held.push(await this.o.flocks.acquire(vmid, mode, this.o.lockWaitMs, type));
      },
      unlockAll,
      work: async () => {
        await clock.sleep(this.durationOf(opts.type), this.o.signal);
        if (failure !== undefined) throw new TaskError(failure);
      },
    };

    // The worker runs on after the call that forked it has been answered: it is not part of that call.
    const done = requestScope.exit(async () => {
      let exitstatus = 'OK';
      try {
        await opts.run(ctx);
      } catch (err) {
        exitstatus = err instanceof Error ? err.message : String(err);
        if (this.o.signal.aborted) exitstatus = 'interrupted by signal';
        try {
          opts.onError?.(exitstatus);
        } catch {
          // cleanup is best effort, like PVE's
        }
      } finally {
        unlockAll();
      }
      task.status = 'stopped';
      task.exitstatus = exitstatus;
      task.endtime = Math.floor(clock.now() / 1000);
      task.log.push(exitstatus === 'OK' ? 'TASK OK' : `TASK ERROR: ${exitstatus}`);
      oplog.push(entry(clock.now(), exitstatus));
      this.o.onChange?.();
    });
    this.running.add(done);
    void done.finally(() => this.running.delete(done));
    return task;
  }

  /** An operation that changes the platform without a task (a synchronous API call): logged as accepted and done. */
  record(entry: Omit<OpLogEntry, 'at' | 'result'>): void {
    const at = this.o.clock.now();
    const agent = requestScope.getStore()?.agent;
    const e = agent ? { ...entry, agent } : entry;
    this.o.oplog.push({ ...e, at, result: 'started' }, { ...e, at, result: 'OK' });
    this.o.onChange?.();
  }

  /** Work that follows a task without being one (the HA manager acting on a request): idle() waits for it. */
  track(work: Promise<unknown>): void {
    const p = work.then(
      () => undefined,
      () => undefined,
    );
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  /** Aborted when the simulator stops. */
  get signal(): AbortSignal {
    return this.o.signal;
  }

  /** Workers still running. */
  get active(): number {
    return this.running.size;
  }

  /** Resolves when every worker started so far has ended. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}
