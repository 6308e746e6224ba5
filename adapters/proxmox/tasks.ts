// Tasks: the UPID a write returns, a task's status, a node's task list, and waiting for a task to end.
import type { Clock } from '../clock';
import type { Log } from '../log';
import {
  MalformedAnswerError,
  PlatformTimeoutError,
  PlatformUnavailableError,
  PveApiError,
  TaskFailedError,
} from '../platform/errors';
import type { TaskRef, TaskStatus, WaitOptions } from '../platform/types';
import { parseUpid } from './upid';
import { FieldReader, isRecord } from './wire';

/** The answer of a task-starting call: a well-formed UPID. */
export function readTaskRef(cluster: string, path: string, data: unknown): TaskRef {
  const parts = parseUpid(data);
  if (!parts) {
    throw new MalformedAnswerError(
      `${cluster}: ${path} answered ${JSON.stringify(data)?.slice(0, 120)} instead of a task UPID`,
      cluster,
      path,
    );
  }
  return { upid: parts.upid, node: parts.node };
}

/**
 * Who issued a task, as `user@realm` or `user@realm!token`. PVE lists a finished API-token task with `user` and
 * `tokenid` apart (a running one keeps them together); the UPID always names the full id.
 */
function userOf(entry: Record<string, unknown>, fromUpid: string): string {
  if (typeof entry.user !== 'string' || entry.user === '') return fromUpid;
  return typeof entry.tokenid === 'string' && entry.tokenid !== '' && !entry.user.includes('!')
    ? `${entry.user}!${entry.tokenid}`
    : entry.user;
}

/** GET /nodes/{node}/tasks/{upid}/status → TaskStatus (missing decoded fields are taken from the UPID). */
export function readTaskStatus(cluster: string, task: TaskRef, path: string, data: unknown): TaskStatus {
  const parts = parseUpid(task.upid)!;
  const malformed = (why: string) => new MalformedAnswerError(`${cluster}: ${path}: ${why}`, cluster, path);
  if (!isRecord(data)) throw malformed('answer is not an object');
  const r = new FieldReader(data, path);
  const status = r.string('status');
  if (status !== undefined && status !== 'running' && status !== 'stopped') {
    throw malformed(`status ${JSON.stringify(status)} is neither running nor stopped`);
  }
  if (r.has('upid') && data.upid !== task.upid) throw malformed(`answered for another task (${String(data.upid)})`);
  const exitstatus = r.optString('exitstatus');
  const type = r.has('type') ? r.string('type') : parts.type;
  const starttime = r.has('starttime') ? r.int('starttime') : parts.starttime;
  const endtime = r.optInt('endtime');
  const id = data.id === undefined || data.id === null ? parts.id : String(data.id);
  if (!r.ok || status === undefined || type === undefined || starttime === undefined) {
    throw malformed(r.problems.join('; '));
  }
  return {
    upid: task.upid,
    node: task.node,
    type,
    id: id === '' ? undefined : id,
    user: userOf(data, parts.user),
    status,
    exitstatus: status === 'stopped' ? exitstatus : undefined,
    starttime,
    endtime,
  };
}

/**
 * One entry of GET /nodes/{node}/tasks. Finished tasks carry `endtime` and `status` (their exit status);
 * running ones carry neither (or status 'RUNNING'). Undefined for an entry that cannot be read.
 */
export function readTaskListEntry(entry: unknown): TaskStatus | undefined {
  if (!isRecord(entry)) return undefined;
  const parts = parseUpid(entry.upid);
  if (!parts) return undefined;
  const r = new FieldReader(entry, 'task');
  const endtime = r.optInt('endtime');
  const text = r.optString('status');
  const starttime = r.has('starttime') ? r.int('starttime') : parts.starttime;
  if (!r.ok || starttime === undefined) return undefined;
  const running = endtime === undefined && (text === undefined || /^running$/i.test(text));
  return {
    upid: parts.upid,
    node: parts.node,
    type: typeof entry.type === 'string' && entry.type ? entry.type : parts.type,
    id: parts.id === '' ? undefined : parts.id,
    user: userOf(entry, parts.user),
    status: running ? 'running' : 'stopped',
    exitstatus: running ? undefined : (text ?? 'unknown'),
    starttime,
    endtime,
  };
}

