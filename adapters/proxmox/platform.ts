// createProxmoxPlatform: the Platform interface on one Proxmox VE cluster, through proxmox-api.
import type { Clock } from '../clock';
import type { Log } from '../log';
import { MalformedAnswerError, PlatformUnavailableError } from '../platform/errors';
import type { BackupListing, Inventory, Platform, TaskRef, TaskStatus, WaitOptions } from '../platform/types';
import { createAgentOps } from './agent';
import { readBackups } from './backups';
import { PveClient } from './client';
import { type ProxmoxClusterConfig, resolveConfig } from './config';
import { createGuestConfigOps } from './guest-config';
import { createGuestOps } from './guest-ops';
import { checkNode, checkTask, checkVmid } from './guest-paths';
import { ResourceReader, type SectionResult } from './inventory';
import { createPoolOps } from './pools';
import { createSdnOps } from './sdn';
import { readTaskListEntry, readTaskStatus, waitForTask } from './tasks';
import { MAX_VMID } from './wire';

export interface ProxmoxDeps {
  clock: Clock;
  log: Log;
  /** Asked right before every write to the cluster (ClientDeps.fence): several cores' lease check. */
  fence?: ((cluster: string) => void) | undefined;
  /** The User-Agent of every request (ClientDeps.userAgent). */
  userAgent?: string | undefined;
}

/** A Platform that also owns network resources (its connection pool). */
export interface ProxmoxPlatform extends Platform {
  /** Closes this cluster's connections. */
  close(): Promise<void>;
}

/** How far back recentTasks looks in one page. */
const RECENT_TASKS_LIMIT = 500;

export function createProxmoxPlatform(config: ProxmoxClusterConfig, deps: ProxmoxDeps): ProxmoxPlatform {
  const resolved = resolveConfig(config);
  const cluster = resolved.name;
  const { clock, log } = deps;
  const client = new PveClient(resolved, deps);

  /** The last lines of a task's log (GET /nodes/{node}/tasks/{upid}/log). */
  const taskLogTail = async (task: TaskRef): Promise<string[]> => {
    const path = `/nodes/${task.node}/tasks/${task.upid}/log`;
    const data = await client.call(`GET ${path}`, (api) =>
      api.nodes.$(task.node).tasks.$(task.upid).log.$get({ start: 0, limit: 500 }),
    );
    if (!Array.isArray(data)) return [];
    return data.slice(-20).map((entry) => String((entry as { t?: unknown })?.t ?? ''));
  };

  const taskStatus = async (task: TaskRef, signal?: AbortSignal): Promise<TaskStatus> => {
    checkTask(task);
    const path = `/nodes/${task.node}/tasks/${task.upid}/status`;
    const data = await client.call(`GET ${path}`, (api) => api.nodes.$(task.node).tasks.$(task.upid).status.$get(), {
      signal,
      retryLocks: false,
    });
    return readTaskStatus(cluster, task, path, data);
  };

  return {
    cluster,

    async inventory(): Promise<Inventory> {
      const [resources, status] = await Promise.allSettled([
        // The list is read in slices as the body arrives (a ResourceReader per answer); only a whole answer counts.
        client.call('GET /cluster/resources', (api) => api.cluster.resources.$get(), {
          retryLocks: false,
          readList: () => new ResourceReader(cluster, clock),
        }),
        client.call('GET /cluster/status', (api) => api.cluster.status.$get(), { retryLocks: false }),
      ]);
      if (resources.status === 'rejected') {
        const cause = resources.reason as unknown;
        if (cause instanceof PlatformUnavailableError) throw cause;
        const why = cause instanceof Error ? cause.message : String(cause);
        throw new PlatformUnavailableError(`${cluster}: cannot read /cluster/resources: ${why}`, cluster, { cause });
      }
      const answer = resources.value;
      if (!(answer instanceof ResourceReader) && !Array.isArray(answer)) {
        throw new PlatformUnavailableError(
          `${cluster}: /cluster/resources answered ${JSON.stringify(answer)?.slice(0, 80)} instead of a list`,
          cluster,
          { cause: new MalformedAnswerError('not a list', cluster, '/cluster/resources') },
        );
      }
      const reader = Array.isArray(answer) ? await new ResourceReader(cluster, clock).addAll(answer) : answer;
      const statusSection: SectionResult =
        status.status === 'fulfilled' ? { ok: true, data: status.value } : { ok: false, error: status.reason };
      const { inventory, problems } = reader.finish({
        cluster,
        fetchedAt: clock.now(),
        status: statusSection,
      });
      if (problems.length > 0) {
        const more = problems.length > 5 ? ` (+${problems.length - 5} more)` : '';
        log.warn(`${cluster}: inventory incomplete: ${problems.slice(0, 5).join('; ')}${more}`);
      }
      return inventory;
    },

    ...createGuestOps({ cluster, client, log }),
    ...createGuestConfigOps({ cluster, client, log }),
    ...createAgentOps({ cluster, client, log }),
    ...createSdnOps({ cluster, client, log }),
    ...createPoolOps({ cluster, client, log }),

    async listBackups(): Promise<BackupListing> {
      return readBackups({ cluster, client, log });
    },

    taskStatus: (task) => taskStatus(task),

    async waitTask(task: TaskRef, options: WaitOptions): Promise<TaskStatus> {
      checkTask(task);
      return waitForTask(task, options, {
        cluster,
        clock,
        log,
        pollMs: resolved.taskPollMs,
        status: taskStatus,
        logTail: (t) => taskLogTail(t),
      });
    },

    async recentTasks(node: string, vmid: number, since: number): Promise<TaskStatus[]> {
      checkNode(node);
      checkVmid(vmid);
      if (!Number.isInteger(since) || since < 0) throw new RangeError(`invalid since ${since} (epoch seconds)`);
      const path = `/nodes/${node}/tasks`;
      const data = await client.call(
        `GET ${path}?vmid=${vmid}&since=${since}`,
        (api) => api.nodes.$(node).tasks.$get({ vmid, since, source: 'all', limit: RECENT_TASKS_LIMIT }),
        { retryLocks: false },
      );
      if (!Array.isArray(data)) {
        throw new MalformedAnswerError(`${cluster}: GET ${path} answered something other than a list`, cluster, path);
      }
      const tasks: TaskStatus[] = [];
      let skipped = 0;
      for (const entry of data) {
        const t = readTaskListEntry(entry);
        if (!t) skipped++;
        // PVE filters by vmid and since itself; checked again so a lax server can't hand over someone else's task.
        else if (t.id === String(vmid) && t.starttime >= since) tasks.push(t);
      }
      if (skipped > 0) log.warn(`${cluster}: GET ${path}: skipped ${skipped} unreadable task entries`);
      return tasks;
    },

    async nextId(): Promise<number> {
      const data = await client.call('GET /cluster/nextid', (api) => api.cluster.nextid.$get(), { retryLocks: false });
      const n = typeof data === 'string' && /^\d+$/.test(data) ? Number(data) : data;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 100 || n > MAX_VMID) {
        throw new MalformedAnswerError(
          `${cluster}: GET /cluster/nextid answered ${JSON.stringify(data)} instead of a VMID`,
          cluster,
          '/cluster/nextid',
        );
      }
      return n;
    },

    close: () => client.close(),
  };
}
