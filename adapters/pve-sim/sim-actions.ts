// Control actions on the simulated platform that are not faults: run a backup job now (as pvescheduler would),
// start a vzdump run, take a backup server off the network, put a guest into HA or out of it. Served as
// POST /_sim/actions/<name> (control-api.ts) and usable directly by tests with the simulator's state.
import { SimConfigError } from './errors';
import type { OpsContext } from './operations';
import { runBackupJob, startVzdump } from './vzdump';

type Body = Record<string, unknown>;

function text(b: Body, key: string): string {
  const v = b[key];
  if (typeof v !== 'string' || v === '') throw new SimConfigError(`'${key}' must be a non-empty string`);
  return v;
}

function ids(b: Body, key: string): number[] {
  const v = b[key];
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || !list.every((x) => Number.isInteger(x))) {
    throw new SimConfigError(`'${key}' must be a VMID or a list of VMIDs`);
  }
  return list as number[];
}

const optText = (b: Body, key: string): string | undefined => (b[key] === undefined ? undefined : text(b, key));

/** POST /_sim/actions/<name> → what it does and answers. */
export const SIM_ACTIONS: Readonly<Record<string, (ctx: OpsContext, b: Body) => unknown>> = {
  /** {job}: runs a scheduled backup job now on every online node it concerns, as root@pam. → {upids} */
  'backup-job': (ctx, b) => {
    const id = text(b, 'job');
    const job = ctx.state.backupJobs.find((j) => j.id === id);
    if (!job) throw new SimConfigError(`no backup job '${id}'`);
    return { upids: runBackupJob(ctx, job) };
  },
  /** {vmid, storage?, mode?, user?}: a vzdump run of these guests on their node (the first guest's). → {upids} */
  vzdump: (ctx, b) => {
    const vmids = ids(b, 'vmid');
    const vm = ctx.state.vms.get(vmids[0]!);
    if (!vm) throw new SimConfigError(`no such guest ${vmids[0]}`);
    const mode = optText(b, 'mode');
    if (mode !== undefined && !['snapshot', 'suspend', 'stop'].includes(mode)) {
      throw new SimConfigError(`'mode' must be snapshot, suspend or stop`);
    }
    const upid = startVzdump(ctx, vm.node, optText(b, 'user') ?? 'root@pam', {
      vmids,
      storage: optText(b, 'storage'),
      mode: mode as 'snapshot' | 'suspend' | 'stop' | undefined,
      compress: 'zstd',
    });
    return { upids: upid ? [upid] : [] };
  },
  /** {storage, offline = true}: a storage (a backup server) becomes unreachable, or reachable again. */
  'storage-offline': (ctx, b) => {
    const id = text(b, 'storage');
    const s = ctx.state.storages.find((x) => x.storage === id);
    if (!s) throw new SimConfigError(`no storage '${id}'`);
    if (b.offline !== undefined && typeof b.offline !== 'boolean')
      throw new SimConfigError(`'offline' must be a boolean`);
    s.online = b.offline === false;
    return { storage: id, online: s.online };
  },
  /** {vmid, state = 'started' | null}: the guest becomes an HA resource with that state, or stops being one. */
  'ha-resource': (ctx, b) => {
    const [vmid] = ids(b, 'vmid');
    const vm = ctx.state.vms.get(vmid!);
    if (!vm) throw new SimConfigError(`no such guest ${vmid}`);
    vm.hastate = b.state === null ? undefined : (optText(b, 'state') ?? 'started');
    return { vmid, hastate: vm.hastate ?? null };
  },
};