/** Errors a poll can shrug off a few times in a row (the task keeps running meanwhile). */
function transient(err: unknown): boolean {
  return (
    err instanceof PlatformTimeoutError ||
    err instanceof PlatformUnavailableError ||
    (err instanceof PveApiError && (err.nodeUnreachable || err.status >= 500))
  );
}

/** The longest pause between polls while the task's node cannot be read (the pause doubles from pollMs). */
export const MAX_POLL_BACKOFF_MS = 10_000;

export interface WaitDeps {
  cluster: string;
  clock: Clock;
  log: Log;
  pollMs: number;
  status: (task: TaskRef, signal?: AbortSignal) => Promise<TaskStatus>;
  /** The last lines of a task's log (to explain an exitstatus that says only "migration aborted"). */
  logTail?: ((task: TaskRef) => Promise<string[]>) | undefined;
}

/**
 * Exit statuses that do not say why: PVE put the reason in the task log (QemuMigrate/LXC migrate: "ERROR: migration
 * aborted (duration ...): <reason>"; "check log").
 */
const LOG_EXPLAINS = /^migration aborted$|check log/;

/** The task log's last ERROR line, when the exit status needs one; nothing when the log cannot be read. */
async function reasonFromLog(task: TaskRef, exit: string, deps: WaitDeps): Promise<string | undefined> {
  if (!deps.logTail || !LOG_EXPLAINS.test(exit)) return undefined;
  try {
    const lines = await deps.logTail(task);
    return [...lines].reverse().find((l) => /\bERROR\b|can't|unable/i.test(l) && l.trim() !== exit);
  } catch {
    return undefined;
  }
}

/** Polls until the task stops; resolves only on exitstatus OK. */
export async function waitForTask(task: TaskRef, options: WaitOptions, deps: WaitDeps): Promise<TaskStatus> {
  const { clock, log, cluster } = deps;
  const { signal, onProgress, timeoutMs } = options;
  const deadline = clock.now() + timeoutMs;
  // A node that cannot be read for a while (596, 5xx, a timeout) says nothing about the task, which runs on: it is
  // polled again, less often, until the task's time is up; only then does its last error end the wait.
  let failures = 0;
  let lastError: unknown;
  for (;;) {
    if (signal?.aborted) throw signal.reason;
    let current: TaskStatus | undefined;
    try {
      current = await deps.status(task, signal);
      failures = 0;
      lastError = undefined;
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (!transient(err)) throw err;
      failures++;
      lastError = err;
      log.warn(`${cluster}: polling ${task.upid} failed (${(err as Error).message}); will poll again`);
    }
    if (current) {
      try {
        onProgress?.(current);
      } catch (err) {
        log.error(`${cluster}: onProgress for ${task.upid} threw`, err);
      }
      if (current.status === 'stopped') {
        if (current.exitstatus === 'OK') return current;
        const exit = current.exitstatus ?? 'unknown';
        const reason = await reasonFromLog(task, exit, deps);
        const detail = reason ? ` (${reason.trim()})` : '';
        throw new TaskFailedError(`${cluster}: task ${task.upid} failed: ${exit}${detail}`, cluster, task.upid, exit);
      }
    }
    const remaining = deadline - clock.now();
    if (remaining <= 0) {
      if (lastError) throw lastError;
      throw new PlatformTimeoutError(`${cluster}: task ${task.upid} still running after ${timeoutMs} ms`, cluster);
    }
    const pause = failures > 0 ? Math.min(MAX_POLL_BACKOFF_MS, deps.pollMs * 2 ** (failures - 1)) : deps.pollMs;
    await clock.sleep(Math.min(pause, remaining), signal);
  }
}
