// GET /pools and GET /pools/{poolid}, as pve-manager's API2/Pool.pm answers them. The pools are user.cfg's
// (SimState.pools, changed by pools-write.ts); their guests are the ones whose SimVm.pool names them.
import { PveHttpError, PveParamError } from './errors';
import { isContainer } from './guest-metrics';
import { P, type ParamSchema, str } from './params';
import type { Route } from './routes';
import type { SimState } from './types';
import { guestStats, poolNames } from './views';

const route = (method: Route['method'], path: string, def: Omit<Route, 'method' | 'path'>): Route => ({
  method,
  path: path.split('/').filter(Boolean),
  ...def,
});

const TYPES = ['qemu', 'lxc', 'storage'] as const;

export interface PoolWire {
  poolid: string;
  comment?: string;
  members?: Array<Record<string, unknown>>;
}

/** One pool with its members (extract_vm_stats of each guest in it, by VMID), optionally only one type. */
export function poolInfo(state: SimState, poolid: string, now: number, type?: string): PoolWire {
  if (!poolNames(state).includes(poolid)) throw new PveHttpError(500, `pool '${poolid}' does not exist`);
  const members = [...state.vms.values()]
    .filter((vm) => vm.pool === poolid && (type === undefined || type === (isContainer(vm) ? 'lxc' : 'qemu')))
    .sort((a, b) => (String(a.vmid) < String(b.vmid) ? -1 : 1))
    .map((vm) => guestStats(vm, state, now) as Record<string, unknown>);
  const comment = state.pools.get(poolid)?.comment;
  return comment === undefined ? { members, poolid } : { comment, members, poolid };
}

const POOLS_SCHEMA = {
  poolid: P.optPool,
  type: { type: 'string', optional: true, enum: TYPES, requires: 'poolid' },
} as const satisfies ParamSchema;

export const POOL_ROUTES: Route[] = [
  route('GET', 'pools', {
    schema: POOLS_SCHEMA,
    handle: (c) => {
      const poolid = str(c.params, 'poolid');
      const type = str(c.params, 'type');
      if (type !== undefined && poolid === undefined) {
        throw new PveParamError({ poolid: "missing property required by 'type'" });
      }
      if (poolid !== undefined) return { data: [poolInfo(c.ctx.state, poolid, c.ctx.clock.now(), type)] };
      return {
        data: poolNames(c.ctx.state).map((name) => {
          const comment = c.ctx.state.pools.get(name)?.comment;
          return comment === undefined ? { poolid: name } : { poolid: name, comment };
        }),
      };
    },
  }),
  // Deprecated in PVE 8.1 (no nested pools) but still served: the same pool as an object.
  route('GET', 'pools/{poolid}', {
    schema: { poolid: { ...P.optPool, optional: false }, type: { type: 'string', optional: true, enum: TYPES } },
    handle: (c) => ({
      data: poolInfo(c.ctx.state, c.params.poolid as string, c.ctx.clock.now(), str(c.params, 'type')),
    }),
  }),
];
