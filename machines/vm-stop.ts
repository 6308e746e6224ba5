// Why a running VM stopped, told from the platform's task log (PVE's /nodes/{node}/tasks for the VM): the newest
// power task of the VM since its current run began decides. A stop task (qmstop, qmshutdown, hastop, ...) is
// someone's decision — an operator's, or Overseer's own when a request of Overseer recorded that task id; who holds
// the API token does not matter, only whose request the task is. No stop task (or a start after the last one) means
// the guest died. An HA-managed guest whose requested HA state is a stopped one follows HA. Pure: no I/O, no clock.

/** Task types that stop a guest when they run (QEMU and LXC; HA's request; a hibernation; a rollback). */
export const STOP_TASK_TYPES: ReadonlySet<string> = new Set([
  'qmstop',
  'qmshutdown',
  'hastop',
  'qmsuspend',
  'qmrollback',
  'vzstop',
  'vzshutdown',
  'vzsuspend',
  'vzrollback',
]);

/** Task types that (re)start a guest: a stop before one of these is not why the guest is down now. */
export const START_TASK_TYPES: ReadonlySet<string> = new Set([
  'qmstart',
  'qmreboot',
  'qmresume',
  'hastart',
  'vzstart',
  'vzreboot',
  'vzresume',
]);

/** HA service states that mean "HA wants this guest down" (ha-manager's request_stop, stopped, disabled). */
export const HA_STOPPED_STATES: ReadonlySet<string> = new Set(['stopped', 'request_stop', 'disabled']);

/** How far the platform's clock may be off ours when a task's start is compared with when a run began. */
export const TASK_CLOCK_SKEW_S = 60;

/** A task as the task log lists it. */
export interface StopTaskEntry {
  upid: string;
  node: string;
  type: string;
  /** user@realm or user@realm!token, who issued it */
  user?: string | undefined;
  /** epoch seconds */
  starttime: number;
  status: 'running' | 'stopped';
  exitstatus?: string | undefined;
}

/** What stopped a running VM. */
export type VmStopCause =
  /** A task stopped it: `requestId` is set when Overseer's own request issued that task. */
  | {
      by: 'task';
      upid: string;
      type: string;
      user: string;
      /** epoch ms the task started */
      at: number;
      requestId?: string | undefined;
    }
  /** An HA-managed guest whose requested HA state is a stopped one: HA decides. */
  | { by: 'ha'; haState: string }
  /** No task: the guest died (its QEMU process ended, or it powered itself off). */
  | { by: 'none' }
  /** The task log could not be read: nothing can be told yet. */
  | { by: 'unknown'; error: string };

/** The epoch second from which tasks matter: when the run the VM was last seen in began, less the clock skew. */
export function runStartedAt(lastSeenMs: number, uptimeSeconds: number): number {
  return Math.max(0, Math.floor(lastSeenMs / 1000) - Math.max(0, Math.floor(uptimeSeconds)) - TASK_CLOCK_SKEW_S);
}

const failed = (t: StopTaskEntry) => t.status === 'stopped' && t.exitstatus !== undefined && t.exitstatus !== 'OK';

export interface StopEvidence {
  /** The VM's tasks (any order). */
  tasks: readonly StopTaskEntry[];
  /** epoch seconds: tasks that started before are ignored (see runStartedAt). */
  since: number;
  haManaged: boolean;
  /** The guest's HA service state, when HA-managed. */
  haState?: string | undefined;
  /** The Overseer request that issued a task, if one did. */
  ownerOf: (upid: string) => string | undefined;
}

/**
 * Why the VM stopped. Every stop task counts, even one that ended with an error (a shutdown that timed out was
 * still someone's request to stop); a start that failed does not count (it started nothing). On equal start
 * seconds a stop is taken as the later one: the VM is down now.
 */
export function explainStop(e: StopEvidence): VmStopCause {
  let newest: StopTaskEntry | undefined;
  for (const t of e.tasks) {
    if (t.starttime < e.since) continue;
    const stop = STOP_TASK_TYPES.has(t.type);
    if (!stop && !(START_TASK_TYPES.has(t.type) && !failed(t))) continue;
    if (!newest || t.starttime > newest.starttime || (t.starttime === newest.starttime && stop)) newest = t;
  }
  if (newest && STOP_TASK_TYPES.has(newest.type)) {
    return {
      by: 'task',
      upid: newest.upid,
      type: newest.type,
      user: newest.user ?? 'unknown',
      at: newest.starttime * 1000,
      requestId: e.ownerOf(newest.upid),
    };
  }
  if (e.haManaged && e.haState && HA_STOPPED_STATES.has(e.haState)) return { by: 'ha', haState: e.haState };
  return { by: 'none' };
}
