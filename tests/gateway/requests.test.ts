// Submissions, decisions, idempotency, commands and request reads, through the gateway.
import { describe, expect, it } from 'vitest';
import { errorOf, setupGateway } from './setup';

describe('gateway requests', () => {
  it('requests - a submission is answered 201 with the decision, and the requester is the token owner', async () => {
    const gw = setupGateway();
    const res = await gw.call('POST', '/v1/requests', {
      token: gw.core.tokens.operator,
      body: { action: 'stop', target: 'lab/101', params: {}, force: false },
    });
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body).toMatchObject({ id: 'r1', decision: 'approved', reasons: [], status: 'queued' });
    expect(body.checks[0]).toMatchObject({ check: 'authorization', outcome: 'pass' });
    expect(res.headers.get('location')).toBe('/v1/requests/r1');
    expect(gw.core.submissions[0]).toEqual({
      action: 'stop',
      target: { cluster: 'lab', vmid: 101 },
      params: {},
      force: false,
      requester: { id: 'tok2', role: 'operator', name: 'oscar', person: 'tok2' },
    });
  });

  it('requests - a denial is a 201 with the reasons, not an HTTP error (per-action role is the gate’s)', async () => {
    const gw = setupGateway();
    const res = await gw.call('POST', '/v1/requests', {
      token: gw.core.tokens.operator,
      body: { action: 'destroy', target: 'lab/101' },
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ decision: 'denied', reasons: ['destroy needs the admin role'] });
  });

  it('requests - deploy targets a cluster and passes its params', async () => {
    const gw = setupGateway();
    const params = { template: 9000, node: 'pve1', name: 'web', count: 2 };
    const res = await gw.call('POST', '/v1/requests', {
      token: gw.core.tokens.operator,
      body: { action: 'deploy', target: 'lab', params },
    });
    expect(res.status).toBe(201);
    expect(gw.core.submissions[0]).toMatchObject({ action: 'deploy', target: { cluster: 'lab' }, params });
    expect(gw.core.submissions[0]!.target).not.toHaveProperty('vmid');
  });

  it('requests - a command targets a VM and passes its one parameter; the core gates it', async () => {
    const gw = setupGateway();
    const params = { command: 'systemctl restart nginx' };
    const res = await gw.call('POST', '/v1/requests', {
      token: gw.core.tokens.operator,
      body: { action: 'command', target: 'lab/101', params },
    });
    expect(res.status).toBe(201);
    expect(gw.core.submissions[0]).toMatchObject({ action: 'command', target: { cluster: 'lab', vmid: 101 }, params });
    for (const body of [
      { action: 'command', target: 'lab/101' },
      { action: 'command', target: 'lab/101', params: { command: '' } },
      { action: 'command', target: 'lab/101', params: { command: 'true', sudo: true } },
      { action: 'command', target: 'lab', params },
    ]) {
      const bad = await gw.call('POST', '/v1/requests', { token: gw.core.tokens.operator, body });
      expect(bad.status).toBe(400);
    }
    expect(gw.core.submissions).toHaveLength(1);
  });

  it('requests - an Idempotency-Key reaches the core and a retry returns the first answer', async () => {
    const gw = setupGateway();
    const send = () =>
      gw.call('POST', '/v1/requests', {
        token: gw.core.tokens.operator,
        body: { action: 'start', target: 'lab/102' },
        headers: { 'Idempotency-Key': 'retry-1' },
      });
    const first = await send();
    const second = await send();
    expect(second.status).toBe(201);
    expect(await second.json()).toEqual(await first.json());
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(gw.core.submissions.map((s) => s.idempotencyKey)).toEqual(['retry-1', 'retry-1']);
    expect(gw.core.requests.size).toBe(1);
  });

  it('requests - production: denied without force, awaiting approval with it; no self-approval; a second admin approves', async () => {
    const gw = setupGateway();
    const { admin, admin2 } = gw.core.tokens;
    const denied = await gw.call('POST', '/v1/requests', {
      token: admin,
      body: { action: 'destroy', target: 'lab/114' },
    });
    expect(await denied.json()).toMatchObject({ decision: 'denied' });
    const forced = await gw.call('POST', '/v1/requests', {
      token: admin,
      body: { action: 'destroy', target: 'lab/114', force: true },
    });
    const { id, decision } = await forced.json();
    expect(decision).toBe('awaiting_approval');

    const self = await gw.call('POST', `/v1/requests/${id}/approve`, { token: admin });
    expect(self.status).toBe(403);
    expect(await errorOf(self)).toMatchObject({
      code: 'refused',
      message: 'the requester cannot approve their own request',
    });

    const other = await gw.call('POST', `/v1/requests/${id}/approve`, { token: admin2 });
    expect(other.status).toBe(200);
    expect(await other.json()).toEqual({ id, status: 'queued' });

    const again = await gw.call('POST', `/v1/requests/${id}/deny`, { token: admin2 });
    expect(again.status).toBe(409);

    const view = await (await gw.call('GET', `/v1/requests/${id}`, { token: gw.core.tokens.observer })).json();
    expect(view.history.map((h: { status: string }) => h.status)).toEqual(['received', 'awaiting_approval', 'queued']);
    expect(view.history[2]).toMatchObject({ by: 'tok4' });
  });

  it('requests - deny and cancel pass the reason and the acting token owner', async () => {
    const gw = setupGateway();
    const { admin, admin2, operator } = gw.core.tokens;
    const body = { action: 'reboot', target: 'lab/114', force: true };
    const a = await (await gw.call('POST', '/v1/requests', { token: admin, body })).json();
    const b = await (await gw.call('POST', '/v1/requests', { token: admin, body })).json();
    expect(
      (await gw.call('POST', `/v1/requests/${a.id}/deny`, { token: admin2, body: { reason: 'maintenance window' } }))
        .status,
    ).toBe(200);
    expect((await gw.call('POST', `/v1/requests/${b.id}/cancel`, { token: operator })).status).toBe(200);
    expect(gw.core.requests.get(a.id)!.history.at(-1)).toMatchObject({
      status: 'denied',
      by: 'tok4',
      note: 'maintenance window',
    });
    expect(gw.core.requests.get(b.id)!.history.at(-1)).toMatchObject({ status: 'cancelled', by: 'tok2' });
  });

  it('requests - the list is filtered by status and requester', async () => {
    const gw = setupGateway();
    const { admin, operator, observer } = gw.core.tokens;
    await gw.call('POST', '/v1/requests', { token: operator, body: { action: 'start', target: 'lab/101' } });
    await gw.call('POST', '/v1/requests', { token: admin, body: { action: 'stop', target: 'lab/114' } });
    const all = await (await gw.call('GET', '/v1/requests', { token: observer })).json();
    expect(all.items).toHaveLength(2);
    const denied = await (await gw.call('GET', '/v1/requests?status=denied', { token: observer })).json();
    expect(denied.items.map((r: { requester: { id: string } }) => r.requester.id)).toEqual(['tok3']);
    const mine = await (await gw.call('GET', '/v1/requests?requester=tok2&limit=5', { token: observer })).json();
    expect(mine.items.map((r: { id: string }) => r.id)).toEqual(['r1']);
  });

  it('requests - VMs are filtered and hosts listed; sync is accepted', async () => {
    const gw = setupGateway();
    const token = gw.core.tokens.observer;
    const web = await (await gw.call('GET', '/v1/vms?tag=web', { token })).json();
    expect(web).toMatchObject({ total: 1, items: [{ vmid: 102 }] });
    const pve1 = await (await gw.call('GET', '/v1/vms?node=pve1&state=running', { token })).json();
    expect(pve1.items.map((v: { vmid: number }) => v.vmid)).toEqual([101, 114]);
    expect(await (await gw.call('GET', '/v1/vms/lab/114', { token })).json()).toMatchObject({ production: true });
    expect((await (await gw.call('GET', '/v1/hosts?cluster=lab', { token })).json()).items).toHaveLength(2);
    const sync = await gw.call('POST', '/v1/sync', { token: gw.core.tokens.operator });
    expect(sync.status).toBe(202);
    expect(gw.core.syncs).toBe(1);
  });

  it('requests - tokens are created (plaintext once), listed without secrets, revoked', async () => {
    const gw = setupGateway();
    const admin = gw.core.tokens.admin;
    const created = await gw.call('POST', '/v1/tokens', { token: admin, body: { name: 'ci', role: 'operator' } });
    expect(created.status).toBe(201);
    const { id, token } = await created.json();
    expect((await gw.call('GET', '/v1/status', { token })).status).toBe(200);
    const list = await (await gw.call('GET', '/v1/tokens', { token: admin })).json();
    expect(list.items.find((t: { id: string }) => t.id === id)).toMatchObject({
      name: 'ci',
      role: 'operator',
      createdBy: 'tok3',
    });
    expect(JSON.stringify(list)).not.toContain(token);
    expect((await gw.call('DELETE', `/v1/tokens/${id}`, { token: admin })).status).toBe(200);
    expect((await gw.call('GET', '/v1/status', { token })).status).toBe(401);
    expect((await gw.call('DELETE', `/v1/tokens/${id}`, { token: admin })).status).toBe(404);
    const bad = await gw.call('POST', '/v1/tokens', { token: admin, body: { name: 'x', role: 'root' } });
    expect(await errorOf(bad)).toMatchObject({ field: 'role' });
  });
});
