// POST /v1/tokens, GET /v1/tokens, DELETE /v1/tokens/:id (admin only). Tokens are stored hashed by the core;
// the plaintext is in the creation answer only.
import { z } from 'zod';
import { CreatedTokenSchema, querySchemas } from '../../protocol';
import { NotFoundError } from '../errors';
import { IdParamsSchema, IdSchema, LimitSchema, OffsetSchema } from '../http-schemas';
import type { RouteTable } from '../route-table';
import type { RouteContext } from './context';

export const TokenCreateBodySchema = querySchemas.tokenCreate.payload;

export const TokenListQuerySchema = z.strictObject({
  limit: LimitSchema.optional().describe('Tokens in the page (default 1000)'),
  offset: OffsetSchema.optional(),
});

export function registerTokenRoutes(table: RouteTable, ctx: RouteContext): void {
  table.add(
    {
      operationId: 'createToken',
      method: 'post',
      path: '/v1/tokens',
      role: 'admin',
      tag: 'tokens',
      summary: 'Create an API token (the plaintext is shown once)',
      body: TokenCreateBodySchema,
      success: { status: 201, description: 'The new token', schema: CreatedTokenSchema },
    },
    async ({ c, body, core }) => {
      const created = await core.query('tokenCreate', body);
      return c.json(created, 201);
    },
  );
  table.add(
    {
      operationId: 'listTokens',
      method: 'get',
      path: '/v1/tokens',
      role: 'admin',
      tag: 'tokens',
      summary: 'API tokens (never their secrets)',
      query: TokenListQuerySchema,
      success: {
        status: 200,
        description: 'A page of tokens and the total',
        schema: querySchemas.tokenList.reply,
      },
    },
    async ({ c, query, core }) => c.json(await core.query('tokenList', query)),
  );
  table.add(
    {
      operationId: 'revokeToken',
      method: 'delete',
      path: '/v1/tokens/:id',
      role: 'admin',
      tag: 'tokens',
      summary: 'Revoke an API token',
      params: IdParamsSchema,
      success: {
        status: 200,
        description: 'Revoked',
        schema: z.object({ id: IdSchema, revoked: z.literal(true) }),
      },
      errors: [404],
    },
    async ({ c, params, core }) => {
      const { ok } = await core.query('tokenRevoke', { id: params.id });
      if (!ok) throw new NotFoundError(`no active token ${params.id}`);
      ctx.principals.forgetId(params.id);
      return c.json({ id: params.id, revoked: true as const });
    },
  );
}
