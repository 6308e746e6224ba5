// The calls on one guest, QEMU VM or LXC container: clone, power, snapshots, status, destroy, migrate. Every
// argument is checked before anything is sent; booleans go out as 0/1.
import type { VmPowerStatus } from '../../machines/types';
import type { Log } from '../log';
import { MalformedAnswerError } from '../platform/errors';
import type {
  CloneOptions,
  DestroyOptions,
  GuestState,
  GuestType,
  MigrateOptions,
  Platform,
  PowerAction,
  SnapshotInfo,
  TaskRef,
} from '../platform/types';
import type { ApiFn, PveClient } from './client';
import { vmStatus } from './guest-entry';
import {
  checkGuestType,
  checkNewSnapname,
  checkNode,
  checkSnapname,
  checkVmid,
  DNS_NAME_RE,
  type GuestEndpoint,
  guestApi,
  guestPath,
  type PveParams,
  pveBool,
} from './guest-paths';
import { readTaskRef } from './tasks';

export interface GuestOpsDeps {
  cluster: string;
  client: PveClient;
  log: Log;
}

export type GuestOps = Pick<
  Platform,
  | 'clone'
  | 'power'
  | 'snapshot'
  | 'listSnapshots'
  | 'rollback'
  | 'deleteSnapshot'
  | 'vmStatus'
  | 'guestState'
  | 'destroy'
  | 'migrate'
>;

const POWER_ACTIONS: ReadonlySet<PowerAction> = new Set(['start', 'stop', 'shutdown', 'reboot', 'suspend', 'resume']);
/** Power actions a container has (suspend/resume are QEMU only). */
const LXC_POWER_ACTIONS: ReadonlySet<PowerAction> = new Set(['start', 'stop', 'shutdown', 'reboot']);

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

