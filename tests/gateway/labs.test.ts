// /v1/labs through app.request() with the fake core (tests/gateway/fake-labs.ts): apply (202, the lab as decided,
// followed to ready by reads), list (live, all, cluster, paging), one lab (404), and the commands approve, deny,
// destroy, snapshot and revert; roles, 404s and bad input (400 naming the field) are the gateway's or the core's.
import { afterEach, describe, expect, it } from 'vitest';
import type { TestGateway } from './setup';
import { errorOf, setupGateway } from './setup';

const file = (name: string, extra: string[] = []): string =>
  [
    `name: ${name}`,
    'cluster: lab',
    'vms:',
    '  - name: app',
    '    template: debian-12',
    '    count: 2',
    ...extra,
    '',
  ].join('\n');

describe('gateway labs', () => {
  let gw: TestGateway | undefined;
  afterEach(() => {
    gw?.core.stop();
    return gw?.bus.close();
  });

  it('labs - an operator applies a lab file: 202 with the lab as decided and its URL; reads follow it to ready', async () => {
    gw = setupGateway();
    const token = gw.core.tokens.operator;
    const res = await gw.call('POST', '/v1/labs', { token, body: { file: file('demo'), fileName: 'demo.yaml' } });
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe('/v1/labs/demo?cluster=lab');
    const lab = await res.json();
    expect(lab).toMatchObject({
      name: 'demo',
      cluster: 'lab',
      status: 'networks',
      decision: 'approved',
      requester: { id: 'tok2', name: 'oscar', role: 'operator' },
      ended: false,
    });
    expect(lab.members.map((m: { name: string; phase: string }) => [m.name, m.phase])).toEqual([
      ['app-1', 'planned'],
      ['app-2', 'planned'],
    ]);

    const seen: string[] = [];
    for (let i = 0; i < 10 && seen.at(-1) !== 'ready'; i++) {
      const read = await gw.call('GET', '/v1/labs/demo', { token: gw.core.tokens.observer });
      expect(read.status).toBe(200);
      const status = (await read.json()).status;
      if (seen.at(-1) !== status) seen.push(status);
    }
    expect(seen).toEqual(['networks', 'cloning', 'configuring', 'starting', 'ready']);
    const ready = await (await gw.call('GET', '/v1/labs/demo?cluster=lab', { token })).json();
    expect(ready.members).toMatchObject([
      { name: 'app-1', phase: 'ready', vmid: 300, node: 'pve1' },
      { name: 'app-2', phase: 'ready', vmid: 301, node: 'pve2' },
    ]);
  });

  it('labs - an observer cannot apply or act on a lab (403) but can plan, list and read; no token is 401', async () => {
    gw = setupGateway();
    const token = gw.core.tokens.observer;
    const refused = await gw.call('POST', '/v1/labs', { token, body: { file: file('demo') } });
    expect(refused.status).toBe(403);
    expect((await errorOf(refused)).code).toBe('forbidden');
    for (const [path, body] of [
      ['/v1/labs/review/approve', {}],
      ['/v1/labs/review/deny', {}],
      ['/v1/labs/web/destroy', {}],
      ['/v1/labs/web/snapshot', { snapshot: 'pre' }],
      ['/v1/labs/web/revert', { snapshot: 'base' }],
    ] as const) {
      expect((await gw.call('POST', path, { token, body })).status, path).toBe(403);
    }
    expect(gw.core.labs.labs.has('lab/demo')).toBe(false);
    expect((await gw.call('POST', '/v1/labs/plan', { token, body: { file: file('demo') } })).status).toBe(200);
    expect((await gw.call('GET', '/v1/labs', { token })).status).toBe(200);
    expect((await gw.call('GET', '/v1/labs/web', { token })).status).toBe(200);
    expect((await gw.call('GET', '/v1/labs')).status).toBe(401);
  });

  it('labs - a bad apply body is a 400 naming the field; a bad file names the problem’s path', async () => {
    gw = setupGateway();
    const token = gw.core.tokens.operator;
    const cases: [unknown, string][] = [
      [{}, 'file'],
      [{ file: '' }, 'file'],
      [{ file: file('demo'), colour: 'blue' }, 'colour'],
      [{ file: file('demo'), fileName: '' }, 'fileName'],
      ['not json', 'body'],
    ];
    for (const [body, field] of cases) {
      const res = await gw.call('POST', '/v1/labs', { token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await errorOf(res), JSON.stringify(body)).toMatchObject({ code: 'invalid_input', field, in: 'body' });
    }
    const empty = await gw.call('POST', '/v1/labs/plan', { token, body: { file: '' } });
    expect((await errorOf(empty)).message).toBe('file: the file is empty');
    const missing = await gw.call('POST', '/v1/labs/plan', { token, body: {} });
    expect((await errorOf(missing)).message).toBe('file: required');
    const bad = await gw.call('POST', '/v1/labs', { token, body: { file: file('demo', ['    colour: blue']) } });
    expect(bad.status).toBe(400);
    const error = await errorOf(bad);
    expect(error).toMatchObject({ field: 'vms[0].colour', in: 'body' });
    expect(error.message).toMatch(/unknown key 'colour'/);
    const elsewhere = await gw.call('POST', '/v1/labs', { token, body: { file: file('demo').replace('lab', 'far') } });
    expect(await errorOf(elsewhere)).toMatchObject({
      field: 'cluster',
      message: "cluster: no cluster 'far' is configured",
    });
  });

  it('labs - the list is the live labs, newest first, with the total; ?live=false adds ended ones; paging', async () => {
    gw = setupGateway();
    const token = gw.core.tokens.observer;
    const names = (body: { items: { name: string }[] }) => body.items.map((l) => l.name);
    const live = await (await gw.call('GET', '/v1/labs', { token })).json();
    expect(live.total).toBe(3);
    expect(names(live)).toEqual(['review', 'draft', 'web']);
    const all = await (await gw.call('GET', '/v1/labs?live=false', { token })).json();
    expect(names(all)).toEqual(['review', 'draft', 'web', 'old']);
    const page = await (await gw.call('GET', '/v1/labs?live=false&limit=1&offset=1', { token })).json();
    expect(page).toMatchObject({ total: 4, items: [{ name: 'draft' }] });
    const elsewhere = await (await gw.call('GET', '/v1/labs?cluster=edge', { token })).json();
    expect(elsewhere).toEqual({ items: [], total: 0 });

    for (const [query, field] of [
      ['live=yes', 'live'],
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['offset=-1', 'offset'],
      ['cluster=', 'cluster'],
      ['colour=red', 'colour'],
    ] as const) {
      const res = await gw.call('GET', `/v1/labs?${query}`, { token });
      expect(res.status, query).toBe(400);
      expect(await errorOf(res), query).toMatchObject({ code: 'invalid_input', field, in: 'query' });
    }
  });

  it('labs - one lab has its members, checks and snapshots; an unknown one is 404, a bad name 400', async () => {
    gw = setupGateway();
    const token = gw.core.tokens.observer;
    const web = await (await gw.call('GET', '/v1/labs/web', { token })).json();
    expect(web).toMatchObject({
      status: 'ready',
      members: [{ name: 'web-1', vmid: 201, node: 'pve1', phase: 'ready' }, { name: 'web-2' }],
      snapshots: [{ name: 'base' }],
    });
    const old = await (await gw.call('GET', '/v1/labs/old', { token })).json();
    expect(old).toMatchObject({ status: 'destroyed', ended: true });

    const missing = await gw.call('GET', '/v1/labs/nope', { token });
    expect(missing.status).toBe(404);
    expect(await errorOf(missing)).toMatchObject({ code: 'not_found', message: 'no lab nope' });
    const elsewhere = await gw.call('GET', '/v1/labs/web?cluster=edge', { token });
    expect(await errorOf(elsewhere)).toMatchObject({ code: 'not_found', message: 'no lab web on cluster edge' });
    const bad = await gw.call('GET', '/v1/labs/-bad-', { token });
    expect(bad.status).toBe(400);
    expect(await errorOf(bad)).toMatchObject({ field: 'name', in: 'path' });
  });

  it('labs - approve: never by its requester (403), by another person; then it deploys', async () => {
    gw = setupGateway();
    const own = await gw.call('POST', '/v1/labs/review/approve', { token: gw.core.tokens.admin2, body: {} });
    expect(own.status).toBe(403);
    expect(await errorOf(own)).toMatchObject({ message: 'the requester cannot approve their own lab' });
    const res = await gw.call('POST', '/v1/labs/review/approve', {
      token: gw.core.tokens.admin,
      body: { reason: 'reviewed' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'networks',
      decision: 'approved',
      approvedBy: { id: 'tok3', reason: 'reviewed' },
    });
    const again = await gw.call('POST', '/v1/labs/review/approve', { token: gw.core.tokens.operator });
    expect(again.status).toBe(409);
    expect(await errorOf(again)).toMatchObject({
      message: 'lab review is networks: it can be approved or denied only when awaiting_approval',
    });
  });

  it('labs - deny: its requester cancels, an admin denies, another operator may not; an unknown lab is 404', async () => {
    gw = setupGateway();
    const cancelled = await gw.call('POST', '/v1/labs/draft/deny', { token: gw.core.tokens.operator });
    expect(await cancelled.json()).toMatchObject({ status: 'cancelled', ended: true });
    const others = await gw.call('POST', '/v1/labs/review/deny', { token: gw.core.tokens.operator });
    expect(others.status).toBe(403);
    expect(await errorOf(others)).toMatchObject({
      message: 'only the requester or an admin may cancel or deny a lab',
    });

    const prod = file('prodlab', ['    tags: [prod]']);
    const applied = await gw.call('POST', '/v1/labs', { token: gw.core.tokens.operator, body: { file: prod } });
    expect(await applied.json()).toMatchObject({
      status: 'awaiting_approval',
      reasons: [expect.stringMatching(/prod/)],
    });
    const denied = await gw.call('POST', '/v1/labs/prodlab/deny', {
      token: gw.core.tokens.admin,
      body: { cluster: 'lab', reason: 'not today' },
    });
    expect(await denied.json()).toMatchObject({ status: 'denied', reasons: ['not today'] });

    const missing = await gw.call('POST', '/v1/labs/nope/deny', { token: gw.core.tokens.admin });
    expect(missing.status).toBe(404);
    expect(await errorOf(missing)).toMatchObject({ message: 'no lab nope' });
    const unknownField = await gw.call('POST', '/v1/labs/review/deny', {
      token: gw.core.tokens.admin,
      body: { why: 'x' },
    });
    expect(await errorOf(unknownField)).toMatchObject({ field: 'why', in: 'body' });
  });

  it('labs - destroy tears a ready lab down (admin, as a guest destroy); an ended lab cannot be destroyed', async () => {
    gw = setupGateway();
    const operator = await gw.call('POST', '/v1/labs/web/destroy', { token: gw.core.tokens.operator });
    expect(operator.status).toBe(403);
    expect(gw.core.labs.labs.get('lab/web')?.view.status).toBe('ready');
    const res = await gw.call('POST', '/v1/labs/web/destroy', { token: gw.core.tokens.admin });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'tearing_down' });
    const done = await (await gw.call('GET', '/v1/labs/web', { token: gw.core.tokens.admin })).json();
    expect(done).toMatchObject({ status: 'tearing_down' });
    const gone = await (await gw.call('GET', '/v1/labs/web', { token: gw.core.tokens.admin })).json();
    expect(gone).toMatchObject({ status: 'destroyed', ended: true, created: [] });
    const old = await gw.call('POST', '/v1/labs/old/destroy', { token: gw.core.tokens.admin });
    expect(old.status).toBe(409);
    expect((await errorOf(old)).message).toBe('lab old has ended (destroyed)');
  });

  it('labs - snapshot and revert: the snapshot name is checked (400 naming snapshot); revert needs a known one', async () => {
    gw = setupGateway();
    const token = gw.core.tokens.operator;
    for (const body of [
      {},
      { snapshot: '' },
      { snapshot: 'pre upgrade' },
      { snapshot: '1st' },
      { snapshot: 'a'.repeat(41) },
    ]) {
      const res = await gw.call('POST', '/v1/labs/web/snapshot', { token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await errorOf(res), JSON.stringify(body)).toMatchObject({ field: 'snapshot', in: 'body' });
    }
    const taken = await gw.call('POST', '/v1/labs/web/snapshot', { token, body: { snapshot: 'pre-upgrade' } });
    expect(taken.status).toBe(200);
    expect(await taken.json()).toMatchObject({ status: 'snapshotting' });
    await gw.call('GET', '/v1/labs/web', { token });
    const after = await (await gw.call('GET', '/v1/labs/web', { token })).json();
    expect(after.status).toBe('ready');
    expect(after.snapshots.map((s: { name: string }) => s.name)).toEqual(['base', 'pre-upgrade']);

    const unknown = await gw.call('POST', '/v1/labs/web/revert', { token, body: { snapshot: 'nope' } });
    expect(unknown.status).toBe(400);
    expect(await errorOf(unknown)).toMatchObject({
      field: 'snapshot',
      message: "snapshot: lab web has no snapshot 'nope' (it has: base, pre-upgrade)",
    });
    const reverted = await gw.call('POST', '/v1/labs/web/revert', { token, body: { snapshot: 'base' } });
    expect(await reverted.json()).toMatchObject({ status: 'reverting' });
    const busy = await gw.call('POST', '/v1/labs/web/snapshot', { token, body: { snapshot: 'later' } });
    expect((await errorOf(busy)).message).toMatch(/is reverting: it can be snapshotted only when ready/);
  });

  it('labs - the OpenAPI document lists every lab route with its role', async () => {
    gw = setupGateway();
    const doc = await (await gw.call('GET', '/openapi.json')).json();
    const op = (path: string, method: string) => doc.paths[path]?.[method];
    expect(op('/v1/labs', 'post')).toMatchObject({ operationId: 'applyLab', 'x-overseer-role': 'operator' });
    expect(op('/v1/labs', 'post').responses['202']).toBeDefined();
    expect(op('/v1/labs', 'get')).toMatchObject({ operationId: 'listLabs', 'x-overseer-role': 'observer' });
    expect(op('/v1/labs/{name}', 'get').responses['404']).toBeDefined();
    for (const word of ['approve', 'deny', 'destroy', 'snapshot', 'revert']) {
      expect(op(`/v1/labs/{name}/${word}`, 'post'), word).toMatchObject({
        operationId: `${word}Lab`,
        'x-overseer-role': word === 'destroy' ? 'admin' : 'operator',
        tags: ['labs'],
      });
    }
    const names = op('/v1/labs', 'get').parameters.map((p: { name: string }) => p.name);
    expect(names).toEqual(['cluster', 'live', 'limit', 'offset']);
  });
});
