// Maintenance windows and silences: GET /v1/maintenance, POST /v1/maintenance (operator), DELETE /v1/maintenance/:id
// (operator: ends it early); GET /v1/silences, POST /v1/silences (operator), DELETE /v1/silences/:id (operator). The
// core audits each change as the token's owner; an ended window stays listed with `?all=true`.
import { z } from 'zod';
import { MAX_MAINTENANCE_PAGE, MaintenanceViewSchema, querySchemas, SilenceViewSchema } from '../../protocol';
import { ConflictError, NotFoundError } from '../errors';
import { IdParamsSchema, OffsetSchema, queryInt } from '../http-schemas';
import type { RouteTable } from '../route-table';
import type { RouteContext } from './context';

export const MaintenanceListQuerySchema = z.strictObject({
  all: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe('`true`: also what ended or ran out, newest first (default: active and scheduled, soonest first)'),
  limit: queryInt(1, MAX_MAINTENANCE_PAGE).optional().describe('Entries in the page (100)'),
  offset: OffsetSchema.optional(),
});

const NOTE =
  'Give `durationSeconds` (at most 30 days) or `until` (epoch ms); `from` (epoch ms) schedules it for later. A target ' +
  'the inventory does not know is refused (400).';

export function registerMaintenanceRoutes(table: RouteTable, _ctx: RouteContext): void {
  table.add(
    {
      operationId: 'listMaintenance',
      method: 'get',
      path: '/v1/maintenance',
      role: 'observer',
      tag: 'maintenance',
      summary: 'Maintenance windows: active and scheduled ones, or all with ?all=true',
      query: MaintenanceListQuerySchema,
      success: {
        status: 200,
        description: 'A page of windows and the total',
        schema: querySchemas.maintenanceList.reply,
      },
    },
    async ({ c, query, core }) => c.json(await core.query('maintenanceList', query)),
  );

  table.add(
    {
      operationId: 'startMaintenance',
      method: 'post',
      path: '/v1/maintenance',
      role: 'operator',
      tag: 'maintenance',
      summary: 'Put a guest, a node or a tag into maintenance: no remediation, no pages, the gate names it',
      description: `scope \`guest\` (target \`<cluster>/<vmid>\`), \`node\` (\`<cluster>/<node>\`) or \`tag\`. ${NOTE}`,
      body: querySchemas.maintenanceStart.payload,
      success: { status: 201, description: 'The window', schema: MaintenanceViewSchema },
    },
    async ({ c, body, core }) => c.json(await core.query('maintenanceStart', body), 201),
  );

  table.add(
    {
      operationId: 'endMaintenance',
      method: 'delete',
      path: '/v1/maintenance/:id',
      role: 'operator',
      tag: 'maintenance',
      summary: 'End a maintenance window now (it stays listed with ?all=true)',
      description: 'A window that already ended or ran out is 409.',
      params: IdParamsSchema,
      success: { status: 200, description: 'The window as it now stands', schema: MaintenanceViewSchema },
      errors: [404, 409],
    },
    async ({ c, params, core }) => {
      const reply = await core.query('maintenanceEnd', { id: params.id });
      if (reply.ok) return c.json(reply.window);
      if (reply.code === 'not_found') throw new NotFoundError(reply.reason);
      throw new ConflictError(reply.reason);
    },
  );

  table.add(
    {
      operationId: 'listSilences',
      method: 'get',
      path: '/v1/silences',
      role: 'observer',
      tag: 'maintenance',
      summary: 'Silences: active and scheduled ones, or all with ?all=true',
      query: MaintenanceListQuerySchema,
      success: { status: 200, description: 'A page of silences and the total', schema: querySchemas.silenceList.reply },
    },
    async ({ c, query, core }) => c.json(await core.query('silenceList', query)),
  );

  table.add(
    {
      operationId: 'addSilence',
      method: 'post',
      path: '/v1/silences',
      role: 'operator',
      tag: 'maintenance',
      summary: 'Silence one incident kind on one guest: recorded, not remediated, not paged',
      description: `\`kind\` is an incident kind about a guest (vm-…, guest-…); \`guest\` is \`<cluster>/<vmid>\`. ${NOTE}`,
      body: querySchemas.silenceAdd.payload,
      success: { status: 201, description: 'The silence', schema: SilenceViewSchema },
    },
    async ({ c, body, core }) => c.json(await core.query('silenceAdd', body), 201),
  );

  table.add(
    {
      operationId: 'removeSilence',
      method: 'delete',
      path: '/v1/silences/:id',
      role: 'operator',
      tag: 'maintenance',
      summary: 'Remove a silence now (it stays listed with ?all=true)',
      description: 'A silence that already ended or ran out is 409.',
      params: IdParamsSchema,
      success: { status: 200, description: 'The silence as it now stands', schema: SilenceViewSchema },
      errors: [404, 409],
    },
    async ({ c, params, core }) => {
      const reply = await core.query('silenceRemove', { id: params.id });
      if (reply.ok) return c.json(reply.silence);
      if (reply.code === 'not_found') throw new NotFoundError(reply.reason);
      throw new ConflictError(reply.reason);
    },
  );
}
