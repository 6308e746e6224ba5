// GET /openapi.json is generated from the route table and its zod schemas.
import { describe, expect, it } from 'vitest';
import { openApiPath } from '../../gateway/route-table';
import { BULK_ACTIONS, INTERNAL_ACTIONS, NODE_ACTIONS } from '../../machines/types';
import { ACTIONS as ALL_ACTIONS } from '../../protocol';

/** What a person may submit (a lab's own configure requests are not). */
const ACTIONS = ALL_ACTIONS.filter((a) => !INTERNAL_ACTIONS.has(a));

import type { Json } from './setup';
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
      'get /v1/vms/{cluster}/{vmid}/snapshots',
      'get /v1/backups',
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
    expect(variants).toHaveLength(8);
    for (const v of variants) expect(v.additionalProperties).toBe(false);
    for (const action of ACTIONS) expect(JSON.stringify(variants)).toContain(`"${action}"`);
    expect(submit.parameters).toContainEqual(expect.objectContaining({ name: 'Idempotency-Key', in: 'header' }));
    const vms = doc.paths['/v1/vms']!.get as { parameters: { name: string }[] };
    expect(vms.parameters.map((p) => p.name)).toEqual(['cluster', 'node', 'type', 'state', 'tag', 'limit', 'offset']);
  });

  // What `npx @redocly/cli lint` checks with its recommended rules (it passes on this document: no errors, no
  // warnings), kept here so the document cannot drift back: servers, license, and per operation an operationId, a
  // summary, a tag that is described, a 2xx and a 4xx response.
  it('openapi - the document passes redocly’s recommended rules: servers, license, ids, summaries, 4xx answers', async () => {
    const gw = setupGateway();
    const doc = (await (await gw.call('GET', '/openapi.json')).json()) as Doc & {
      servers?: { url: string }[];
      tags?: { name: string; description?: string }[];
      info: { license?: { name: string; identifier?: string } };
    };
    expect(doc.servers).toEqual([{ url: '/', description: expect.any(String) }]);
    expect(doc.info.license).toEqual({ name: 'GPL-3.0-or-later', identifier: 'GPL-3.0-or-later' });
    const described = new Map((doc.tags ?? []).map((t) => [t.name, t.description]));
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method} ${path}`;
        expect(op.operationId, where).toMatch(/^[A-Za-z]+$/);
        expect(typeof op.summary === 'string' && (op.summary as string).length > 0, where).toBe(true);
        for (const tag of op.tags as string[]) expect(described.get(tag), `${where} tag ${tag}`).toBeTruthy();
        const statuses = Object.keys(op.responses as object);
        expect(
          statuses.some((s) => /^2\d\d$/.test(s)),
          where,
        ).toBe(true);
        expect(
          statuses.some((s) => /^4\d\d$/.test(s)),
          where,
        ).toBe(true);
      }
    }
  });

  it('openapi - every list pages (limit with offset, or a cursor) and answers the total (or the next cursor)', async () => {
    const gw = setupGateway();
    const doc = (await (await gw.call('GET', '/openapi.json')).json()) as Doc;
    const lists: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      const op = ops.get as
        | { parameters?: { name: string }[]; responses: Record<string, { content?: Record<string, { schema: Json }> }> }
        | undefined;
      const schema = op?.responses['200']?.content?.['application/json']?.schema;
      if (!op || schema?.properties?.items?.type !== 'array') continue;
      lists.push(path);
      const params = (op.parameters ?? []).map((p) => p.name);
      expect(params, path).toContain('limit');
      expect(params.includes('offset') || params.includes('afterSeq'), path).toBe(true);
      const answers = Object.keys(schema.properties);
      expect(answers.includes('total') || answers.includes('next'), path).toBe(true);
    }
    expect(lists).toEqual(expect.arrayContaining(['/v1/vms', '/v1/hosts', '/v1/requests', '/v1/tokens', '/v1/audit']));
  });

  it('openapi - a request’s target is documented as the object it is in and out (the old string: deprecated)', async () => {
    const gw = setupGateway();
    const doc = (await (await gw.call('GET', '/openapi.json')).json()) as Json;
    const variants = doc.paths['/v1/requests'].post.requestBody.content['application/json'].schema.oneOf as Json[];
    const stop = variants.find((v) => JSON.stringify(v.properties.action).includes('"stop"'));
    const [object, legacy] = stop.properties.target.anyOf as Json[];
    // One guest or a selector (exactly one of the two: the gateway answers 400 otherwise).
    expect(object).toMatchObject({ type: 'object', required: ['cluster'], additionalProperties: false });
    expect(Object.keys(object.properties)).toEqual(['cluster', 'vmid', 'selector']);
    expect(legacy).toMatchObject({ type: 'string', deprecated: true });
    const view = doc.paths['/v1/requests/{id}'].get.responses['200'].content['application/json'].schema;
    expect(view.properties.target).toMatchObject({ type: 'object', required: ['cluster'] });
    expect(Object.keys(view.properties.target.properties)).toEqual(['cluster', 'vmid', 'selector', 'node']);
  });
  it('openapi - fleet actions: every action’s params and target form, selectors, dryRun, members, the new reads', async () => {
    const gw = setupGateway();
    const doc = (await (await gw.call('GET', '/openapi.json')).json()) as Json;
    const submit = doc.paths['/v1/requests'].post;
    const variants = submit.requestBody.content['application/json'].schema.oneOf as Json[];
    const variantOf = (action: string) => {
      const found = variants.filter((v) => JSON.stringify(v.properties.action).includes(`"${action}"`));
      expect(found, action).toHaveLength(1);
      return found[0];
    };
    for (const v of variants) expect(v.properties.dryRun).toMatchObject({ type: 'boolean' });
    // Every action that may name a selector documents it; the node actions name a node and nothing else.
    for (const action of ACTIONS) {
      const target = variantOf(action).properties.target;
      const forms = (target.anyOf ?? [target]) as Json[];
      const props = forms.flatMap((f) => Object.keys(f.properties ?? {}));
      expect(props.includes('selector'), action).toBe(BULK_ACTIONS.has(action));
      if (NODE_ACTIONS.has(action)) expect(target).toMatchObject({ required: ['cluster', 'node'] });
    }
    const migrate = variantOf('migrate').properties.params;
    expect(migrate).toMatchObject({ required: ['target'], additionalProperties: false });
    expect(Object.keys(migrate.properties)).toEqual(['target', 'online', 'withLocalDisks']);
    for (const action of ['rollback', 'delsnapshot']) {
      expect(variantOf(action).properties.params).toMatchObject({ required: ['snapname'] });
    }
    expect(Object.keys(variantOf('drain').properties.params.properties)).toEqual(['concurrency']);
    expect(submit.parameters).toContainEqual(expect.objectContaining({ name: 'dryRun', in: 'query' }));
    const created = submit.responses['201'].content['application/json'].schema;
    expect(Object.keys(created.properties)).toEqual(expect.arrayContaining(['id', 'decision', 'members']));
    const dry = submit.responses['200'].content['application/json'].schema;
    expect(dry.properties.dryRun).toMatchObject({ const: true });
    expect(dry.properties.members.items.required).toEqual(['vmid', 'action', 'params']);

    const view = doc.paths['/v1/requests/{id}'].get.responses['200'].content['application/json'].schema;
    expect(Object.keys(view.properties)).toEqual(expect.arrayContaining(['parent', 'members']));
    const vm = doc.paths['/v1/vms'].get.responses['200'].content['application/json'].schema.properties.items.items;
    expect(vm.properties.type).toMatchObject({ enum: ['qemu', 'lxc'] });
    expect(vm.properties.pool).toMatchObject({ type: 'string' });
    const snapshots = doc.paths['/v1/vms/{cluster}/{vmid}/snapshots'].get;
    expect(snapshots['x-overseer-role']).toBe('observer');
    const snapshot = snapshots.responses['200'].content['application/json'].schema.properties.items.items;
    expect(Object.keys(snapshot.properties)).toEqual(['name', 'description', 'snaptime', 'parent']);
    const backups = doc.paths['/v1/backups'].get;
    expect(backups['x-overseer-role']).toBe('observer');
    expect(backups.parameters.map((p: { name: string }) => p.name)).toEqual(['cluster', 'vmid']);
    const reply = backups.responses['200'].content['application/json'].schema;
    expect(Object.keys(reply.properties)).toEqual(['jobs', 'guests', 'failedStorages']);
  });
});
