// GET /v1/status, /v1/summary, /v1/health: the core's own view of itself and the fleet.
import { HealthReplySchema, StatusReplySchema, SummaryReplySchema } from '../../protocol';
import type { RouteTable } from '../route-table';
import type { RouteContext } from './context';

export function registerOverviewRoutes(table: RouteTable, _ctx: RouteContext): void {
  table.add(
    {
      operationId: 'getStatus',
      method: 'get',
      path: '/v1/status',
      role: 'observer',
      tag: 'overview',
      summary: 'Overseer state: root actor, loops, clusters, escalations',
      success: { status: 200, description: 'The core’s status', schema: StatusReplySchema },
    },
    async ({ c, core }) => c.json(await core.query('status', {})),
  );
  table.add(
    {
      operationId: 'getSummary',
      method: 'get',
      path: '/v1/summary',
      role: 'observer',
      tag: 'overview',
      summary: 'Counts of VMs, hosts and requests by state',
      success: { status: 200, description: 'Fleet counts', schema: SummaryReplySchema },
    },
    async ({ c, core }) => c.json(await core.query('summary', {})),
  );
  table.add(
    {
      operationId: 'getHealth',
      method: 'get',
      path: '/v1/health',
      role: 'observer',
      tag: 'overview',
      summary: 'Self and platform health checks',
      description: 'Always 200 when the core answers; read `ok`.',
      success: { status: 200, description: 'Health checks', schema: HealthReplySchema },
    },
    async ({ c, core }) => c.json(await core.query('health', {})),
  );
}
