// Creating, changing and deleting resource pools, as pve-manager's API2/Pool.pm does under
// PVE::AccessControl::lock_user_config (errors come back as "<what> failed: <error>", HTTP 500). PVE 8.1+ takes the
// pool as a parameter (PUT/DELETE /pools?poolid=); the older /pools/{poolid} paths are still served.
import type { Principal } from './auth';
import { PveHttpError } from './errors';
import type { OpsContext } from './operations';
import { bool, formats, P, type ParamSchema, type Params, splitList, str } from './params';
import type { Call, Route } from './routes';
import type { SimState, SimVm } from './types';

const route = (method: Route['method'], path: string, def: Omit<Route, 'method' | 'path'>): Route => ({
  method,
  path: path.split('/').filter(Boolean),
  ...def,
});

const poolPerm = (raw: Record<string, string>) => ({ acl: `/pool/${raw.poolid ?? '{poolid}'}`, priv: 'Pool.Allocate' });

const POOLID = { type: 'string', format: formats.poolId } as const;
const UPDATE_SCHEMA = {
  poolid: POOLID,
  comment: P.optStr,
  vms: { type: 'string', optional: true, format: formats.vmidList },
  storage: { type: 'string', optional: true, format: formats.storageIdList },
  'allow-move': P.optBool,
  delete: P.optBool,
} as const satisfies ParamSchema;

/** lock_user_config: user.cfg's cfs lock (no quorum: "cfs-lock 'file-user_cfg' error: no quorum!"), errors prefixed. */
function lockUserConfig(state: SimState, errmsg: string, fn: () => void): void {
  if (!state.quorate) throw new PveHttpError(500, `${errmsg}: cfs-lock 'file-user_cfg' error: no quorum!`);
  try {
    fn();
  } catch (err) {
    throw new PveHttpError(500, `${errmsg}: ${err instanceof Error ? err.message : String(err)}`, undefined, false, {
      cause: err,
    });
  }
}

const record = (ctx: OpsContext, who: Principal, op: string, poolid: string, detail?: Record<string, unknown>) =>
  ctx.tasks.record({ op, node: ctx.state.localNode, vmid: 0, id: poolid, user: who.authid, detail });

/** POST /pools. */
export function createPool(ctx: OpsContext, who: Principal, poolid: string, comment?: string): void {
  const { state } = ctx;
  lockUserConfig(state, 'create pool failed', () => {
    if (state.pools.has(poolid)) throw new Error(`pool '${poolid}' already exists`);
    const nested = /^(.*)\/([^/]+)$/.exec(poolid);
    if (nested) {
      const [, parent, leaf] = nested;
      if (!state.pools.has(parent!)) throw new Error(`parent '${parent}' of pool '${poolid}' does not exist`);
      if (!/^[A-Za-z]/.test(leaf!)) throw new Error('pool name must start with a letter');
    } else if (!/^[A-Za-z]/.test(poolid)) throw new Error('pool name must start with a letter');
    state.pools.set(poolid, { storage: [], vmids: [], ...(comment ? { comment } : {}) });
  });
  record(ctx, who, 'pool-create', poolid);
}

/** The guest `vmid` wherever it is (pool membership is cluster-wide). */
const guest = (state: SimState, vmid: number): SimVm | undefined => state.vms.get(vmid);

