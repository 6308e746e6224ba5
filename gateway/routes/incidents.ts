// GET /v1/incidents (filtered by state, kind and guest; paged with limit and offset, with the total), GET
// /v1/incidents/:id (its timeline and the requests it caused), and a person's word on one: POST
// /v1/incidents/:id/ack and /resolve (operator; the core audits it as the token's owner).
import { z } from 'zod';
import {
  GuestSchema,
  IncidentDetailSchema,
  IncidentStateFilterSchema,
  IncidentViewSchema,
  MAX_INCIDENT_PAGE,
  MAX_REASON_LENGTH,
  querySchemas,
} from '../../protocol';
import { ConflictError, NotFoundError } from '../errors';
import { IdParamsSchema, OffsetSchema, queryInt } from '../http-schemas';
import type { RouteTable } from '../route-table';
import type { RouteContext } from './context';

export const IncidentListQuerySchema = z.strictObject({
  state: IncidentStateFilterSchema.optional().describe('A state, or `unresolved` for every state but resolved'),
  kind: z.string().min(1).max(64).optional().describe('Only incidents of this kind, e.g. vm-unexpected-stop'),
  guest: GuestSchema.optional().describe('Only incidents about this guest, `<cluster>/<vmid>`'),
  limit: queryInt(1, MAX_INCIDENT_PAGE).optional().describe('Incidents in the page (100)'),
  offset: OffsetSchema.optional().describe('Incidents skipped (newest first)'),
});

export const IncidentActBodySchema = z.strictObject({
  note: z.string().min(1).max(MAX_REASON_LENGTH).optional().describe('Why, in a sentence (kept in the timeline)'),
});

const ACTS = [
  { word: 'ack', query: 'incidentAck', summary: 'Acknowledge an incident: it pages no one until it is resolved' },
  {
    word: 'resolve',
    query: 'incidentResolve',
    summary: 'Resolve an incident (the condition, if still present, opens a new one)',
  },
] as const;

export function registerIncidentRoutes(table: RouteTable, _ctx: RouteContext): void {
  table.add(
    {
      operationId: 'listIncidents',
      method: 'get',
      path: '/v1/incidents',
      role: 'observer',
      tag: 'incidents',
      summary: 'Incidents, newest first, filtered by state, kind and guest',
      query: IncidentListQuerySchema,
      success: {
        status: 200,
        description: 'A page of incidents and the total matching',
        schema: querySchemas.incidents.reply,
      },
    },
    async ({ c, query, core }) => c.json(await core.query('incidents', query)),
  );

  table.add(
    {
      operationId: 'getIncident',
      method: 'get',
      path: '/v1/incidents/:id',
      role: 'observer',
      tag: 'incidents',
      summary: 'One incident: its timeline and the requests it caused',
      params: IdParamsSchema,
      success: { status: 200, description: 'The incident', schema: IncidentDetailSchema },
      errors: [404],
    },
    async ({ c, params, core }) => {
      const incident = await core.query('incident', { id: params.id });
      if (!incident) throw new NotFoundError(`no incident ${params.id}`);
      return c.json(incident);
    },
  );

  for (const act of ACTS) {
    table.add(
      {
        operationId: `${act.word}Incident`,
        method: 'post',
        path: `/v1/incidents/:id/${act.word}`,
        role: 'operator',
        tag: 'incidents',
        summary: act.summary,
        description:
          act.word === 'ack'
            ? 'An incident is acknowledged once: a second acknowledgement, or one of a resolved incident, is 409.'
            : 'A resolved incident cannot be resolved again (409).',
        params: IdParamsSchema,
        body: IncidentActBodySchema,
        bodyOptional: true,
        success: { status: 200, description: 'The incident as it now stands', schema: IncidentViewSchema },
        errors: [404, 409],
      },
      async ({ c, params, body, core }) => {
        const reply = await core.query(act.query, {
          id: params.id,
          ...(body.note !== undefined ? { note: body.note } : {}),
        });
        if (reply.ok) return c.json(reply.incident);
        if (reply.code === 'not_found') throw new NotFoundError(reply.reason);
        throw new ConflictError(reply.reason);
      },
    );
  }
}
