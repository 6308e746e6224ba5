// The gateway's short cache of verified principals (gateway/principal-cache.ts): it spares the `auth` round trip on
// the routes the core authenticates itself, and never the core's own check of the credential.
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../adapters/clock';
import { PrincipalCache } from '../../gateway/principal-cache';
import { createCoreClient } from '../../protocol';
import type { TestGateway } from './setup';
import { errorOf, setupGateway, signIn } from './setup';

const stop = { action: 'stop', target: 'lab/101' };

/** Every subject the gateway asked the core on, in order. */
function watchCalls(gw: TestGateway): string[] {
  const subjects: string[] = [];
  const request = gw.bus.request.bind(gw.bus);
  gw.bus.request = ((subject: string, payload: unknown, opts?: never) => {
    subjects.push(subject);
    return request(subject, payload, opts);
  }) as typeof gw.bus.request;
  return subjects;
}

const auths = (subjects: string[]) => subjects.filter((s) => s === 'overseer.query.auth').length;

describe('principal cache', () => {
  let gw: TestGateway | undefined;
  afterEach(() => {
    gw?.close();
    gw = undefined;
  });

  it('principal cache - submissions and commands ask the core auth once per lifetime; other routes every time', async () => {
    const clock = new SimulatedClock(1_000_000);
    gw = setupGateway({ clock });
    const calls = watchCalls(gw);
    const token = gw.core.tokens.operator;
    expect((await gw.call('POST', '/v1/requests', { token, body: stop })).status).toBe(201);
    expect((await gw.call('POST', '/v1/requests', { token, body: stop })).status).toBe(201);
    const cancel = await gw.call('POST', '/v1/requests/none/cancel', { token });
    expect(cancel.status).toBe(404);
    expect(auths(calls)).toBe(1);
    // Every submission still carried the credential to the core, which resolved who acts from it.
    expect(calls.filter((s) => s === 'overseer.req.submit')).toHaveLength(2);
    expect(gw.core.submissions.map((s) => s.requester.id)).toEqual(['tok2', 'tok2']);

    expect((await gw.call('GET', '/v1/status', { token })).status).toBe(200);
    expect((await gw.call('GET', '/v1/status', { token })).status).toBe(200);
    expect(auths(calls)).toBe(3);

    clock.advance(5_000);
    expect((await gw.call('POST', '/v1/requests', { token, body: stop })).status).toBe(201);
    expect(auths(calls)).toBe(4);
  });

  it('principal cache - a token revoked while the gateway holds it is refused by the core: 401, dropped, counted', async () => {
    gw = setupGateway({ authFailureLimit: { maxFailures: 2, windowMs: 60_000 }, clientAddress: () => '192.0.2.7' });
    const calls = watchCalls(gw);
    const token = gw.core.tokens.operator;
    expect((await gw.call('POST', '/v1/requests', { token, body: stop })).status).toBe(201);
    // Revoked at the core, not through this gateway: the gateway's cache still holds the token.
    const revoke = await createCoreClient(gw.bus)
      .withCredential(gw.core.tokens.admin)
      .query('tokenRevoke', { id: 'tok2' });
    expect(revoke.ok).toBe(true);
    const before = gw.core.submissions.length;

    const refused = await gw.call('POST', '/v1/requests', { token, body: stop });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await errorOf(refused)).toMatchObject({ code: 'unauthorized' });
    // The gateway believed its cache (no auth asked), and the core refused the submission itself.
    expect(auths(calls)).toBe(1);
    expect(gw.core.submissions.length).toBe(before);
    // Dropped: the next call asks the core again, and that second refusal reaches the address's limit.
    expect((await gw.call('POST', '/v1/requests/r1/approve', { token })).status).toBe(401);
    expect(auths(calls)).toBe(2);
    expect((await gw.call('GET', '/v1/status', { token: gw.core.tokens.observer })).status).toBe(429);
  });

  it('principal cache - a session whose token was revoked ends on a cached submission too', async () => {
    gw = setupGateway();
    const session = await signIn(gw, gw.core.tokens.operator);
    const headers = { cookie: session.cookie, 'x-csrf-token': session.csrf };
    expect((await gw.call('POST', '/v1/requests', { headers, body: stop })).status).toBe(201);
    await createCoreClient(gw.bus).withCredential(gw.core.tokens.admin).query('tokenRevoke', { id: 'tok2' });
    const res = await gw.call('POST', '/v1/requests', { headers, body: stop });
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toMatch(/^overseer_session=; Max-Age=0/);
    expect((await gw.call('GET', '/v1/session', { headers: { cookie: session.cookie } })).status).toBe(401);
  });

  it('principal cache - a token revoked through the gateway is dropped at once', async () => {
    gw = setupGateway();
    const calls = watchCalls(gw);
    const token = gw.core.tokens.operator;
    expect((await gw.call('POST', '/v1/requests', { token, body: stop })).status).toBe(201);
    expect((await gw.call('DELETE', '/v1/tokens/tok2', { token: gw.core.tokens.admin })).status).toBe(200);
    const asked = auths(calls);
    expect((await gw.call('POST', '/v1/requests', { token, body: stop })).status).toBe(401);
    expect(auths(calls)).toBe(asked + 1);
  });

  it('principal cache - keyed by the token, expires, bounded', () => {
    const clock = new SimulatedClock(0);
    const cache = new PrincipalCache(clock, 1_000, 2);
    const ada = { id: 't1', name: 'ada', role: 'operator' as const, person: 'ada' };
    cache.set('secret-a', ada);
    expect(cache.get('secret-a')).toEqual(ada);
    expect(cache.get('secret-b')).toBeUndefined();
    clock.advance(1_000);
    expect(cache.get('secret-a')).toBeUndefined();
    cache.set('secret-a', ada);
    cache.set('secret-b', { ...ada, id: 't2' });
    cache.set('secret-c', { ...ada, id: 't3' });
    expect(cache.size).toBe(1);
    cache.forgetId('t3');
    expect(cache.get('secret-c')).toBeUndefined();
    expect(() => new PrincipalCache(clock, 0)).toThrow(RangeError);
  });
});
