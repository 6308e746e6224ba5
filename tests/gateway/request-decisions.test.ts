// Decisions and reasons through the gateway (app.request()), with the real core on the PVE simulator behind it
// (tests/helpers/sim-core.ts): a reason sent with approve, deny or cancel comes back in GET /v1/requests/:id (the
// history's note and `decidedBy`); a stop of a stopped VM is decided `nothing_to_do`; a snapshot name already used,
// or a VM whose snapshots cannot be listed, is denied at the gate.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GatewayApp } from '../../gateway';
import { createGateway } from '../../gateway';
import type { RequestView } from '../../protocol';
import type { SimCore, SimCoreToken } from '../helpers/sim-core';
import { startSimCore } from '../helpers/sim-core';

let core: SimCore;
let gateway: GatewayApp;
let alice: SimCoreToken;
let bob: SimCoreToken;
beforeEach(async () => {
  core = await startSimCore();
  gateway = createGateway(core.gatewayDeps);
  alice = core.token('alice', 'admin');
  bob = core.token('bob', 'admin');
});
afterEach(async () => {
  gateway?.close();
  await core?.close();
});

async function call<T>(
  method: string,
  path: string,
  token: SimCoreToken,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await gateway.app.request(path, {
    method,
    headers: { authorization: `Bearer ${token.token}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** alice's forced stop of the production VM 114: awaiting a second person's approval. Its id. */
async function awaiting(): Promise<string> {
  const res = await call<{ id: string; decision: string }>('POST', '/v1/requests', alice, {
    action: 'stop',
    target: 'lab/114',
    force: true,
  });
  expect(res.body.decision).toBe('awaiting_approval');
  return res.body.id;
}

const get = async (id: string) => (await call<RequestView>('GET', `/v1/requests/${id}`, alice)).body;

describe('gateway request decisions', () => {
  it('decisions - a denial’s reason is the history note and the decision names the person who denied', async () => {
    const id = await awaiting();
    const denied = await call('POST', `/v1/requests/${id}/deny`, bob, { reason: 'not during the sale' });
    expect(denied).toEqual({ status: 200, body: { id, status: 'denied' } });
    await core.stack.settle();
    const view = await get(id);
    expect(view.decision).toBe('denied');
    expect(view.decidedBy).toMatchObject({ kind: 'person', id: bob.id, name: 'bob', reason: 'not during the sale' });
    expect(view.history.at(-1)).toMatchObject({ status: 'denied', by: bob.id, note: 'not during the sale' });
  });

  it('decisions - approve and cancel pass their reasons on; an approval is the final decision', async () => {
    const approvedId = await awaiting();
    const approve = await call('POST', `/v1/requests/${approvedId}/approve`, bob, { reason: 'window agreed' });
    expect(approve.status).toBe(200);
    expect(await core.ended(approvedId)).toBe(true);
    const approved = await get(approvedId);
    expect(approved.status).toBe('completed');
    expect(approved.decision).toBe('approved');
    expect(approved.decidedBy).toMatchObject({ kind: 'person', id: bob.id, reason: 'window agreed' });
    expect(approved.history.find((h) => h.status === 'approved')).toMatchObject({ by: bob.id, note: 'window agreed' });

    const cancelled = await call<{ id: string }>('POST', '/v1/requests', alice, {
      action: 'reboot',
      target: 'lab/115',
      force: true,
    });
    const cancel = await call('POST', `/v1/requests/${cancelled.body.id}/cancel`, alice, { reason: 'wrong VM' });
    expect(cancel.status).toBe(200);
    await core.stack.settle();
    const view = await get(cancelled.body.id);
    expect(view.status).toBe('cancelled');
    expect(view.history.at(-1)).toMatchObject({ status: 'cancelled', by: alice.id, note: 'wrong VM' });
  });

  it('decisions - a stop of a stopped VM is answered nothing_to_do, and listed with that status', async () => {
    const res = await call<{ id: string }>('POST', '/v1/requests', alice, { action: 'stop', target: 'lab/102' });
    expect(res).toMatchObject({
      status: 201,
      body: { decision: 'nothing_to_do', status: 'nothing_to_do', reasons: ['VM lab/102 is already stopped'] },
    });
    await core.stack.settle();
    expect(await get(res.body.id)).toMatchObject({
      status: 'nothing_to_do',
      decision: 'nothing_to_do',
      decidedBy: { kind: 'gate' },
    });
    const listed = await call<{ items: RequestView[] }>('GET', '/v1/requests?status=nothing_to_do', alice);
    expect(listed.body.items.map((r) => r.id)).toEqual([res.body.id]);
  });

  it('decisions - a snapshot name the VM already has is denied', async () => {
    const res = await call<{ decision: string; reasons: string[] }>('POST', '/v1/requests', alice, {
      action: 'snapshot',
      target: 'lab/111',
      params: { snapname: 'before_upgrade' },
    });
    expect(res.body).toMatchObject({
      decision: 'denied',
      reasons: ["VM lab/111 (monitoring) already has a snapshot named 'before_upgrade'"],
    });
  });

  it('decisions - a snapshot whose VM’s snapshots cannot be listed is denied, saying why', async () => {
    core.stack.sim.faults.httpError({ path: '^/nodes/pve2/qemu/101/snapshot$', method: 'GET', status: 500, count: 1 });
    const res = await call<{ decision: string; reasons: string[] }>('POST', '/v1/requests', alice, {
      action: 'snapshot',
      target: 'lab/101',
      params: { snapname: 'before' },
    });
    expect(res.body.decision).toBe('denied');
    expect(res.body.reasons).toHaveLength(1);
    expect(res.body.reasons[0]).toMatch(/^could not list the snapshots of VM lab\/101 \(web-02\): /);
  });

  it('decisions - the OpenAPI document shows the final decision, who took it, and nothing_to_do', async () => {
    const text = await (await gateway.app.request('/openapi.json')).text();
    expect(text).toContain('nothing_to_do');
    expect(text).toContain('decidedBy');
  });
});
