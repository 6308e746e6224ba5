// createProxmoxPlatform: the Platform interface on one Proxmox VE cluster, through proxmox-api.
import type { VmPowerStatus } from '../../machines/types';
import type { Clock } from '../clock';
import type { Log } from '../log';
import { MalformedAnswerError, PlatformUnavailableError } from '../platform/errors';
import type {
  CloneOptions,
  Inventory,
  Platform,
  PowerAction,
  SnapshotInfo,
  TaskRef,
  TaskStatus,
  WaitOptions,
} from '../platform/types';
import { PveClient } from './client';
import { type ProxmoxClusterConfig, resolveConfig } from './config';
import { buildInventory, type SectionResult } from './inventory';
import { readTaskListEntry, readTaskRef, readTaskStatus, waitForTask } from './tasks';
import { parseUpid } from './upid';
import { MAX_VMID, NODE_NAME_RE } from './wire';

export interface ProxmoxDeps {
  clock: Clock;
  log: Log;
}

/** A Platform that also owns network resources (its connection pool). */
export interface ProxmoxPlatform extends Platform {
  /** Closes this cluster's connections. */
  close(): Promise<void>;
}

const POWER_ACTIONS: ReadonlySet<PowerAction> = new Set(['start', 'stop', 'shutdown', 'reboot', 'suspend', 'resume']);
/** pve-configid, as PVE checks snapshot names. */
const SNAPNAME_RE = /^[a-zA-Z][a-zA-Z0-9_-]{1,39}$/;
/** dns-name, as PVE checks VM names. */
const VM_NAME_RE = /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/;
/** How far back recentTasks looks in one page. */
const RECENT_TASKS_LIMIT = 500;

function checkNode(node: string): string {
  if (typeof node !== 'string' || !NODE_NAME_RE.test(node))
    throw new RangeError(`invalid node name ${JSON.stringify(node)}`);
  return node;
}

function checkVmid(vmid: number, what = 'vmid'): number {
  if (!Number.isInteger(vmid) || vmid < 1 || vmid > MAX_VMID) throw new RangeError(`invalid ${what} ${vmid}`);
  return vmid;
}

function checkTask(task: TaskRef): TaskRef {
  const parts = parseUpid(task?.upid);
  if (!parts) throw new RangeError(`invalid UPID ${JSON.stringify(task?.upid)}`);
  checkNode(task.node);
  return task;
}

/** status/current's `status` and `qmpstatus` as a power state: a running QEMU may be paused or suspended. */
function readPowerStatus(status: string, qmpstatus: unknown): VmPowerStatus {
  if (status === 'stopped') return 'stopped';
  if (status !== 'running') return 'unknown';
  if (qmpstatus === undefined || qmpstatus === 'running') return 'running';
  return qmpstatus === 'paused' || qmpstatus === 'suspended' ? 'paused' : 'unknown';
}

/** PVE's snapshot list without its `current` pseudo-entry ("You are here!"); an entry without a name is malformed. */
function readSnapshotList(cluster: string, path: string, data: unknown[]): SnapshotInfo[] {
  const snapshots: SnapshotInfo[] = [];
  for (const entry of data) {
    const e = (entry ?? {}) as Record<string, unknown>;
    if (typeof e.name !== 'string' || e.name === '') {
      throw new MalformedAnswerError(`${cluster}: GET ${path} listed a snapshot without a name`, cluster, path);
    }
    if (e.name === 'current') continue;
    const info: SnapshotInfo = { name: e.name };
    if (typeof e.description === 'string') info.description = e.description;
    if (typeof e.snaptime === 'number') info.snaptime = e.snaptime;
    if (typeof e.parent === 'string') info.parent = e.parent;
    snapshots.push(info);
  }
  return snapshots;
}

