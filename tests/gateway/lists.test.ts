// The API's lists and request targets, against the real core on the PVE simulator: every list pages (limit and
// offset, or a cursor) with the total; a filter naming an unknown cluster, node or state is a 400 naming it; request
// ids can be looked up by prefix; a request's target has one shape in and out; /healthz is liveness only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../actors/config';
import { serveCore } from '../../actors/core-service';
import type { MemoryBus } from '../../adapters/nats/memory-bus';
import { createMemoryBus } from '../../adapters/nats/memory-bus';
import type { GatewayApp } from '../../gateway';
import { createGateway } from '../../gateway';
import { createCoreClient } from '../../protocol';
import type { SimStack } from '../helpers/sim-stack';
import { createSimStack } from '../helpers/sim-stack';
import type { Json } from './setup';

let stack: SimStack;
let bus: MemoryBus;
let gateway: GatewayApp;
let stopCore: () => void;
let admin: string;

async function call(method: string, path: string, opts: { body?: unknown; token?: string | null } = {}) {
  const token = opts.token === undefined ? admin : opts.token;
  const res = await gateway.app.request(path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Json };
}

beforeAll(async () => {
  stack = await createSimStack();
  stack.overseer.start();
  await stack.settle();
  bus = createMemoryBus();
  const { clock, overseer, store } = stack;
  stopCore = serveCore({ bus, overseer, store, config: parseConfig({}), clock, startedAt: clock.now() });
  gateway = createGateway({ core: createCoreClient(bus), bus, rateLimit: false, log: { warn() {}, error() {} } });
  admin = store.tokens.create('ada', 'admin', 'test', clock.now()).token;
  for (let i = 0; i < 3; i++) store.tokens.create(`t${i}`, 'observer', 'test', clock.now());
});

afterAll(async () => {
  gateway?.close();
  stopCore?.();
  await bus?.close();
  await stack?.cleanup();
});

