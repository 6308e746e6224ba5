// Incidents where people look, over the real core: the PVE simulator over HTTP, the Overseer runtime on a SQLite file,
// the core's responder on a real nats-server, and the gateway in front (app.request()). A VM crashes and its start
// keeps failing: the incident shows in the list and with its timeline and remediation request; a person acknowledges
// and resolves it, audited as them. And the summary the health loop publishes carries what /metrics renders.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../actors/config';
import { serveCore } from '../../actors/core-service';
import type { NatsBus } from '../../adapters/nats';
import { connectBus } from '../../adapters/nats';
import type { GatewayApp } from '../../gateway';
import { createGateway } from '../../gateway';
import { createCoreClient } from '../../protocol';
import { startNatsServer, type TestNatsServer } from '../helpers/nats-server';
import { createSimStack, type SimStack } from '../helpers/sim-stack';
import { createStack, settle } from '../resilience/stack';

// biome-ignore lint/suspicious/noExplicitAny: the test reads JSON answers loosely and asserts their shape
type Json = any;

let stack: SimStack;
let nats: TestNatsServer;
let coreBus: NatsBus;
let gatewayBus: NatsBus;
let gateway: GatewayApp;
let stopServing: () => void;
const tokens: Record<'observer' | 'olga' | 'ada', { id: string; token: string }> = {} as never;