export function createProxmoxPlatform(config: ProxmoxClusterConfig, deps: ProxmoxDeps): ProxmoxPlatform {
  const resolved = resolveConfig(config);
  const cluster = resolved.name;
  const { clock, log } = deps;
  const client = new PveClient(resolved, deps);

  const startTask = async (label: string, path: string, fn: Parameters<PveClient['call']>[1]): Promise<TaskRef> => {
    const ref = readTaskRef(cluster, path, await client.call(label, fn));
    log.info(`${cluster}: ${label} → ${ref.upid}`);
    return ref;
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
        client.call('GET /cluster/resources', (api) => api.cluster.resources.$get(), { retryLocks: false }),
        client.call('GET /cluster/status', (api) => api.cluster.status.$get(), { retryLocks: false }),
      ]);
      if (resources.status === 'rejected') {
        const cause = resources.reason as unknown;
        if (cause instanceof PlatformUnavailableError) throw cause;
        const why = cause instanceof Error ? cause.message : String(cause);
        throw new PlatformUnavailableError(`${cluster}: cannot read /cluster/resources: ${why}`, cluster, { cause });
      }
      if (!Array.isArray(resources.value)) {
        throw new PlatformUnavailableError(
          `${cluster}: /cluster/resources answered ${JSON.stringify(resources.value)?.slice(0, 80)} instead of a list`,
          cluster,
          { cause: new MalformedAnswerError('not a list', cluster, '/cluster/resources') },
        );
      }
      const statusSection: SectionResult =
        status.status === 'fulfilled' ? { ok: true, data: status.value } : { ok: false, error: status.reason };
      const { inventory, problems } = buildInventory({
        cluster,
        fetchedAt: clock.now(),
        resources: resources.value,
        status: statusSection,
      });
      if (problems.length > 0) {
        const more = problems.length > 5 ? ` (+${problems.length - 5} more)` : '';
        log.warn(`${cluster}: inventory incomplete: ${problems.slice(0, 5).join('; ')}${more}`);
      }
      return inventory;
    },

    async clone(node: string, template: number, newid: number, options: CloneOptions): Promise<TaskRef> {
      checkNode(node);
      checkVmid(template, 'template');
      checkVmid(newid, 'newid');
      if (!VM_NAME_RE.test(options.name)) throw new RangeError(`invalid VM name ${JSON.stringify(options.name)}`);
      if (options.target !== undefined) checkNode(options.target);
      const path = `/nodes/${node}/qemu/${template}/clone`;
      return startTask(`POST ${path} newid=${newid}`, path, (api) =>
        api.nodes
          .$(node)
          .qemu.$(template)
          .clone.$post({ newid, name: options.name, full: options.full, target: options.target }),
      );
    },

    async power(node: string, vmid: number, action: PowerAction): Promise<TaskRef> {
      checkNode(node);
      checkVmid(vmid);
      if (!POWER_ACTIONS.has(action)) throw new RangeError(`invalid power action ${JSON.stringify(action)}`);
      const path = `/nodes/${node}/qemu/${vmid}/status/${action}`;
      return startTask(`POST ${path}`, path, (api) => {
        const status = api.nodes.$(node).qemu.$(vmid).status;
        switch (action) {
          case 'start':
            return status.start.$post();
          case 'stop':
            return status.stop.$post();
          case 'shutdown':
            return status.shutdown.$post();
          case 'reboot':
            return status.reboot.$post();
          case 'suspend':
            return status.suspend.$post();
          case 'resume':
            return status.resume.$post();
        }
      });
    },

    async snapshot(node: string, vmid: number, snapname: string, description?: string): Promise<TaskRef> {
      checkNode(node);
      checkVmid(vmid);
      if (!SNAPNAME_RE.test(snapname)) throw new RangeError(`invalid snapshot name ${JSON.stringify(snapname)}`);
      const path = `/nodes/${node}/qemu/${vmid}/snapshot`;
      return startTask(`POST ${path} snapname=${snapname}`, path, (api) =>
        api.nodes.$(node).qemu.$(vmid).snapshot.$post({ snapname, description }),
      );
    },

    async listSnapshots(node: string, vmid: number): Promise<SnapshotInfo[]> {
      checkNode(node);
      checkVmid(vmid);
      const path = `/nodes/${node}/qemu/${vmid}/snapshot`;
      const data = await client.call(`GET ${path}`, (api) => api.nodes.$(node).qemu.$(vmid).snapshot.$get(), {
        retryLocks: false,
      });
      if (!Array.isArray(data)) {
        throw new MalformedAnswerError(`${cluster}: GET ${path} answered something other than a list`, cluster, path);
      }
      return readSnapshotList(cluster, path, data);
    },

    async vmStatus(node: string, vmid: number): Promise<VmPowerStatus> {
      checkNode(node);
      checkVmid(vmid);
      const path = `/nodes/${node}/qemu/${vmid}/status/current`;
      const data = await client.call(`GET ${path}`, (api) => api.nodes.$(node).qemu.$(vmid).status.current.$get(), {
        retryLocks: false,
      });
      const { status, qmpstatus } = (data ?? {}) as { status?: unknown; qmpstatus?: unknown };
      if (typeof status !== 'string') {
        throw new MalformedAnswerError(`${cluster}: GET ${path} answered without a status`, cluster, path);
      }
      return readPowerStatus(status, qmpstatus);
    },

    async destroy(node: string, vmid: number): Promise<TaskRef> {
      checkNode(node);
      checkVmid(vmid);
      const path = `/nodes/${node}/qemu/${vmid}`;
      return startTask(`DELETE ${path}`, path, (api) =>
        api.nodes.$(node).qemu.$(vmid).$delete({ purge: true, 'destroy-unreferenced-disks': true }),
      );
    },

    taskStatus: (task) => taskStatus(task),

    async waitTask(task: TaskRef, options: WaitOptions): Promise<TaskStatus> {
      checkTask(task);
      return waitForTask(task, options, { cluster, clock, log, pollMs: resolved.taskPollMs, status: taskStatus });
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
