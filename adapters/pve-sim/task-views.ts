// GET /nodes/{node}/tasks..., /cluster/tasks: task views, shaped like PVE's (typed with proxmox-api's schema types).
import type { SimTask } from './types';
import type { TaskListWire, TaskLogWire, TaskStatusWire } from './wire-types';

/** GET /nodes/{node}/tasks/{upid}/status: an API token's task names `user` and `tokenid` apart, as PVE does. */
export function taskStatus(t: SimTask): TaskStatusWire {
  const e: TaskStatusWire = {
    upid: t.upid,
    node: t.node,
    pid: t.pid,
    pstart: t.pstart,
    starttime: t.starttime,
    type: t.type,
    id: t.id,
    ...splitTokenUser(t.user),
    status: t.status,
  };
  if (t.status === 'stopped') e.exitstatus = t.exitstatus;
  return e;
}

/** `root@pam!ops` → `{ user: 'root@pam', tokenid: 'ops' }` (PVE::AccessControl::split_tokenid); a user stays whole. */
function splitTokenUser(user: string): { user: string; tokenid?: string } {
  const bang = user.indexOf('!');
  return bang < 0 ? { user } : { user: user.slice(0, bang), tokenid: user.slice(bang + 1) };
}

/**
 * One entry of a node's task list. As in PVE, a finished task read from the task index names an API token's task
 * by `user` and `tokenid` apart, while a running task (from the active list) keeps `user@realm!token` whole.
 */
function taskListEntry(t: SimTask): TaskListWire {
  const e: TaskListWire = {
    upid: t.upid,
    node: t.node,
    pid: t.pid,
    pstart: t.pstart,
    starttime: t.starttime,
    type: t.type,
    id: t.id,
    user: t.user,
  };
  if (t.status === 'stopped') {
    Object.assign(e, splitTokenUser(t.user));
    e.endtime = t.endtime;
    e.status = t.exitstatus;
  } else {
    e.status = 'RUNNING';
  }
  return e;
}

/** Tasks per node that GET /cluster/tasks lists (the node's recent tasks it shares with the cluster). */
export const CLUSTER_TASKS_PER_NODE = 50;

/**
 * GET /cluster/tasks: the recent tasks of every node, newest first; an API token's task names `user` and `tokenid`
 * apart (as PVE's Cluster.pm does for every entry).
 */
export function clusterTasks(tasksByNode: ReadonlyMap<string, readonly SimTask[]>): TaskListWire[] {
  const recent: SimTask[] = [];
  for (const tasks of tasksByNode.values()) recent.push(...tasks.slice(-CLUSTER_TASKS_PER_NODE));
  recent.sort((a, b) => b.starttime - a.starttime || b.pid - a.pid);
  return recent.map((t) => ({ ...taskListEntry(t), ...splitTokenUser(t.user) }));
}

export interface TaskFilter {
  vmid?: number | undefined;
  typefilter?: string | undefined;
  userfilter?: string | undefined;
  since?: number | undefined;
  until?: number | undefined;
  errors?: boolean | undefined;
  statusfilter?: string | undefined;
  /** archive (default: finished tasks), active (running), all */
  source?: string | undefined;
  start?: number | undefined;
  limit?: number | undefined;
}

function statusType(t: SimTask): string {
  if (t.status === 'running') return 'running';
  if (t.exitstatus === 'OK') return 'ok';
  if (t.exitstatus?.startsWith('WARNINGS')) return 'warning';
  return 'error';
}

/** GET /nodes/{node}/tasks: newest first, filtered like PVE, with the total before paging. */
export function taskList(tasks: SimTask[], f: TaskFilter): { data: TaskListWire[]; total: number } {
  const source = f.source ?? 'archive';
  const statuses = f.statusfilter ? new Set(f.statusfilter.split(/[,;\s]+/).map((s) => s.toLowerCase())) : undefined;
  const userfilter = f.userfilter?.toLowerCase();
  const matched: SimTask[] = [];
  for (let i = tasks.length - 1; i >= 0; i--) {
    const t = tasks[i]!;
    if (source === 'archive' && t.status === 'running') continue;
    if (source === 'active' && t.status !== 'running') continue;
    if (f.vmid !== undefined && t.id !== String(f.vmid)) continue;
    if (f.typefilter && t.type !== f.typefilter) continue;
    if (userfilter && !t.user.toLowerCase().includes(userfilter)) continue;
    if (f.since !== undefined && t.starttime < f.since) continue;
    if (f.until !== undefined && t.starttime > f.until) continue;
    if (f.errors && t.exitstatus === 'OK') continue;
    if (statuses && !statuses.has(statusType(t))) continue;
    matched.push(t);
  }
  matched.sort((a, b) => b.starttime - a.starttime);
  const start = f.start ?? 0;
  const limit = f.limit || 50;
  return { data: matched.slice(start, start + limit).map(taskListEntry), total: matched.length };
}

export function taskLog(t: SimTask, start = 0, limit = 50): { data: TaskLogWire[]; total: number } {
  const lines = t.log.length > 0 ? t.log : ['no content'];
  const data = lines.slice(start, start + (limit || 50)).map((text, i) => ({ n: start + i + 1, t: text }));
  return { data, total: lines.length };
}
