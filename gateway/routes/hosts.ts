// GET /v1/hosts.
import { z } from 'zod';
import { querySchemas } from '../../protocol';
import { ClusterSchema } from '../http-schemas';
import type { RouteTable } from '../route-table';
import type { RouteContext } from './context';

export const HostListQuerySchema = z.strictObject({ cluster: ClusterSchema.optional() });

export function registerHostRoutes(table: RouteTable, _ctx: RouteContext): void {
  table.add(
    {
      operationId: 'listHosts',
      method: 'get',
      path: '/v1/hosts',
      role: 'observer',
      tag: 'hosts',
      summary: 'Hosts (Proxmox nodes), optionally of one cluster',
      query: HostListQuerySchema,
      success: { status: 200, description: 'The hosts', schema: querySchemas.hosts.reply },
    },
    async ({ c, query, core }) => c.json(await core.query('hosts', query)),
  );
}
