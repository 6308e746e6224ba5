// GET /v1/hosts: a page (limit, offset) and the total.
import { z } from 'zod';
import { querySchemas } from '../../protocol';
import { ClusterSchema, LimitSchema, OffsetSchema } from '../http-schemas';
import type { RouteTable } from '../route-table';
import type { RouteContext } from './context';

export const HostListQuerySchema = z.strictObject({
  cluster: ClusterSchema.optional(),
  limit: LimitSchema.optional().describe('Hosts in the page (default 1000)'),
  offset: OffsetSchema.optional(),
});

export function registerHostRoutes(table: RouteTable, _ctx: RouteContext): void {
  table.add(
    {
      operationId: 'listHosts',
      method: 'get',
      path: '/v1/hosts',
      role: 'observer',
      tag: 'hosts',
      summary: 'Hosts (Proxmox nodes), optionally of one cluster',
      description: 'A page of hosts and the total matching; an unknown cluster is a 400 naming `cluster`.',
      query: HostListQuerySchema,
      success: { status: 200, description: 'A page of hosts and the total matching', schema: querySchemas.hosts.reply },
    },
    async ({ c, query, core }) => c.json(await core.query('hosts', query)),
  );
}
