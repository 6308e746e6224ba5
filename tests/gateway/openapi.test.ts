// GET /openapi.json is generated from the route table and its zod schemas.
import { describe, expect, it } from 'vitest';
import { openApiPath } from '../../gateway/route-table';
import { setupGateway } from './setup';

type Doc = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
};

describe('gateway openapi', () => {
  it('openapi - a 3.1 document listing every route with its method', async () => {
    const gw = setupGateway();
    const res = await gw.call('GET', '/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Doc;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe('1');
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    const listed = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    const declared = gw.routes.specs.map((s) => `${s.method} ${openApiPath(s.path)}`);
    expect(listed.sort()).toEqual(declared.sort());
    for (const expected of [
      'get /v1/status',
      'get /v1/summary',
      'get /v1/health',
      'get /v1/vms',
      'get /v1/vms/{cluster}/{vmid}',
      'get /v1/hosts',
      'post /v1/requests',
      'get /v1/requests',
      'get /v1/requests/{id}',
      'post /v1/requests/{id}/approve',
      'post /v1/requests/{id}/deny',
      'post /v1/requests/{id}/cancel',
      'post /v1/sync',
      'get /v1/events',
      'post /v1/tokens',
      'get /v1/tokens',
      'delete /v1/tokens/{id}',
      'get /openapi.json',
      'get /metrics',
    ]) {
      expect(listed).toContain(expected);
    }
  });

  it('openapi - operations are well-formed: ids, path parameters, responses, security', async () => {
    const gw = setupGateway();
    const doc = (await (await gw.call('GET', '/openapi.json')).json()) as Doc;
    const ids = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method} ${path}`;
        expect(typeof op.operationId, where).toBe('string');
        expect(ids.has(op.operationId as string), where).toBe(false);
        ids.add(op.operationId as string);
        const params = (op.parameters ?? []) as { name: string; in: string; required: boolean }[];
        const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        expect(
          params.filter((p) => p.in === 'path').map((p) => p.name),
          where,
        ).toEqual(inPath);
        const responses = op.responses as Record<string, unknown>;
        expect(
          Object.keys(responses).some((s) => s.startsWith('2')),
          where,
        ).toBe(true);
        if (path.startsWith('/v1/')) {
          expect(op.security, where).toEqual([{ bearerAuth: [] }]);
          expect(Object.keys(responses), where).toEqual(expect.arrayContaining(['401', '403', '503']));
        }
      }
    }
  });

  it('openapi - the submit body schema is the one that validates (actions, strict fields)', async () => {
    const gw = setupGateway();
    const doc = (await (await gw.call('GET', '/openapi.json')).json()) as Doc;
    const submit = doc.paths['/v1/requests']!.post as {
      requestBody: { content: { 'application/json': { schema: { oneOf: Record<string, unknown>[] } } } };
      parameters: { name: string; in: string }[];
    };
    const variants = submit.requestBody.content['application/json'].schema.oneOf;
    expect(variants).toHaveLength(4);
    for (const v of variants) expect(v.additionalProperties).toBe(false);
    expect(JSON.stringify(variants)).toContain('"deploy"');
    expect(JSON.stringify(variants)).toContain('"command"');
    expect(submit.parameters).toContainEqual(expect.objectContaining({ name: 'Idempotency-Key', in: 'header' }));
    const vms = doc.paths['/v1/vms']!.get as { parameters: { name: string }[] };
    expect(vms.parameters.map((p) => p.name)).toEqual(['cluster', 'node', 'state', 'tag', 'limit', 'offset']);
  });
});
