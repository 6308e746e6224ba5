// GET /v1/vms (filters), GET /v1/vms/:cluster/:vmid.
import { z } from 'zod';
import { querySchemas, VmViewSchema } from '../../protocol';
import { NotFoundError } from '../errors';
import { VmParamsSchema } from '../http-schemas';
import type { RouteTable } from '../route-table';
import type { RouteContext } from './context';

const filter = () => z.string().min(1).max(64).optional();

export const VmListQuerySchema = z.strictObject({
  cluster: filter(),
  node: filter(),
  state: filter(),
  tag: filter(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  offset: z.coerce.number().int().min(0).max(10_000_000).optional(),
});

export function registerVmRoutes(table: RouteTable, _ctx: RouteContext): void {
  table.add(
    {
      operationId: 'listVms',
      method: 'get',
      path: '/v1/vms',
      role: 'observer',
      tag: 'vms',
      summary: 'VMs, filtered by cluster, node, state and tag',
      description:
        'A page of VMs (limit, offset) and the total matching. A cluster, node or state the core does not know ' +
        'is a 400 naming the field, not an empty page.',
      query: VmListQuerySchema,
      success: { status: 200, description: 'A page of VMs and the total matching', schema: querySchemas.vms.reply },
    },
    async ({ c, query, core }) => c.json(await core.query('vms', query)),
  );
  table.add(
    {
      operationId: 'getVm',
      method: 'get',
      path: '/v1/vms/:cluster/:vmid',
      role: 'observer',
      tag: 'vms',
      summary: 'One VM',
      params: VmParamsSchema,
      success: { status: 200, description: 'The VM', schema: VmViewSchema },
      errors: [404],
    },
    async ({ c, params, core }) => {
      const vmid = Number(params.vmid);
      const vm = await core.query('vm', { cluster: params.cluster, vmid });
      if (!vm) throw new NotFoundError(`no VM ${params.cluster}/${vmid}`);
      return c.json(vm);
    },
  );
}