describe('api lists', () => {
  it('lists - requests page with limit and offset and say the total; idPrefix finds abbreviated ids', async () => {
    for (const vmid of [101, 102, 103, 104, 114]) {
      const res = await call('POST', '/v1/requests', {
        body: { action: 'snapshot', target: { cluster: 'lab', vmid }, params: { snapname: `s${vmid}` } },
      });
      expect(res.status).toBe(201);
    }
    const all = await call('GET', '/v1/requests');
    expect(all.body.total).toBe(5);
    expect(all.body.items).toHaveLength(5);
    const page = await call('GET', '/v1/requests?limit=2&offset=1');
    expect(page.body.total).toBe(5);
    expect(page.body.items.map((r: Json) => r.id)).toEqual(all.body.items.slice(1, 3).map((r: Json) => r.id));
    const beyond = await call('GET', '/v1/requests?offset=10');
    expect(beyond.body).toEqual({ items: [], total: 5 });
    // Ids r1..r5 here: 'r' is all of them, 'r3' one.
    expect((await call('GET', '/v1/requests?idPrefix=r')).body.total).toBe(5);
    const one = await call('GET', '/v1/requests?idPrefix=r3');
    expect(one.body.total).toBe(1);
    expect(one.body.items[0].id).toBe('r3');
    expect((await call('GET', '/v1/requests?idPrefix=r3&status=completed')).body.total).toBe(0);
    expect((await call('GET', '/v1/requests?idPrefix=r.*')).status).toBe(400);
  });

  it('lists - hosts and tokens page too, with the total', async () => {
    const hosts = await call('GET', '/v1/hosts?limit=1&offset=1');
    expect(hosts.body.items).toHaveLength(1);
    expect(hosts.body.total).toBe((await call('GET', '/v1/hosts')).body.items.length);
    expect(hosts.body.total).toBeGreaterThan(1);
    const tokens = await call('GET', '/v1/tokens?limit=2');
    expect(tokens.body.items).toHaveLength(2);
    expect(tokens.body.total).toBe(4);
    expect((await call('GET', '/v1/tokens?limit=0')).status).toBe(400);
  });

  it('lists - an unknown cluster, node or VM state is a 400 naming the field, not an empty page', async () => {
    for (const [path, field, message] of [
      ['/v1/vms?cluster=nope', 'cluster', "no cluster 'nope' (clusters: lab)"],
      ['/v1/vms?node=pve9', 'node', "no node 'pve9' (nodes: pve1, pve2, pve3)"],
      ['/v1/vms?state=bogus', 'state', /^no VM state 'bogus' \(states: .*running.*\)$/],
      ['/v1/hosts?cluster=nope', 'cluster', "no cluster 'nope' (clusters: lab)"],
    ] as const) {
      const res = await call('GET', path);
      expect(res.status, path).toBe(400);
      expect(res.body.error, path).toMatchObject({ code: 'invalid_input', field, in: 'query' });
      if (typeof message === 'string') expect(res.body.error.message, path).toBe(message);
      else expect(res.body.error.message, path).toMatch(message);
    }
    const known = await call('GET', '/v1/vms?cluster=lab&node=pve1&state=running');
    expect(known.status).toBe(200);
    expect(known.body.total).toBeGreaterThan(0);
  });

  it('lists - requests filter by guest: its own requests and the bulk requests that list it as a member', async () => {
    const submit = async (target: Json, snapname: string) => {
      const res = await call('POST', '/v1/requests', { body: { action: 'snapshot', target, params: { snapname } } });
      expect(res.status).toBe(201);
      expect(res.body.decision, JSON.stringify(res.body.reasons)).toBe('approved');
      await stack.advance(60_000);
      return res.body;
    };
    const bulk = await submit({ cluster: 'lab', selector: '@tag:ci' }, 'all_ci');
    expect(bulk.members.map((m: Json) => m.vmid)).toContain(107);
    const own = await submit({ cluster: 'lab', vmid: 107 }, 'own');
    const other = await submit({ cluster: 'lab', vmid: 111 }, 'other');

    const listed = await call('GET', '/v1/requests?guest=lab/107');
    expect(listed.status).toBe(200);
    const ids = listed.body.items.map((r: Json) => r.id);
    expect(ids).toEqual(expect.arrayContaining([own.id, bulk.id]));
    expect(ids).not.toContain(other.id);
    // Every request listed is about 107: its target, or a bulk request's member; newest first; the total says all.
    for (const r of listed.body.items) {
      expect(r.target.vmid === 107 || r.members?.some((m: Json) => m.vmid === 107), r.id).toBe(true);
    }
    const times = listed.body.items.map((r: Json) => r.submittedAt);
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(listed.body.total).toBe(listed.body.items.length);
    // The bulk request's own child for 107 is listed too (its target is the guest).
    expect(listed.body.items.some((r: Json) => r.parent === bulk.id && r.target.vmid === 107)).toBe(true);

    const page = await call('GET', '/v1/requests?guest=lab/107&limit=1&offset=1');
    expect(page.body).toMatchObject({ total: listed.body.total, items: [{ id: ids[1] }] });
    const filtered = await call('GET', `/v1/requests?guest=lab/107&idPrefix=${own.id}`);
    expect(filtered.body.items.map((r: Json) => r.id)).toEqual([own.id]);
    expect((await call('GET', '/v1/requests?guest=lab/999')).body).toEqual({ items: [], total: 0 });
    expect((await call('GET', '/v1/requests?guest=elsewhere/107')).body.total).toBe(0);
    for (const guest of ['lab', 'lab/x', '107', 'lab/107/1']) {
      const bad = await call('GET', `/v1/requests?guest=${guest}`);
      expect(bad.status, guest).toBe(400);
      expect(bad.body.error, guest).toMatchObject({ field: 'guest', in: 'query' });
    }
  });

  it('lists - every page of guests follows one order, kept as guests come and go; filters count every match', async () => {
    const whole = (await call('GET', '/v1/vms')).body;
    const key = (v: Json) => `${v.cluster}/${v.vmid}`;
    const keys = whole.items.map(key);
    const pages: string[] = [];
    for (let offset = 0; offset < whole.total; offset += 4) {
      const page = await call('GET', `/v1/vms?limit=4&offset=${offset}`);
      expect(page.body.total).toBe(whole.total);
      pages.push(...page.body.items.map(key));
    }
    expect(pages).toEqual(keys);
    expect(whole.items.map((v: Json) => v.vmid)).toEqual(
      [...whole.items.map((v: Json) => v.vmid)].sort((a, b) => a - b),
    );
    // Filters: a page of the matches, and the total of all of them.
    const running = whole.items.filter((v: Json) => v.state === 'running' && v.node === 'pve1').map(key);
    const filtered = await call('GET', '/v1/vms?node=pve1&state=running&limit=2&offset=1');
    expect(filtered.body.total).toBe(running.length);
    expect(filtered.body.items.map(key)).toEqual(running.slice(1, 3));
    const web = whole.items.filter((v: Json) => v.tags.includes('web') && v.type === 'lxc').map(key);
    const tagged = await call('GET', '/v1/vms?tag=web&type=lxc');
    expect(tagged.body.items.map(key)).toEqual(web);

    // A guest comes (in the middle of the order) and goes: the pages follow at once.
    const view = stack.overseer.view;
    const model = view.vms.get('lab/104')!;
    view.setVm({ ...model, vmid: 104_5, name: 'newcomer' });
    try {
      const after = (await call('GET', '/v1/vms?cluster=lab')).body;
      expect(after.total).toBe(whole.total + 1);
      const at = after.items.findIndex((v: Json) => v.vmid === 104_5);
      expect(after.items[at - 1].vmid).toBeLessThan(104_5);
      expect((await call('GET', `/v1/vms?limit=1&offset=${at}`)).body.items[0].name).toBe('newcomer');
    } finally {
      view.removeVm('lab', 104_5);
    }
    expect((await call('GET', '/v1/vms')).body.items.map(key)).toEqual(keys);
  });

  it('request view - every status change names who caused it: a token by its name, Overseer as overseer', async () => {
    const created = await call('POST', '/v1/requests', {
      body: { action: 'snapshot', target: { cluster: 'lab', vmid: 113 }, params: { snapname: 'named' } },
    });
    await stack.advance(60_000);
    const shown = (await call('GET', `/v1/requests/${created.body.id}`)).body;
    const history = shown.history as Json[];
    expect(history.length).toBeGreaterThan(1);
    for (const h of history) {
      if (h.by === undefined) expect(h.byName).toBeUndefined();
      else expect(h.byName, JSON.stringify(h)).toBe(h.by === 'overseer' ? 'overseer' : 'ada');
    }
    expect(history[0]).toMatchObject({ by: shown.requester.id, byName: 'ada' });
    const listed = (await call('GET', '/v1/requests?guest=lab/113')).body.items.find((r: Json) => r.id === shown.id);
    expect(listed.history).toEqual(history);
  });
});