/** PUT /pools (and /pools/{poolid}): comment, and guests or storages added (or removed with `delete`). */
export function updatePool(ctx: OpsContext, who: Principal, p: Params): void {
  const { state } = ctx;
  const poolid = p.poolid as string;
  const remove = bool(p, 'delete') ?? false;
  const vmids = splitList(str(p, 'vms') ?? '').map(Number);
  const storages = splitList(str(p, 'storage') ?? '');
  lockUserConfig(state, 'update pools failed', () => {
    const pool = state.pools.get(poolid);
    if (!pool) throw new Error(`pool '${poolid}' does not exist`);
    if (str(p, 'comment') !== undefined) pool.comment = str(p, 'comment');
    for (const vmid of vmids) {
      const vm = guest(state, vmid);
      // user.cfg's `vms` maps a VMID to its pool whether or not the guest exists (pool.vmids keeps the absent ones).
      const current = vm ? vm.pool : [...state.pools].find(([, x]) => x.vmids.includes(vmid))?.[0];
      if (remove) {
        if (current !== poolid) throw new Error(`VM ${vmid} is not a pool member`);
        if (vm) vm.pool = undefined;
        else pool.vmids = pool.vmids.filter((x) => x !== vmid);
        continue;
      }
      if (current === poolid) throw new Error(`VM ${vmid} is already a pool member`);
      if (current !== undefined) {
        if (!(bool(p, 'allow-move') ?? false)) {
          throw new Error(`VM ${vmid} belongs already to pool '${current}' and 'allow-move' is not set`);
        }
        const old = state.pools.get(current);
        if (old) old.vmids = old.vmids.filter((x) => x !== vmid);
      }
      if (vm) vm.pool = poolid;
      else pool.vmids.push(vmid);
    }
    for (const storage of storages) {
      const member = pool.storage.includes(storage);
      if (remove && !member) throw new Error(`Storage '${storage}' is not a pool member`);
      if (!remove && member) throw new Error(`Storage '${storage}' is already a pool member`);
      pool.storage = remove ? pool.storage.filter((s) => s !== storage) : [...pool.storage, storage];
    }
  });
  record(ctx, who, 'pool-update', poolid, { vms: vmids, storage: storages, delete: remove });
}

/** DELETE /pools (and /pools/{poolid}): only an empty pool (no sub-pools, guests or existing storages). */
export function deletePool(ctx: OpsContext, who: Principal, poolid: string): void {
  const { state } = ctx;
  lockUserConfig(state, 'delete pool failed', () => {
    const pool = state.pools.get(poolid);
    if (!pool) throw new Error(`pool '${poolid}' does not exist`);
    const sub = [...state.pools.keys()].filter(
      (id) => id.startsWith(`${poolid}/`) && !id.slice(poolid.length + 1).includes('/'),
    );
    if (sub.length > 0) throw new Error(`pool '${poolid}' is not empty (contains pool '${sub.sort()[0]}')`);
    const members = [...state.vms.values()].filter((vm) => vm.pool === poolid).map((vm) => String(vm.vmid));
    if (members.length > 0) throw new Error(`pool '${poolid}' is not empty (contains VM ${members.sort()[0]})`);
    const storages = pool.storage.filter((s) => state.storages.some((x) => x.storage === s)).sort();
    if (storages.length > 0) throw new Error(`pool '${poolid}' is not empty (contains storage '${storages[0]}')`);
    state.pools.delete(poolid);
  });
  record(ctx, who, 'pool-delete', poolid);
}

const done = { data: null };
const update = (c: Call) => {
  updatePool(c.ctx, c.who, c.params);
  return done;
};
const remove = (c: Call) => {
  deletePool(c.ctx, c.who, c.params.poolid as string);
  return done;
};

export const POOL_WRITE_ROUTES: Route[] = [
  route('POST', 'pools', {
    schema: { poolid: POOLID, comment: P.optStr },
    perm: poolPerm,
    handle: (c) => {
      createPool(c.ctx, c.who, c.params.poolid as string, str(c.params, 'comment'));
      return done;
    },
  }),
  route('PUT', 'pools', { schema: UPDATE_SCHEMA, perm: poolPerm, handle: update }),
  route('PUT', 'pools/{poolid}', { schema: UPDATE_SCHEMA, perm: poolPerm, handle: update }),
  route('DELETE', 'pools', { schema: { poolid: POOLID }, perm: poolPerm, handle: remove }),
  route('DELETE', 'pools/{poolid}', { schema: { poolid: POOLID }, perm: poolPerm, handle: remove }),
];
