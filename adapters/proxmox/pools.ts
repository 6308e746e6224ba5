// Resource pools through /pools (pve-manager API2/Pool.pm). Since PVE 8.1 a pool is changed and deleted with its
// id as a parameter (PUT/DELETE /pools?poolid=, which allows nested pool ids); an older PVE answers 501 for those
// and takes the deprecated /pools/{poolid} instead, which is used then.
import type { Proxmox } from 'proxmox-api';
import type { Log } from '../log';
import { MalformedAnswerError, PveApiError } from '../platform/errors';
import type { Platform, PoolInfo } from '../platform/types';
import type { PveClient } from './client';
import { checkVmid, type PveParams } from './guest-paths';
import { isRecord } from './wire';

export interface PoolDeps {
  cluster: string;
  client: PveClient;
  log: Log;
}

export type PoolOps = Pick<
  Platform,
  'listPools' | 'createPool' | 'addPoolMembers' | 'removePoolMembers' | 'deletePool'
>;

interface Endpoint {
  $get(params?: PveParams): Promise<unknown>;
  $post(params?: PveParams): Promise<unknown>;
  $put(params?: PveParams): Promise<unknown>;
  $delete(params?: PveParams): Promise<unknown>;
}
type PoolsEndpoint = Endpoint & { $(poolid: string): Endpoint };

const poolsApi = (api: Proxmox.Api): PoolsEndpoint => api.pools as unknown as PoolsEndpoint;

/** pve-poolid (AccessControl.pm verify_poolname) and Pool.pm's "pool name must start with a letter". */
const POOLID_RE = /^[A-Za-z][A-Za-z0-9.\-_]*(?:\/[A-Za-z][A-Za-z0-9.\-_]*){0,2}$/;

function checkPoolid(poolid: string): string {
  if (typeof poolid !== 'string' || !POOLID_RE.test(poolid)) {
    throw new RangeError(`invalid pool id ${JSON.stringify(poolid)} (letters, digits, '.', '-', '_'; a letter first)`);
  }
  return poolid;
}

function checkVmids(vmids: number[]): string {
  if (!Array.isArray(vmids) || vmids.length === 0) throw new RangeError('no guests given');
  return vmids.map((v) => checkVmid(v)).join(',');
}

export function createPoolOps({ cluster, client, log }: PoolDeps): PoolOps {
  /** PUT or DELETE on a pool: /pools?poolid= (PVE >= 8.1), else /pools/{poolid}. */
  const onPool = async (method: 'PUT' | 'DELETE', poolid: string, params: PveParams, detail: string) => {
    const label = `${method} /pools poolid=${poolid}${detail}`;
    try {
      await client.call(label, (api) =>
        method === 'PUT' ? poolsApi(api).$put({ poolid, ...params }) : poolsApi(api).$delete({ poolid }),
      );
    } catch (err) {
      if (!(err instanceof PveApiError) || err.status !== 501) throw err;
      await client.call(`${method} /pools/${poolid}${detail}`, (api) =>
        method === 'PUT' ? poolsApi(api).$(poolid).$put(params) : poolsApi(api).$(poolid).$delete(),
      );
    }
    log.info(`${cluster}: ${label}`);
  };

  return {
    async listPools(): Promise<PoolInfo[]> {
      const data = await client.call('GET /pools', (api) => poolsApi(api).$get(), { retryLocks: false });
      if (!Array.isArray(data)) {
        throw new MalformedAnswerError(
          `${cluster}: GET /pools answered something other than a list`,
          cluster,
          '/pools',
        );
      }
      return data.flatMap((e) => {
        if (!isRecord(e) || typeof e.poolid !== 'string' || e.poolid === '') {
          throw new MalformedAnswerError(`${cluster}: GET /pools listed a pool without an id`, cluster, '/pools');
        }
        return [typeof e.comment === 'string' ? { poolid: e.poolid, comment: e.comment } : { poolid: e.poolid }];
      });
    },

    async createPool(poolid: string, comment?: string): Promise<void> {
      checkPoolid(poolid);
      if (comment !== undefined && typeof comment !== 'string') throw new RangeError('invalid pool comment');
      await client.call(`POST /pools poolid=${poolid}`, (api) => poolsApi(api).$post({ poolid, comment }));
      log.info(`${cluster}: POST /pools poolid=${poolid}`);
    },

    async addPoolMembers(poolid: string, vmids: number[], options: { allowMove?: boolean | undefined } = {}) {
      checkPoolid(poolid);
      const vms = checkVmids(vmids);
      await onPool('PUT', poolid, { vms, 'allow-move': options.allowMove ? 1 : undefined }, ` vms=${vms}`);
    },

    async removePoolMembers(poolid: string, vmids: number[]): Promise<void> {
      checkPoolid(poolid);
      const vms = checkVmids(vmids);
      await onPool('PUT', poolid, { vms, delete: 1 }, ` vms=${vms} delete=1`);
    },

    async deletePool(poolid: string): Promise<void> {
      checkPoolid(poolid);
      await onPool('DELETE', poolid, {}, '');
    },
  };
}
