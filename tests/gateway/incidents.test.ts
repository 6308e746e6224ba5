// /v1/incidents through app.request() with the fake core: the list (filters, paging, total), one incident with its
// timeline and requests, and a person's acknowledgement and resolution (operator and up; 404, 409).
import { afterEach, describe, expect, it } from 'vitest';
import type { TestGateway } from './setup';
import { errorOf, setupGateway } from './setup';

describe('gateway incidents', () => {
  let gw: TestGateway | undefined;
  afterEach(() => gw?.bus.close());

  it('incidents - the list is newest first, with the total, filtered by state, kind and guest', async () => {
    gw = setupGateway();
    const token = gw.core.tokens.observer;
    const all = await gw.call('GET', '/v1/incidents', { token });
    expect(all.status).toBe(200);
    const body = await all.json();
    expect(body).toMatchObject({ total: 2, limit: 100, offset: 0 });
    expect(body.items.map((i: { id: string }) => i.id)).toEqual(['i1', 'i2']);
    expect(body.items[0]).toMatchObject({ state: 'remediating', severity: 'critical', guest: 'lab/101' });

    const unresolved = await (await gw.call('GET', '/v1/incidents?state=unresolved', { token })).json();
    expect(unresolved.items.map((i: { id: string }) => i.id)).toEqual(['i1']);
    const resolved = await (await gw.call('GET', '/v1/incidents?state=resolved', { token })).json();
    expect(resolved.items.map((i: { id: string }) => i.id)).toEqual(['i2']);
    const byKind = await (await gw.call('GET', '/v1/incidents?kind=host-overload', { token })).json();
    expect(byKind).toMatchObject({ total: 1, items: [{ id: 'i2' }] });
    const byGuest = await (await gw.call('GET', '/v1/incidents?guest=lab/101', { token })).json();
    expect(byGuest).toMatchObject({ total: 1, items: [{ id: 'i1' }] });
  });

  it('incidents - limit and offset page the list; the total counts every page', async () => {
    gw = setupGateway();
    const token = gw.core.tokens.observer;
    const first = await (await gw.call('GET', '/v1/incidents?limit=1', { token })).json();
    expect(first).toMatchObject({ total: 2, limit: 1, offset: 0, items: [{ id: 'i1' }] });
    const second = await (await gw.call('GET', '/v1/incidents?limit=1&offset=1', { token })).json();
    expect(second).toMatchObject({ total: 2, limit: 1, offset: 1, items: [{ id: 'i2' }] });
  });

  it('incidents - a bad filter is a 400 naming the field', async () => {
    gw = setupGateway();
    const token = gw.core.tokens.observer;
    for (const [query, field] of [
      ['state=bogus', 'state'],
      ['guest=lab', 'guest'],
      ['limit=0', 'limit'],
      ['offset=-1', 'offset'],
      ['colour=red', 'colour'],
    ] as const) {
      const res = await gw.call('GET', `/v1/incidents?${query}`, { token });
      expect(res.status, query).toBe(400);
      expect(await errorOf(res), query).toMatchObject({ code: 'invalid_input', field, in: 'query' });
    }
  });

  it('incidents - one incident has its timeline and the requests it caused; an unknown one is 404', async () => {
    gw = setupGateway();
    const token = gw.core.tokens.observer;
    const res = await gw.call('GET', '/v1/incidents/i1', { token });
    expect(res.status).toBe(200);
    const incident = await res.json();
    expect(incident.timeline.map((e: { event: string }) => e.event)).toEqual(['opened', 'remediation']);
    expect(incident.timeline[1]).toMatchObject({ action: 'start', requestId: 'r9' });
    expect(incident.requests).toEqual([expect.objectContaining({ id: 'r9', action: 'start', status: 'executing' })]);
    const missing = await gw.call('GET', '/v1/incidents/nope', { token });
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).message).toBe('no incident nope');
  });

  it('incidents - an operator acknowledges once (with a note), then 409; the ack names the token owner', async () => {
    gw = setupGateway();
    const token = gw.core.tokens.operator;
    const res = await gw.call('POST', '/v1/incidents/i1/ack', { token, body: { note: 'on it' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      id: 'i1',
      state: 'remediating',
      acknowledged: { by: 'tok2', name: 'oscar', note: 'on it' },
    });
    const again = await gw.call('POST', '/v1/incidents/i1/ack', { token: gw.core.tokens.admin });
    expect(again.status).toBe(409);
    expect((await errorOf(again)).message).toContain('already acknowledged by oscar');
  });

  it('incidents - resolve closes it; resolving again or acknowledging a resolved one is 409; unknown is 404', async () => {
    gw = setupGateway();
    const token = gw.core.tokens.operator;
    const res = await gw.call('POST', '/v1/incidents/i1/resolve', { token, body: { note: 'VM retired' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      state: 'resolved',
      resolvedBy: { by: 'tok2', name: 'oscar' },
      outcome: 'resolved by oscar: VM retired',
    });
    expect((await gw.call('POST', '/v1/incidents/i1/resolve', { token })).status).toBe(409);
    expect((await gw.call('POST', '/v1/incidents/i2/ack', { token })).status).toBe(409);
    expect((await gw.call('POST', '/v1/incidents/nope/resolve', { token })).status).toBe(404);
  });

  it('incidents - an observer may read but not acknowledge (403); a bad note is 400', async () => {
    gw = setupGateway();
    const res = await gw.call('POST', '/v1/incidents/i1/ack', { token: gw.core.tokens.observer });
    expect(res.status).toBe(403);
    const long = await gw.call('POST', '/v1/incidents/i1/ack', {
      token: gw.core.tokens.operator,
      body: { note: 'x'.repeat(1001) },
    });
    expect(long.status).toBe(400);
    expect(await errorOf(long)).toMatchObject({ field: 'note', in: 'body' });
    expect(gw.core.incidents.items.get('i1')?.acknowledged).toBeUndefined();
  });

  it('incidents - the routes are in the OpenAPI document', async () => {
    gw = setupGateway();
    const doc = await (await gw.call('GET', '/openapi.json')).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/incidents',
        '/v1/incidents/{id}',
        '/v1/incidents/{id}/ack',
        '/v1/incidents/{id}/resolve',
      ]),
    );
  });
});
