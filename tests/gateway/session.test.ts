// The dashboard's cookie session: sign in with an API token (verified by the core like a bearer token), the
// HttpOnly SameSite=Strict cookie as the credential of every /v1 route, CSRF on mutations, sign out, expiry.
import type { Context } from 'hono';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SimulatedClock } from '../../adapters/clock';
import type { AppEnv } from '../../gateway/deps';
import { SessionStore } from '../../gateway/session';
import { createCoreClient } from '../../protocol';
import type { TestGateway } from './setup';
import { errorOf, setupGateway, signIn } from './setup';

/** The test's address source: the `x-test-address` header (a stand-in for the socket). */
const fromTestHeader = (c: Context<AppEnv>) => c.req.header('x-test-address');
const START = { action: 'start', target: 'lab/101' };

describe('gateway session', () => {
  let gw: TestGateway | undefined;
  afterEach(() => {
    gw?.close();
    gw?.bus.close();
    gw = undefined;
  });

  it('session - signing in with a good token answers the principal and a CSRF token in an HttpOnly cookie', async () => {
    gw = setupGateway();
    const token = gw.core.tokens.operator;
    const res = await gw.call('POST', '/v1/session', { body: { token } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const setCookie = res.headers.get('set-cookie') ?? '';
    const attributes = setCookie.split('; ');
    expect(attributes[0]).toMatch(/^overseer_session=[A-Za-z0-9_-]{43}$/);
    expect(attributes.slice(1).sort()).toEqual(['HttpOnly', 'Path=/', 'SameSite=Strict']);
    const body = await res.json();
    expect(body.principal).toEqual({ id: 'tok2', name: 'oscar', role: 'operator', person: 'tok2' });
    expect(body.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The token is never sent back: neither in the body nor as the cookie.
    expect(JSON.stringify(body)).not.toContain(token);
    expect(setCookie).not.toContain(token);
    expect(setCookie).not.toContain(body.csrf);
  });

  it('session - the cookie is Secure when the page is served over TLS', async () => {
    gw = setupGateway();
    const res = await gw.app.request('https://overseer.example/v1/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: gw.core.tokens.observer }),
    });
    expect(res.status).toBe(200);
    expect((res.headers.get('set-cookie') ?? '').split('; ')).toContain('Secure');
  });

  it('session - a bad or malformed token is 401 and counts as a failed authentication of the address', async () => {
    gw = setupGateway({ clientAddress: fromTestHeader, authFailureLimit: { maxFailures: 2, windowMs: 60_000 } });
    const from = (address: string) => ({ 'x-test-address': address });
    const bad = await gw.call('POST', '/v1/session', {
      body: { token: 'ovs_not-a-token' },
      headers: from('192.0.2.9'),
    });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('set-cookie')).toBeNull();
    expect(await errorOf(bad)).toMatchObject({ code: 'unauthorized' });
    const requests = vi.spyOn(gw.bus, 'request');
    const malformed = await gw.call('POST', '/v1/session', { body: { token: 'a b' }, headers: from('192.0.2.9') });
    expect(malformed.status).toBe(401);
    expect(requests).not.toHaveBeenCalled();
    // Two failures: the address waits, for signing in and for bearer tokens alike, even with a good token.
    const limited = await gw.call('POST', '/v1/session', {
      body: { token: gw.core.tokens.admin },
      headers: from('192.0.2.9'),
    });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).not.toBeNull();
    const bearer = await gw.call('GET', '/v1/status', { token: gw.core.tokens.admin, headers: from('192.0.2.9') });
    expect(bearer.status).toBe(429);
    expect(requests).not.toHaveBeenCalled();
    // Another address is not affected.
    await signIn(gw, gw.core.tokens.admin, from('192.0.2.10'));
  });

  it('session - sign-in needs a JSON body with a token', async () => {
    gw = setupGateway();
    const form = await gw.call('POST', '/v1/session', {
      body: JSON.stringify({ token: gw.core.tokens.admin }),
      headers: { 'content-type': 'text/plain' },
    });
    expect(form.status).toBe(415);
    expect(await errorOf(form)).toMatchObject({ code: 'unsupported_media_type', field: 'Content-Type' });
    const missing = await gw.call('POST', '/v1/session', { body: {} });
    expect(missing.status).toBe(400);
    expect(await errorOf(missing)).toMatchObject({ code: 'invalid_input', field: 'token' });
    const put = await gw.call('PUT', '/v1/session', { body: {} });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, HEAD, POST, DELETE');
  });

  it('session - GET /v1/session answers the principal and the CSRF token; without a session, 401', async () => {
    gw = setupGateway();
    const session = await signIn(gw, gw.core.tokens.observer);
    const res = await gw.call('GET', '/v1/session', { headers: { cookie: session.cookie } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ principal: session.principal, csrf: session.csrf });
    expect((await gw.call('GET', '/v1/session')).status).toBe(401);
    // A bearer token is not a session.
    expect((await gw.call('GET', '/v1/session', { token: gw.core.tokens.observer })).status).toBe(401);
    const unknown = await gw.call('GET', '/v1/session', { headers: { cookie: `overseer_session=${'A'.repeat(43)}` } });
    expect(unknown.status).toBe(401);
    expect(unknown.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(unknown.headers.get('set-cookie')).toMatch(/^overseer_session=; Max-Age=0/);
  });

  it('session - the cookie authenticates reads, the event stream included', async () => {
    gw = setupGateway();
    const { cookie } = await signIn(gw, gw.core.tokens.observer);
    const status = await gw.call('GET', '/v1/status', { headers: { cookie } });
    expect(status.status).toBe(200);
    const events = await gw.call('GET', '/v1/events?filter=overseer.evt.>', { headers: { cookie } });
    expect(events.status).toBe(200);
    expect(events.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await events.body?.cancel();
    expect((await gw.call('GET', '/v1/status', { headers: { cookie: 'overseer_session=' } })).status).toBe(401);
  });

  it('session - a mutation with the cookie but no CSRF header is 403 csrf, and the core is not asked', async () => {
    gw = setupGateway();
    const { cookie } = await signIn(gw, gw.core.tokens.operator);
    const requests = vi.spyOn(gw.bus, 'request');
    const res = await gw.call('POST', '/v1/requests', { body: START, headers: { cookie } });
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatchObject({ code: 'csrf', field: 'X-CSRF-Token', in: 'header' });
    expect(requests).not.toHaveBeenCalled();
    const revoke = await gw.call('DELETE', '/v1/tokens/tok1', { headers: { cookie } });
    expect(await errorOf(revoke)).toMatchObject({ code: 'csrf' });
    expect(gw.core.submissions).toEqual([]);
  });

  it('session - a mutation with the cookie and its CSRF header passes as the session’s principal', async () => {
    gw = setupGateway();
    const { cookie, csrf } = await signIn(gw, gw.core.tokens.operator);
    const res = await gw.call('POST', '/v1/requests', { body: START, headers: { cookie, 'x-csrf-token': csrf } });
    expect(res.status).toBe(201);
    expect(gw.core.submissions.map((s) => s.requester.name)).toEqual(['oscar']);
  });

  it('session - a forged cross-site POST (the cookie with a wrong CSRF token) is 403', async () => {
    gw = setupGateway();
    const victim = await signIn(gw, gw.core.tokens.admin);
    const attacker = await signIn(gw, gw.core.tokens.observer);
    for (const forged of [attacker.csrf, `${victim.csrf.slice(0, -1)}x`, '', victim.csrf.toLowerCase()]) {
      if (forged === victim.csrf) continue;
      const res = await gw.call('POST', '/v1/requests', {
        body: START,
        headers: { cookie: victim.cookie, 'x-csrf-token': forged, origin: 'https://evil.example' },
      });
      expect(res.status, forged).toBe(403);
      expect((await errorOf(res)).code).toBe('csrf');
    }
    // Nor can another page sign the victim out.
    expect((await gw.call('DELETE', '/v1/session', { headers: { cookie: victim.cookie } })).status).toBe(403);
    expect((await gw.call('GET', '/v1/session', { headers: { cookie: victim.cookie } })).status).toBe(200);
    expect(gw.core.submissions).toEqual([]);
  });

  it('session - a bearer header wins over the cookie: no CSRF asked, the cookie never a fallback', async () => {
    gw = setupGateway();
    const { cookie } = await signIn(gw, gw.core.tokens.admin);
    const res = await gw.call('POST', '/v1/requests', {
      body: START,
      token: gw.core.tokens.operator,
      headers: { cookie },
    });
    expect(res.status).toBe(201);
    expect(gw.core.submissions.map((s) => s.requester.name)).toEqual(['oscar']);
    const bad = await gw.call('GET', '/v1/status', { token: 'ovs_not-a-token', headers: { cookie } });
    expect(bad.status).toBe(401);
    const plain = await gw.call('POST', '/v1/requests', { body: START, token: gw.core.tokens.operator });
    expect(plain.status).toBe(201);
  });

  it('session - an observer session cannot approve: 403 by role, exactly as with its bearer token', async () => {
    gw = setupGateway();
    await createCoreClient(gw.bus)
      .withCredential(gw.core.tokens.admin2)
      .submit({ action: 'destroy', target: { cluster: 'lab', vmid: 114 }, params: {}, force: true });
    const { cookie, csrf } = await signIn(gw, gw.core.tokens.observer);
    const bySession = await gw.call('POST', '/v1/requests/r1/approve', { headers: { cookie, 'x-csrf-token': csrf } });
    const byBearer = await gw.call('POST', '/v1/requests/r1/approve', { token: gw.core.tokens.observer });
    expect(bySession.status).toBe(403);
    expect(byBearer.status).toBe(403);
    expect(await errorOf(bySession)).toEqual(await errorOf(byBearer));
    expect(gw.core.requests.get('r1')?.status).toBe('awaiting_approval');
    // An admin's session approves.
    const admin = await signIn(gw, gw.core.tokens.admin);
    const ok = await gw.call('POST', '/v1/requests/r1/approve', {
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
    });
    expect(ok.status).toBe(200);
    expect(gw.core.requests.get('r1')?.status).toBe('queued');
  });

  it('session - signing out forgets the session and clears the cookie', async () => {
    gw = setupGateway();
    const { cookie, csrf } = await signIn(gw, gw.core.tokens.operator);
    const out = await gw.call('DELETE', '/v1/session', { headers: { cookie, 'x-csrf-token': csrf } });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^overseer_session=; Max-Age=0; Path=\/; HttpOnly; SameSite=Strict$/);
    expect((await gw.call('GET', '/v1/session', { headers: { cookie } })).status).toBe(401);
    expect((await gw.call('GET', '/v1/status', { headers: { cookie } })).status).toBe(401);
    // Signing out again (or without a session) is harmless.
    expect((await gw.call('DELETE', '/v1/session', { headers: { cookie } })).status).toBe(204);
  });

  it('session - a session idle for 12 hours expires; each use restarts the wait', async () => {
    const clock = new SimulatedClock(1_000_000);
    gw = setupGateway({ clock });
    const { cookie } = await signIn(gw, gw.core.tokens.observer);
    const hours = (n: number) => n * 60 * 60 * 1000;
    clock.advance(hours(12) - 1);
    expect((await gw.call('GET', '/v1/status', { headers: { cookie } })).status).toBe(200);
    clock.advance(hours(12) - 1);
    expect((await gw.call('GET', '/v1/session', { headers: { cookie } })).status).toBe(200);
    clock.advance(hours(12));
    const expired = await gw.call('GET', '/v1/status', { headers: { cookie } });
    expect(expired.status).toBe(401);
    expect(await errorOf(expired)).toMatchObject({ code: 'unauthorized' });
  });

  it('session - the idle time is a gateway option', async () => {
    const clock = new SimulatedClock(0);
    gw = setupGateway({ clock, sessionIdleMs: 60_000 });
    const { cookie } = await signIn(gw, gw.core.tokens.observer);
    clock.advance(60_000);
    expect((await gw.call('GET', '/v1/status', { headers: { cookie } })).status).toBe(401);
    expect(() => setupGateway({ sessionIdleMs: 0 })).toThrow(RangeError);
  });

  it('session - a token revoked after signing in ends its sessions', async () => {
    gw = setupGateway();
    const { cookie } = await signIn(gw, gw.core.tokens.operator);
    expect((await gw.call('DELETE', '/v1/tokens/tok2', { token: gw.core.tokens.admin })).status).toBe(200);
    const res = await gw.call('GET', '/v1/status', { headers: { cookie } });
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toMatch(/^overseer_session=; Max-Age=0/);
    expect((await gw.call('GET', '/v1/session', { headers: { cookie } })).status).toBe(401);
  });

  it('session - sessions are bounded: one more forgets the least recently used', async () => {
    gw = setupGateway({ maxSessions: 3 });
    const a = await signIn(gw, gw.core.tokens.observer);
    const b = await signIn(gw, gw.core.tokens.operator);
    const c = await signIn(gw, gw.core.tokens.admin);
    expect((await gw.call('GET', '/v1/session', { headers: { cookie: a.cookie } })).status).toBe(200);
    const d = await signIn(gw, gw.core.tokens.admin2);
    const alive = async (s: { cookie: string }) =>
      (await gw!.call('GET', '/v1/session', { headers: { cookie: s.cookie } })).status;
    expect([await alive(a), await alive(b), await alive(c), await alive(d)]).toEqual([200, 401, 200, 200]);
  });

  it('session - one token holds a bounded number of sessions; signing in again gives a new id', async () => {
    const store = new SessionStore({ now: () => 0 }, { maxPerToken: 2 });
    const first = store.create('ovs_t', 'tok1');
    const second = store.create('ovs_t', 'tok1');
    const other = store.create('ovs_u', 'tok2');
    const third = store.create('ovs_t', 'tok1');
    expect(new Set([first.id, second.id, third.id]).size).toBe(3);
    expect(store.use(first.id)).toBeUndefined();
    expect([store.use(second.id), store.use(third.id), store.use(other.id)].every(Boolean)).toBe(true);
    expect(store.size).toBe(3);

    gw = setupGateway();
    const before = await signIn(gw, gw.core.tokens.observer);
    const after = await signIn(gw, gw.core.tokens.observer, { cookie: before.cookie });
    expect(after.cookie).not.toBe(before.cookie);
    expect((await gw.call('GET', '/v1/session', { headers: { cookie: before.cookie } })).status).toBe(401);
    expect((await gw.call('GET', '/v1/session', { headers: { cookie: after.cookie } })).status).toBe(200);
  });
});
