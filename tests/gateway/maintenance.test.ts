// /v1/maintenance and /v1/silences through app.request() with the fake core (whose maintenance handlers are the real
// ones, on an in-memory store): start, list, end; add, list, remove; audited as the token's owner; bad input is a 400
// naming the field; ending twice is a 409.
import { afterEach, describe, expect, it } from 'vitest';
import type { TestGateway } from './setup';
import { errorOf, setupGateway } from './setup';

const NOW = 1_700_000_000_000;

describe('gateway maintenance', () => {
  let gw: TestGateway | undefined;
  afterEach(() => {
    gw?.core.stop();
    return gw?.bus.close();
  });

  it('maintenance - an operator starts a window; it is listed, audited as them, published and on the live view', async () => {
    gw = setupGateway();
    const res = await gw.call('POST', '/v1/maintenance', {
      token: gw.core.tokens.operator,
      body: { scope: 'guest', target: 'lab/101', durationSeconds: 7200, reason: 'disk swap' },
    });
    expect(res.status).toBe(201);
    const window = await res.json();
    expect(window).toMatchObject({
      scope: 'guest',
      target: 'lab/101',
      from: NOW,
      until: NOW + 7_200_000,
      reason: 'disk swap',
      by: 'tok2',
      byName: 'oscar',
      state: 'active',
    });
    expect(window.id).toMatch(/^m-[0-9a-f]{8}$/);

    const list = await (await gw.call('GET', '/v1/maintenance', { token: gw.core.tokens.observer })).json();
    expect(list).toMatchObject({ total: 2, offset: 0 });
    expect(list.items.map((w: { id: string }) => w.id)).toEqual(['m-seeded', window.id]);

    const { store, view, published } = gw.core.maintenance;
    expect(store.audit.list({ kind: 'maintenance.started' })).toMatchObject([
      { actor: 'tok2', data: { id: window.id, target: 'lab/101' } },
    ]);
    expect(published).toMatchObject([
      { subject: 'overseer.evt.loop.monitor.maintenance', payload: { type: 'maintenance.started' } },
    ]);
    expect(view.maintenance.windows(NOW).map((w) => w.id)).toContain(window.id);
  });

  it('maintenance - ending a window is audited; it leaves the current list, stays in ?all=true, and ends once', async () => {
    gw = setupGateway();
    const token = gw.core.tokens.operator;
    const ended = await gw.call('DELETE', '/v1/maintenance/m-seeded', { token });
    expect(ended.status).toBe(200);
    expect(await ended.json()).toMatchObject({ id: 'm-seeded', state: 'ended', endedAt: NOW, endedBy: 'tok2' });
    expect((await (await gw.call('GET', '/v1/maintenance', { token })).json()).total).toBe(0);
    const all = await (await gw.call('GET', '/v1/maintenance?all=true', { token })).json();
    expect(all).toMatchObject({ total: 1, items: [{ id: 'm-seeded', state: 'ended' }] });
    expect(gw.core.maintenance.view.maintenance.windows(NOW)).toEqual([]);
    expect(gw.core.maintenance.store.audit.list({ kind: 'maintenance.ended' })).toMatchObject([{ actor: 'tok2' }]);

    const again = await gw.call('DELETE', '/v1/maintenance/m-seeded', { token });
    expect(again.status).toBe(409);
    expect((await errorOf(again)).message).toBe('maintenance window m-seeded is already over (ended)');
    const missing = await gw.call('DELETE', '/v1/maintenance/m-nope', { token });
    expect(missing.status).toBe(404);
  });

  it('maintenance - node and tag scopes; a target the inventory does not know is a 400 naming the field', async () => {
    gw = setupGateway();
    const token = gw.core.tokens.operator;
    const start = (body: object) => gw!.call('POST', '/v1/maintenance', { token, body });
    const base = { durationSeconds: 600, reason: 'work' };
    expect((await start({ ...base, scope: 'node', target: 'lab/pve1' })).status).toBe(201);
    expect((await start({ ...base, scope: 'tag', target: 'web' })).status).toBe(201);

    const cases: [object, string, string][] = [
      [{ ...base, scope: 'guest', target: 'lab/999' }, 'target', 'no guest lab/999 in the inventory'],
      [{ ...base, scope: 'node', target: 'lab/pve9' }, 'target', 'no node lab/pve9 in the inventory'],
      [{ ...base, scope: 'tag', target: 'nosuchtag' }, 'target', "no guest carries the tag 'nosuchtag'"],
      [{ ...base, scope: 'guest', target: 'other/101' }, 'target', "no cluster 'other'"],
      [{ ...base, scope: 'node', target: 'pve1' }, 'target', "a node is '<cluster>/<node>'"],
      [{ scope: 'guest', target: 'lab/101', reason: 'x' }, 'durationSeconds', 'exactly one of durationSeconds'],
      [{ ...base, scope: 'guest', target: 'lab/101', durationSeconds: 31 * 86_400 }, 'durationSeconds', ''],
      [{ scope: 'guest', target: 'lab/101', until: NOW - 1, reason: 'x' }, 'until', 'must be in the future'],
      [{ ...base, scope: 'guest', target: 'lab/101', reason: '   ' }, 'reason', ''],
      [{ ...base, scope: 'vm', target: 'lab/101' }, 'scope', ''],
    ];
    for (const [body, field, message] of cases) {
      const res = await start(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const error = await errorOf(res);
      expect(error.field, JSON.stringify(body)).toBe(field);
      expect(error.message).toContain(message);
    }
  });

  it('maintenance - an observer may list but not start or end (403)', async () => {
    gw = setupGateway();
    const token = gw.core.tokens.observer;
    const body = { scope: 'guest', target: 'lab/101', durationSeconds: 60, reason: 'x' };
    expect((await gw.call('POST', '/v1/maintenance', { token, body })).status).toBe(403);
    expect((await gw.call('DELETE', '/v1/maintenance/m-seeded', { token })).status).toBe(403);
    expect((await gw.call('GET', '/v1/maintenance', { token })).status).toBe(200);
  });

  it('silences - add, list and remove one kind on one guest; only guest kinds are accepted', async () => {
    gw = setupGateway();
    const token = gw.core.tokens.operator;
    const added = await gw.call('POST', '/v1/silences', {
      token,
      body: { kind: 'vm-unexpected-stop', guest: 'lab/102', durationSeconds: 600, reason: 'flaky agent' },
    });
    expect(added.status).toBe(201);
    const silence = await added.json();
    expect(silence).toMatchObject({ kind: 'vm-unexpected-stop', guest: 'lab/102', state: 'active', by: 'tok2' });
    const list = await (await gw.call('GET', '/v1/silences', { token })).json();
    expect(list.items.map((s: { id: string }) => s.id)).toEqual(['s-seeded', silence.id]);

    const removed = await gw.call('DELETE', `/v1/silences/${silence.id}`, { token });
    expect(removed.status).toBe(200);
    expect(await removed.json()).toMatchObject({ state: 'ended', endedBy: 'tok2' });
    expect(gw.core.maintenance.store.audit.list({ kind: 'silence.removed' })).toHaveLength(1);
    expect((await gw.call('DELETE', `/v1/silences/${silence.id}`, { token })).status).toBe(409);

    const hostKind = await gw.call('POST', '/v1/silences', {
      token,
      body: { kind: 'host-offline', guest: 'lab/102', durationSeconds: 600, reason: 'x' },
    });
    expect(hostKind.status).toBe(400);
    expect((await errorOf(hostKind)).field).toBe('kind');
  });
});
