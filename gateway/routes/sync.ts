// POST /v1/sync: reconcile with the platform now.
import { z } from 'zod';
import type { RouteTable } from '../route-table';
import type { RouteContext } from './context';

export function registerSyncRoutes(table: RouteTable, _ctx: RouteContext): void {
  table.add(
    {
      operationId: 'syncNow',
      method: 'post',
      path: '/v1/sync',
      role: 'operator',
      tag: 'sync',
      summary: 'Start a state sync with the platform now',
      body: z.strictObject({}),
      bodyOptional: true,
      success: { status: 202, description: 'Sync started', schema: z.object({ started: z.literal(true) }) },
    },
    async ({ c, core }) => c.json(await core.query('sync', {}), 202),
  );
}