const call = async (
  method: string,
  path: string,
  who: keyof typeof tokens,
  body?: unknown,
): Promise<{ status: number; json: Json }> => {
  const res = await gateway.app.request(path, {
    method,
    headers: {
      authorization: `Bearer ${tokens[who].token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: await res.json() };
};

/** The crash incident of lab/101 (unresolved), as stored. */
const crashIncident = () =>
  stack.store.incidents
    .list({ subject: 'vm:lab/101', kind: 'vm-unexpected-stop' })
    .find((i) => i.status !== 'resolved' && i.actions.some((a) => a.requestId));

beforeAll(async () => {
  stack = await createSimStack({ taskDurations: { qmstart: 1000 } });
  stack.overseer.start();
  await stack.settle();
  nats = await startNatsServer({ jetstream: false });
  coreBus = await connectBus({ servers: nats.url, name: 'incidents-core' });
  gatewayBus = await connectBus({ servers: nats.url, name: 'incidents-gateway' });
  const { store, overseer, clock } = stack;
  for (const [name, role] of [
    ['observer', 'observer'],
    ['olga', 'operator'],
    ['ada', 'admin'],
  ] as const) {
    const { record, token } = store.tokens.create(name, role, 'test', clock.now());
    tokens[name] = { id: record.id, token };
  }
  stopServing = serveCore({
    bus: coreBus,
    overseer,
    store,
    config: parseConfig({}),
    clock,
    startedAt: clock.now(),
  });
  await coreBus.nc.flush();
  gateway = createGateway({ core: createCoreClient(gatewayBus), bus: gatewayBus, rateLimit: false });

  // The VM dies without a task, and every start Overseer tries fails: the incident stays unresolved.
  stack.sim.faults.failTasks('qmstart', 20, 'simulated: the start failed');
  stack.sim.faults.crashVm(101);
  const seen = await stack.advanceUntil(() => crashIncident() !== undefined, 60_000);
  if (!seen) throw new Error('no incident with a remediation request for lab/101');
}, 60_000);

afterAll(async () => {
  gateway?.close();
  stopServing?.();
  await gatewayBus?.close();
  await coreBus?.close();
  await nats?.stop();
  await stack?.cleanup();
});

describe('runtime - incidents over the real core', () => {
  it('incidents - the crash shows in the list, filtered by guest and state, with the total', async () => {
    const { status, json } = await call('GET', '/v1/incidents?guest=lab/101&state=unresolved', 'observer');
    expect(status).toBe(200);
    const id = crashIncident()?.id;
    expect(json.total).toBeGreaterThanOrEqual(1);
    expect(json.items).toContainEqual(
      expect.objectContaining({ id, kind: 'vm-unexpected-stop', guest: 'lab/101', severity: 'critical' }),
    );
    const none = await call('GET', '/v1/incidents?guest=lab/102', 'observer');
    expect(none.json).toMatchObject({ items: [], total: 0 });
  });

  it('incidents - one incident has its timeline and the remediation request it caused', async () => {
    const incident = crashIncident();
    const requestId = incident?.actions.find((a) => a.requestId)?.requestId;
    const { status, json } = await call('GET', `/v1/incidents/${incident?.id}`, 'observer');
    expect(status).toBe(200);
    expect(json.timeline[0]).toMatchObject({ event: 'opened', detail: 'critical vm-unexpected-stop on vm:lab/101' });
    expect(json.timeline).toContainEqual(expect.objectContaining({ event: 'remediation', action: 'start', requestId }));
    expect(json.requests).toContainEqual(
      expect.objectContaining({ id: requestId, action: 'start', target: { cluster: 'lab', vmid: 101 } }),
    );
    expect((await call('GET', '/v1/incidents/nope', 'observer')).status).toBe(404);
  });

  it('incidents - status counts the open incidents by severity', async () => {
    const { json } = await call('GET', '/v1/status', 'observer');
    expect(json.incidents.open).toBeGreaterThanOrEqual(1);
    expect(json.incidents.bySeverity.critical).toBeGreaterThanOrEqual(1);
  });

  it('incidents - an operator acknowledges it: the live actor records who, audited as them, paging stops', async () => {
    const id = crashIncident()?.id as string;
    expect((await call('POST', `/v1/incidents/${id}/ack`, 'observer')).status).toBe(403);
    const ack = await call('POST', `/v1/incidents/${id}/ack`, 'olga', { note: 'looking at the disk' });
    expect(ack.status).toBe(200);
    expect(ack.json.acknowledged).toMatchObject({ by: tokens.olga.id, name: 'olga', note: 'looking at the disk' });
    // The live actor has it (so does the store, kept in step with it).
    const live = stack.overseer.monitor.incidents.get(id)?.getSnapshot().context.actions ?? [];
    expect(live).toContainEqual(expect.objectContaining({ action: 'acknowledge', by: tokens.olga.id }));
    const rows = stack.store.audit.list({ kind: 'incident.acknowledged' });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor: tokens.olga.id, data: { incidentId: id, by: tokens.olga.id } });
    expect((await call('POST', `/v1/incidents/${id}/ack`, 'ada')).status).toBe(409);

    // From now on this incident pages no one, though Overseer keeps trying.
    const paged = stack.lines.filter((l) => l.includes(' ! ')).length;
    await stack.advance(60_000);
    const after = stack.store.incidents.get(id);
    expect(after?.status).not.toBe('resolved');
    const notices = stack.store.audit.list({ kind: 'incident.remediationFailed' }).filter((r) => {
      const data = r.data as { incidentId?: string; acknowledgedBy?: string };
      return data.incidentId === id && data.acknowledgedBy !== undefined;
    });
    expect(notices.length).toBeGreaterThanOrEqual(1);
    const newPages = stack.lines.filter((l) => l.includes(' ! ')).slice(paged);
    expect(newPages.filter((l) => l.includes('remediationFailed'))).toEqual([]);
  }, 60_000);

  it('incidents - an operator resolves it: audited as them, a second resolve is 409', async () => {
    const id = crashIncident()?.id as string;
    const res = await call('POST', `/v1/incidents/${id}/resolve`, 'olga', { note: 'replacing the VM' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      id,
      state: 'resolved',
      resolvedBy: { by: tokens.olga.id, name: 'olga' },
      outcome: 'resolved by olga: replacing the VM',
    });
    expect(stack.store.incidents.get(id)?.status).toBe('resolved');
    const rows = stack.store.audit.list({ kind: 'incident.resolved' }).filter((r) => r.actor === tokens.olga.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.data).toMatchObject({ incidentId: id, by: tokens.olga.id });
    const again = await call('POST', `/v1/incidents/${id}/resolve`, 'ada');
    expect(again.status).toBe(409);
    expect(again.json.error.message).toContain('already resolved');
    const detail = await call('GET', `/v1/incidents/${id}`, 'observer');
    expect(detail.json.timeline.at(-1)).toMatchObject({ event: 'resolved', by: tokens.olga.id, byName: 'olga' });
    const resolved = await call('GET', '/v1/incidents?state=resolved&guest=lab/101', 'observer');
    expect(resolved.json.items.map((i: { id: string }) => i.id)).toContain(id);
  });

  it('incidents - one stored unresolved with no live actor is acknowledged and resolved in the store, audited', async () => {
    const { store, clock, overseer } = stack;
    store.incidents.open({
      id: 'i-orphan',
      kind: 'host-offline',
      subject: 'host:lab/pve3',
      dedupeKey: 'host-offline:host:lab/pve3',
      severity: 'warning',
      detail: 'node pve3 is offline',
      openedAt: clock.now(),
    });
    expect(overseer.monitor.incidents.get('i-orphan')).toBeUndefined();
    const ack = await call('POST', '/v1/incidents/i-orphan/ack', 'ada');
    expect(ack.status).toBe(200);
    expect(ack.json).toMatchObject({ state: 'open', acknowledged: { by: tokens.ada.id, name: 'ada' } });
    const res = await call('POST', '/v1/incidents/i-orphan/resolve', 'ada', { note: 'node retired' });
    expect(res.json).toMatchObject({ state: 'resolved', outcome: 'resolved by ada: node retired' });
    const rows = stack.store.audit
      .list()
      .filter((r) => (r.data as { incidentId?: string }).incidentId === 'i-orphan')
      .map((r) => [r.kind, r.actor]);
    expect(rows).toEqual([
      ['incident.acknowledged', tokens.ada.id],
      ['incident.resolved', tokens.ada.id],
    ]);
  });
});

describe('runtime - the published summary', () => {
  it('summary - the health loop publishes heartbeats, open incidents, quorum and node states; /metrics shows them', async () => {
    const s = createStack();
    try {
      s.store.incidents.open({
        id: 'i-disk',
        kind: 'host-disk-full',
        subject: 'host:lab/pve1',
        dedupeKey: 'host-disk-full:host:lab/pve1',
        severity: 'warning',
        detail: 'disk',
        openedAt: s.clock.now(),
      });
      const healthMs = parseConfig({}).loops.healthIntervalSeconds * 1000;
      for (let t = 0; t < healthMs + 1000; t += 1000) {
        s.clock.advance(1000);
        await settle();
      }
      const published = s.bus.published.filter((m) => m.subject.endsWith('.loop.health.summary'));
      expect(published.length).toBeGreaterThanOrEqual(1);
      const summary = published.at(-1)?.payload as Json;
      expect(summary.at).toBe(s.clock.now());
      expect(summary.loops.map((l: { loop: string }) => l.loop)).toEqual(['sync', 'monitor', 'health']);
      expect(summary.loops.find((l: { loop: string }) => l.loop === 'monitor').lastBeatAt).toEqual(expect.any(Number));
      expect(summary.incidents).toEqual([{ kind: 'host-disk-full', severity: 'warning', count: 1 }]);
      expect(summary.clusters).toEqual([{ cluster: 'lab', reachable: true, quorate: true }]);
      expect(summary.nodes).toContainEqual({ cluster: 'lab', node: 'pve1', state: 'online' });
      await settle();
      const text = await (await s.app.request('/metrics')).text();
      expect(text).toContain('overseer_incidents_open{kind="host-disk-full",severity="warning"} 1');
      expect(text).toContain('overseer_cluster_quorate{cluster="lab"} 1');
      expect(text).toContain('overseer_node_state{cluster="lab",node="pve1",state="online"} 1');
      expect(text).toMatch(/^overseer_loop_healthy\{loop="monitor"\} 1$/m);
    } finally {
      await s.close();
    }
  });
});