export function createGuestOps({ cluster, client, log }: GuestOpsDeps): GuestOps {
  /** A task-starting call: `method path` plus what to log (e.g. newid=130), answered by a UPID. */
  const startTask = async (method: string, path: string, call: ApiFn<unknown>, detail = ''): Promise<TaskRef> => {
    const label = `${method} ${path}${detail ? ` ${detail}` : ''}`;
    const ref = readTaskRef(cluster, path, await client.call(label, call));
    log.info(`${cluster}: ${label} → ${ref.upid}`);
    return ref;
  };

  /** Checks node, vmid and type, and gives the guest's path and endpoint. */
  const guest = (node: string, vmid: number, type: GuestType | undefined) => {
    checkNode(node);
    checkVmid(vmid);
    const t = checkGuestType(type);
    const path = guestPath(node, t, vmid);
    const on =
      <T>(fn: (g: GuestEndpoint) => Promise<T>): ApiFn<T> =>
      (api) =>
        fn(guestApi(api, node, t, vmid));
    return { type: t, path, on };
  };

  const readList = async (path: string, call: ApiFn<unknown>): Promise<unknown[]> => {
    const data = await client.call(`GET ${path}`, call, { retryLocks: false });
    if (!Array.isArray(data)) {
      throw new MalformedAnswerError(`${cluster}: GET ${path} answered something other than a list`, cluster, path);
    }
    return data;
  };

  /** GET .../status/current: the answer's `status` (a string, or the answer is malformed), `qmpstatus` and `lock`. */
  const statusCurrent = async (node: string, vmid: number, type: GuestType | undefined) => {
    const g = guest(node, vmid, type);
    const path = `${g.path}/status/current`;
    const data = await client.call(
      `GET ${path}`,
      g.on((e) => e.status.current.$get()),
      { retryLocks: false },
    );
    const { status, qmpstatus, lock } = (data ?? {}) as { status?: unknown; qmpstatus?: unknown; lock?: unknown };
    if (typeof status !== 'string') {
      throw new MalformedAnswerError(`${cluster}: GET ${path} answered without a status`, cluster, path);
    }
    return { status, qmpstatus, lock, path };
  };

  return {
    async clone(node: string, template: number, newid: number, options: CloneOptions): Promise<TaskRef> {
      const g = guest(node, template, options.type);
      checkVmid(newid, 'newid');
      const what = g.type === 'lxc' ? 'hostname' : 'VM name';
      if (typeof options.name !== 'string' || !DNS_NAME_RE.test(options.name)) {
        throw new RangeError(`invalid ${what} ${JSON.stringify(options.name)}`);
      }
      if (options.target !== undefined) checkNode(options.target, 'target node');
      const params: PveParams = {
        newid,
        // A container's clone takes `hostname`; a VM's takes `name`.
        [g.type === 'lxc' ? 'hostname' : 'name']: options.name,
        full: pveBool(options.full),
        target: options.target,
        pool: options.pool,
      };
      return startTask(
        'POST',
        `${g.path}/clone`,
        g.on((e) => e.clone.$post(params)),
        `newid=${newid}`,
      );
    },

    async power(node: string, vmid: number, action: PowerAction, type?: GuestType): Promise<TaskRef> {
      const g = guest(node, vmid, type);
      if (!POWER_ACTIONS.has(action)) throw new RangeError(`invalid power action ${JSON.stringify(action)}`);
      if (g.type === 'lxc' && !LXC_POWER_ACTIONS.has(action)) {
        throw new RangeError(`${action} is for QEMU VMs; container ${vmid} cannot be ${action}d`);
      }
      return startTask(
        'POST',
        `${g.path}/status/${action}`,
        g.on((e) => e.status[action].$post()),
      );
    },

    async snapshot(
      node: string,
      vmid: number,
      snapname: string,
      description?: string,
      type?: GuestType,
    ): Promise<TaskRef> {
      const g = guest(node, vmid, type);
      checkNewSnapname(snapname, g.type);
      if (description !== undefined && typeof description !== 'string') throw new RangeError('invalid description');
      const call = g.on((e) => e.snapshot.$post({ snapname, description }));
      return startTask('POST', `${g.path}/snapshot`, call, `snapname=${snapname}`);
    },

    async listSnapshots(node: string, vmid: number, type?: GuestType): Promise<SnapshotInfo[]> {
      const g = guest(node, vmid, type);
      const path = `${g.path}/snapshot`;
      return readSnapshotList(
        cluster,
        path,
        await readList(
          path,
          g.on((e) => e.snapshot.$get()),
        ),
      );
    },

    async rollback(node: string, vmid: number, snapname: string, type?: GuestType): Promise<TaskRef> {
      const g = guest(node, vmid, type);
      checkSnapname(snapname);
      const call = g.on((e) => e.snapshot.$(snapname).rollback.$post());
      return startTask('POST', `${g.path}/snapshot/${snapname}/rollback`, call);
    },

    async deleteSnapshot(node: string, vmid: number, snapname: string, type?: GuestType): Promise<TaskRef> {
      const g = guest(node, vmid, type);
      checkSnapname(snapname);
      return startTask(
        'DELETE',
        `${g.path}/snapshot/${snapname}`,
        g.on((e) => e.snapshot.$(snapname).$delete()),
      );
    },

    async vmStatus(node: string, vmid: number, type?: GuestType): Promise<VmPowerStatus> {
      const { status, qmpstatus } = await statusCurrent(node, vmid, type);
      return readPowerStatus(status, qmpstatus);
    },

    async guestState(node: string, vmid: number, type?: GuestType): Promise<GuestState> {
      const { status, lock, path } = await statusCurrent(node, vmid, type);
      if (lock !== undefined && typeof lock !== 'string') {
        throw new MalformedAnswerError(`${cluster}: GET ${path} answered a lock that is not a string`, cluster, path);
      }
      return { status: vmStatus(status), ...(lock ? { lock } : {}) };
    },

    async destroy(node: string, vmid: number, options: DestroyOptions = {}): Promise<TaskRef> {
      const g = guest(node, vmid, options.type);
      if (options.purge !== undefined && typeof options.purge !== 'boolean') throw new RangeError('invalid purge');
      const params: PveParams = {
        // Disks not referenced by the config (left over by a failed task) go with the guest.
        'destroy-unreferenced-disks': 1,
        // purge (also remove it from HA resources, backup and replication jobs) only when asked.
        purge: options.purge ? 1 : undefined,
      };
      return startTask(
        'DELETE',
        g.path,
        g.on((e) => e.$delete(params)),
        options.purge ? 'purge=1' : '',
      );
    },

    async migrate(node: string, vmid: number, options: MigrateOptions): Promise<TaskRef> {
      if (!options) throw new RangeError('migrate needs a target node');
      const g = guest(node, vmid, options.type);
      checkNode(options.target, 'target node');
      // PVE: 400 target "target is local node." — refused here before anything is sent.
      if (options.target === node) throw new RangeError(`guest ${vmid} is already on node ${node}`);
      let params: PveParams;
      if (g.type === 'lxc') {
        // pve-container: no live migration ("lxc live migration is currently not implemented"); a running
        // container moves in restart mode (shut down, moved, started on the target). Its local volumes always move.
        if (options.withLocalDisks) {
          throw new RangeError('with-local-disks is a QEMU option; a container migrates its local volumes itself');
        }
        params = { target: options.target, restart: options.online ? 1 : undefined };
      } else {
        params = {
          target: options.target,
          online: pveBool(options.online),
          'with-local-disks': pveBool(options.withLocalDisks),
        };
      }
      return startTask(
        'POST',
        `${g.path}/migrate`,
        g.on((e) => e.migrate.$post(params)),
        `target=${options.target}`,
      );
    },
  };
}
