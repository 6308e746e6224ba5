// GET /v1/audit (admin only): a page of the audit log, oldest first, with the chain's verification against the
// last checkpoint kept outside SQLite. Page on with `afterSeq` = the answer's `next`.
import { z } from 'zod';
import { AuditQueryReplySchema, MAX_AUDIT_PAGE, MAX_ID_LENGTH } from '../../protocol';
import { queryInt } from '../http-schemas';
import type { RouteTable } from '../route-table';
import type { RouteContext } from './context';

export const AuditListQuerySchema = z.strictObject({
  limit: queryInt(1, MAX_AUDIT_PAGE).optional().describe('Rows in the page (default 100)'),
  afterSeq: queryInt(0, Number.MAX_SAFE_INTEGER)
    .optional()
    .describe('Only rows after this sequence number (the previous page’s `next`)'),
  kind: z.string().min(1).max(MAX_ID_LENGTH).optional().describe('Only rows of this kind, e.g. token.created'),
  actor: z.string().min(1).max(MAX_ID_LENGTH).optional().describe('Only rows of this actor'),
});

export function registerAuditRoutes(table: RouteTable, _ctx: RouteContext): void {
  table.add(
    {
      operationId: 'listAudit',
      method: 'get',
      path: '/v1/audit',
      role: 'admin',
      tag: 'audit',
      summary: 'The audit log, oldest first, and whether its chain is intact',
      description:
        '`verification.ok` is false when a row was edited or deleted, the head was forged, or the table no longer ' +
        'matches the last checkpoint kept outside the database; `verification.problem.sentence` says which.',
      query: AuditListQuerySchema,
      success: { status: 200, description: 'A page of rows and the verification', schema: AuditQueryReplySchema },
    },
    async ({ c, query, core }) => c.json(await core.query('audit', query)),
  );
}
