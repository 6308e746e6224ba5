// The actor inspector's reads: GET /v1/actors (the core's actors by kind, with their state; paged) and GET
// /v1/actors/:id/inspect (one actor's machine definition, its state and the events it received), for the
// dashboard's statechart view. The id is the actor's address, URL-encoded: `vm%3Alab%2F101`, `loop%3Async`.
import { z } from 'zod';
import { ActorInspectReplySchema, ActorKindSchema, querySchemas } from '../../protocol';
import { NotFoundError } from '../errors';
import { LimitSchema, OffsetSchema } from '../http-schemas';
import type { RouteTable } from '../route-table';
import type { RouteContext } from './context';

export const ActorListQuerySchema = z.strictObject({
  kind: ActorKindSchema.optional().describe('Only actors of this kind'),
  prefix: z.string().min(1).max(200).optional().describe('Only ids starting with this, e.g. `vm:lab/`'),
  limit: LimitSchema.optional().describe('Actors in the page (200)'),
  offset: OffsetSchema.optional().describe('Actors skipped'),
});

export const ActorParamsSchema = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(300)
    .describe('The actor’s id: `overseer`, `loop:sync`, `vm:lab/101`, `req:<id>`, `lab:lab/x`'),
});

export function registerActorRoutes(table: RouteTable, _ctx: RouteContext): void {
  table.add(
    {
      operationId: 'listActors',
      method: 'get',
      path: '/v1/actors',
      role: 'observer',
      tag: 'actors',
      summary: 'The core’s actors (root, loops, hosts, VMs, requests, incidents, labs) with their current state',
      query: ActorListQuerySchema,
      success: { status: 200, description: 'A page of actors and the total', schema: querySchemas.actors.reply },
    },
    async ({ c, query, core }) => c.json(await core.query('actors', query)),
  );

  table.add(
    {
      operationId: 'inspectActor',
      method: 'get',
      path: '/v1/actors/:id/inspect',
      role: 'observer',
      tag: 'actors',
      summary: 'One actor: its machine as a statechart definition, its current state, the events it received',
      params: ActorParamsSchema,
      success: { status: 200, description: 'The actor', schema: ActorInspectReplySchema.unwrap() },
      errors: [404],
    },
    async ({ c, params, core }) => {
      const actor = await core.query('actorInspect', { id: params.id });
      if (!actor) throw new NotFoundError(`no actor ${params.id}`);
      return c.json(actor);
    },
  );
}
