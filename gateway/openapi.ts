// The OpenAPI 3.1 document, generated from the route table and its zod schemas (z.toJSONSchema, draft 2020-12,
// which is OpenAPI 3.1's schema dialect).
import { z } from 'zod';
import { ErrorBodySchema } from './http-schemas';
import type { RouteSpec } from './route-table';
import { openApiPath } from './route-table';

type JsonSchema = Record<string, unknown>;

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input (bad JSON, unknown field, wrong type); the error names the field',
  401: 'Missing, malformed, unknown or revoked token',
  403: 'The token’s role is too low, or the core refused the command',
  404: 'Unknown id',
  405: 'Method not allowed on this path',
  409: 'The request is not in a state that allows this',
  413: 'Request body too large',
  429: 'Per-token rate limit; see Retry-After',
  502: 'The core failed to answer properly',
  503: 'NATS or the core is unavailable; see Retry-After',
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

/** Query or path parameters from an object schema, one per property. */
function parameters(schema: z.ZodType | undefined, where: 'query' | 'path'): JsonSchema[] {
  if (!schema) return [];
  const js = jsonSchema(schema, 'input');
  const props = (js.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((js.required ?? []) as string[]);
  return Object.entries(props).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: s,
  }));
}

function errorStatuses(spec: RouteSpec): number[] {
  const statuses = new Set<number>(spec.errors ?? []);
  statuses.add(400);
  if (spec.role !== 'public') for (const s of [401, 403, 429, 502, 503]) statuses.add(s);
  if (spec.body) statuses.add(413);
  return [...statuses].sort((a, b) => a - b);
}

function operation(spec: RouteSpec): JsonSchema {
  const responses: Record<string, JsonSchema> = {};
  for (const answer of [spec.success, ...(spec.otherSuccess ?? [])]) {
    const content = answer.schema
      ? { [answer.contentType ?? 'application/json']: { schema: jsonSchema(answer.schema, 'output') } }
      : answer.contentType
        ? { [answer.contentType]: { schema: { type: 'string' } } }
        : undefined;
    responses[String(answer.status)] = { description: answer.description, ...(content ? { content } : {}) };
  }
  for (const status of errorStatuses(spec)) {
    responses[String(status)] = {
      description: ERROR_DESCRIPTIONS[status] ?? 'Error',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  const headerParams = (spec.headers ?? []).map((h) => ({
    name: h.name,
    in: 'header',
    required: false,
    description: h.description,
    schema: { type: 'string' },
  }));
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: [spec.tag],
    security: spec.role === 'public' ? [] : [{ bearerAuth: [] }],
    ...(spec.role !== 'public' ? { 'x-overseer-role': spec.role } : {}),
    parameters: [...parameters(spec.params, 'path'), ...parameters(spec.query, 'query'), ...headerParams],
    ...(spec.body
      ? {
          requestBody: {
            required: !spec.bodyOptional,
            content: { 'application/json': { schema: jsonSchema(spec.body, 'input') } },
          },
        }
      : {}),
    responses,
  };
}

const TAG_DESCRIPTIONS: Record<string, string> = {
  overview: 'The core’s state, fleet counts and health checks',
  vms: 'Guests (QEMU VMs and LXC containers) as the core knows them, and their snapshots',
  backups: 'Backup jobs and each guest’s newest backup, read from the platform',
  labs: 'Multi-guest labs with their networks: plans of lab files',
  hosts: 'Proxmox nodes',
  requests: 'Requests: submitted, gated, approved, executed',
  sync: 'Reconciliation with the platform',
  events: 'Every state change, decision and incident, as Server-Sent Events',
  tokens: 'API tokens (admin)',
  audit: 'The tamper-evident audit log (admin)',
  incidents: 'Incidents, their timelines and the requests they caused',
  maintenance: 'Maintenance windows and silences: what Overseer leaves alone, and until when',
  meta: 'Liveness, metrics and this document: public',
};

export function buildOpenApiDocument(routes: readonly RouteSpec[]): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const spec of routes) {
    const path = openApiPath(spec.path);
    paths[path] ??= {};
    paths[path][spec.method] = operation(spec);
  }
  const tags = [...new Set(routes.map((r) => r.tag))].map((name) => ({
    name,
    description: TAG_DESCRIPTIONS[name] ?? `The ${name} routes`,
  }));
  return {
    openapi: '3.1.0',
    info: {
      title: 'Overseer gateway',
      version: '1',
      description:
        'HTTP face of the Overseer core. Roles: observer < operator < admin. Errors are {"error": {code, message, field?}}. ' +
        'Lists answer a page and the total matching (`limit`, `offset`; the audit log pages on with `afterSeq`).',
      license: { name: 'GPL-3.0-or-later', identifier: 'GPL-3.0-or-later' },
    },
    // The gateway does not know the address it is reached at (a proxy may stand in front): paths are relative to
    // wherever this document was fetched from.
    servers: [{ url: '/', description: 'This gateway' }],
    tags,
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'An Overseer API token' } },
      schemas: { Error: jsonSchema(ErrorBodySchema, 'output') },
    },
  };
}
