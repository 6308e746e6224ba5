// GET /v1/vms (filters), GET /v1/vms/:cluster/:vmid, GET /v1/vms/:cluster/:vmid/snapshots. A guest is a QEMU VM or
// an LXC container (`type`); both are named the same way.
import { z } from 'zod';
import { GuestTypeSchema, querySchemas, SnapshotViewSchema, VmViewSchema } from '../../protocol';
import { NotFoundError } from '../errors';
import { LimitSchema, OffsetSchema, VmParamsSchema } from '../http-schemas';
import type { RouteTable } from '../route-table';
import type { RouteContext } from './context';

const filter = () => z.string().min(1).max(64).optional();

export const VmListQuerySchema = z.strictObject({
  cluster: filter(),
  node: filter(),
  type: GuestTypeSchema.optional().describe('qemu (VMs) or lxc (containers)'),
  state: filter(),
  tag: filter(),
  limit: LimitSchema.optional(),
  offset: OffsetSchema.optional(),
});

export const SnapshotListQuerySchema = z.strictObject({
  limit: LimitSchema.optional().describe('Snapshots in the page (default: all)'),
  offset: OffsetSchema.optional(),
});

export const SnapshotListSchema = z.object({
  items: z.array(SnapshotViewSchema).describe('Oldest first, as the platform lists them (`current` left out)'),
  total: z.number(),
});

export function registerVmRoutes(table: RouteTable, _ctx: RouteContext): void {
  table.add(
    {
      operationId: 'listVms',
      method: 'get',
      path: '/v1/vms',
      role: 'observer',
      tag: 'vms',
      summary: 'Guests (VMs and containers), filtered by cluster, node, type, state and tag',
      description:
        'A page of guests (limit, offset) and the total matching; each carries its `type` (qemu or lxc) and its ' +
        'pool. A cluster, node or state the core does not know is a 400 naming the field, not an empty page.',
      query: VmListQuerySchema,
      success: { status: 200, description: 'A page of guests and the total matching', schema: querySchemas.vms.reply },
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
      summary: 'One guest (VM or container)',
      params: VmParamsSchema,
      success: { status: 200, description: 'The guest', schema: VmViewSchema },
      errors: [404],
    },
    async ({ c, params, core }) => {
      const vmid = Number(params.vmid);
      const vm = await core.query('vm', { cluster: params.cluster, vmid });
      if (!vm) throw new NotFoundError(`no VM ${params.cluster}/${vmid}`);
      return c.json(vm);
    },
  );
  table.add(
    {
      operationId: 'listSnapshots',
      method: 'get',
      path: '/v1/vms/:cluster/:vmid/snapshots',
      role: 'observer',
      tag: 'vms',
      summary: 'A guest’s snapshots: name, time, parent, description',
      description:
        'Read from the platform now. A guest the core does not know is a 404. Roll back or delete one with ' +
        'POST /v1/requests (`rollback`, `delsnapshot`).',
      params: VmParamsSchema,
      query: SnapshotListQuerySchema,
      success: { status: 200, description: 'The snapshots and how many there are', schema: SnapshotListSchema },
      errors: [404],
    },
    async ({ c, params, query, core }) => {
      const target = { cluster: params.cluster, vmid: Number(params.vmid) };
      if (!(await core.query('vm', target))) throw new NotFoundError(`no VM ${target.cluster}/${target.vmid}`);
      const { items } = await core.query('snapshots', target);
      const offset = query.offset ?? 0;
      const page = items.slice(offset, query.limit === undefined ? undefined : offset + query.limit);
      return c.json({ items: page, total: items.length });
    },
  );
}