describe('api request target', () => {
  it('target - one shape in and out: {cluster, vmid}; the old string is still read as that object', async () => {
    const sent = { action: 'snapshot', target: { cluster: 'lab', vmid: 101 }, params: { snapname: 'obj' } };
    const created = await call('POST', '/v1/requests', { body: sent });
    expect(created.status).toBe(201);
    const shown = await call('GET', `/v1/requests/${created.body.id}`);
    expect(shown.body.target).toEqual(sent.target);
    const legacy = await call('POST', '/v1/requests', {
      body: { action: 'snapshot', target: 'lab/101', params: { snapname: 'str' } },
    });
    expect((await call('GET', `/v1/requests/${legacy.body.id}`)).body.target).toEqual({ cluster: 'lab', vmid: 101 });
    const deploy = await call('POST', '/v1/requests', {
      body: { action: 'deploy', target: { cluster: 'lab' }, params: { template: 9000, node: 'pve1', name: 'x' } },
    });
    expect((await call('GET', `/v1/requests/${deploy.body.id}`)).body.target).toEqual({ cluster: 'lab' });
    for (const target of [{ cluster: 'lab' }, { cluster: 'lab', vmid: '101' }, { cluster: 'lab', vmid: 101, x: 1 }]) {
      const bad = await call('POST', '/v1/requests', { body: { action: 'stop', target } });
      expect(bad.status, JSON.stringify(target)).toBe(400);
      expect(bad.body.error.field).toMatch(/^target\b/);
    }
    const badDeploy = await call('POST', '/v1/requests', {
      body: {
        action: 'deploy',
        target: { cluster: 'lab', vmid: 1 },
        params: { template: 9000, node: 'pve1', name: 'x' },
      },
    });
    expect(badDeploy.body.error.field).toMatch(/^target\b/);
  });
});

describe('api liveness', () => {
  it('healthz - public liveness for load balancers: no token, nothing but the status; details stay behind a token', async () => {
    const live = await call('GET', '/healthz', { token: null });
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'ok' });
    expect((await call('GET', '/v1/health', { token: null })).status).toBe(401);
    expect((await call('GET', '/v1/health')).body.checks.length).toBeGreaterThan(0);
    // No core call: it answers while the core is away, and says 503 only while NATS itself is.
    stopCore();
    expect((await call('GET', '/healthz', { token: null })).status).toBe(200);
    bus.simulateDisconnect();
    try {
      const down = await call('GET', '/healthz', { token: null });
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).toMatch(/^\d+$/);
    } finally {
      bus.simulateReconnect();
      stopCore = serveCore({
        bus,
        overseer: stack.overseer,
        store: stack.store,
        config: parseConfig({}),
        clock: stack.clock,
        startedAt: stack.clock.now(),
      });
    }
  });
});
