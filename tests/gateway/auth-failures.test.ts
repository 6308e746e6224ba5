// Failed authentication is limited per client address: past the limit an address gets 429 with Retry-After
// before the core is asked. The address comes from the socket (X-Forwarded-For only through a trusted proxy).
import type { Context } from 'hono';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SimulatedClock } from '../../adapters/clock';
import { createMemoryBus } from '../../adapters/nats/memory-bus';
import { startGateway } from '../../gateway';
import { addressKey, proxiedAddressSource } from '../../gateway/client-address';
import type { AppEnv } from '../../gateway/deps';
import { FailureLimiter } from '../../gateway/rate-limit';
import { createCoreClient } from '../../protocol';
import { startFakeCore } from './fake-core';
import { errorOf, setupGateway } from './setup';

/** The test's address source: the `x-test-address` header (a stand-in for the socket). */
const fromTestHeader = (c: Context<AppEnv>) => c.req.header('x-test-address');

function setup(over: Parameters<typeof setupGateway>[0] = {}) {
  const clock = new SimulatedClock(1_000_000);
  const gw = setupGateway({ clock, clientAddress: fromTestHeader, ...over });
  const requests = vi.spyOn(gw.bus, 'request');
  const status = (token: string | undefined, address: string | undefined, headers: Record<string, string> = {}) =>
    gw.call('GET', '/v1/status', {
      ...(token !== undefined ? { token } : {}),
      headers: { ...headers, ...(address !== undefined ? { 'x-test-address': address } : {}) },
    });
  return { gw, clock, requests, status };
}

const BAD = 'ovs_not-a-token';

describe('gateway auth failures', () => {
  it('auth failures - more than 10 failures in a minute from one address get 429 without asking the core', async () => {
    const { gw, clock, requests, status } = setup();
    for (let i = 0; i < 10; i++) {
      expect((await status(BAD, '198.51.100.7')).status).toBe(401);
      clock.advance(1000);
    }
    const asked = requests.mock.calls.length;
    const limited = await status(BAD, '198.51.100.7');
    expect(limited.status).toBe(429);
    // The first failure leaves the minute's window 50 s from now.
    expect(limited.headers.get('retry-after')).toBe('50');
    expect(await errorOf(limited)).toMatchObject({
      code: 'rate_limited',
      message: 'too many failed authentications from this address; retry in 50 s',
    });
    // Even a valid token from that address waits: the core is not asked at all.
    expect((await status(gw.core.tokens.observer, '198.51.100.7')).status).toBe(429);
    expect(requests.mock.calls.length).toBe(asked);

    // Other addresses are not affected.
    expect((await status(gw.core.tokens.observer, '198.51.100.8')).status).toBe(200);
    expect((await status(BAD, '198.51.100.8')).status).toBe(401);

    // Once the oldest failure ages out, one more try is allowed.
    clock.advance(50_000);
    expect((await status(gw.core.tokens.observer, '198.51.100.7')).status).toBe(200);
    expect((await status(BAD, '198.51.100.7')).status).toBe(401);
    expect((await status(BAD, '198.51.100.7')).status).toBe(429);
    expect(await (await gw.call('GET', '/metrics')).text()).toContain('overseer_http_auth_failures_limited_total 3');
  });

  it('auth failures - a success resets no counter, neither its own address nor others', async () => {
    const { gw, status } = setup({ authFailureLimit: { maxFailures: 3, windowMs: 60_000 } });
    const valid = gw.core.tokens.admin;
    for (let i = 0; i < 2; i++) expect((await status(BAD, '203.0.113.1')).status).toBe(401);
    // Successes from the same and from another address in between.
    expect((await status(valid, '203.0.113.1')).status).toBe(200);
    expect((await status(valid, '203.0.113.2')).status).toBe(200);
    expect((await status(BAD, '203.0.113.1')).status).toBe(401);
    expect((await status(valid, '203.0.113.1')).status).toBe(429);
  });

  it('auth failures - a malformed header counts, a missing one does not', async () => {
    const { status } = setup({ authFailureLimit: { maxFailures: 2, windowMs: 60_000 } });
    for (let i = 0; i < 5; i++) expect((await status(undefined, '192.0.2.1')).status).toBe(401);
    expect((await status(undefined, '192.0.2.1', { authorization: 'Basic dXNlcjpwYXNz' })).status).toBe(401);
    expect((await status(undefined, '192.0.2.1', { authorization: 'Bearer a b c' })).status).toBe(401);
    expect((await status(undefined, '192.0.2.1')).status).toBe(429);
  });

  it('auth failures - many honest calls in flight from one address are not failures', async () => {
    const { gw, status } = setup({ authFailureLimit: { maxFailures: 4, windowMs: 60_000 }, rateLimit: false });
    const GOOD = gw.core.tokens.operator;
    const answers = await Promise.all(Array.from({ length: 40 }, () => status(GOOD, '192.0.2.50')));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    // Guesses in flight together all get their 401; the ones after them are refused without asking the core.
    const guesses = await Promise.all(Array.from({ length: 6 }, () => status(BAD, '192.0.2.50')));
    expect(guesses.every((a) => a.status === 401)).toBe(true);
    expect((await status(BAD, '192.0.2.50')).status).toBe(429);
    expect((await status(GOOD, '192.0.2.50')).status).toBe(429);
  });

  it('auth failures - an unknown address is not counted; the limit can be turned off', async () => {
    // No address source answers (app.request without a Node server): nothing to attribute failures to.
    const unknown = setup({ clientAddress: () => undefined });
    for (let i = 0; i < 15; i++) expect((await unknown.status(BAD, undefined)).status).toBe(401);
    const off = setup({ authFailureLimit: false });
    for (let i = 0; i < 15; i++) expect((await off.status(BAD, '192.0.2.9')).status).toBe(401);
  });

  it('auth failures - X-Forwarded-For is ignored unless it comes through a trusted proxy', async () => {
    // The default source is the socket: a forged header changes nothing.
    const { status } = setup({ clientAddress: undefined, authFailureLimit: { maxFailures: 1, windowMs: 60_000 } });
    for (let i = 0; i < 3; i++) {
      expect((await status(BAD, undefined, { 'x-forwarded-for': `192.0.2.${i}` })).status).toBe(401);
    }

    const ctx = (peer: string | undefined, xff?: string) => {
      const c = { req: { header: (name: string) => (name === 'x-forwarded-for' ? xff : undefined) } };
      return [c as unknown as Context<AppEnv>, peer] as const;
    };
    const source = (peer: string | undefined, xff?: string) => {
      const [c] = ctx(peer, xff);
      return proxiedAddressSource(['10.0.0.1', '::ffff:10.0.0.2'], () => peer)(c);
    };
    // From the proxy: the right-most entry that is not a trusted proxy (the left ones are the client's to write).
    expect(source('10.0.0.1', '6.6.6.6, 203.0.113.9')).toBe('203.0.113.9');
    expect(source('::ffff:10.0.0.1', '6.6.6.6, 203.0.113.9, 10.0.0.2')).toBe('203.0.113.9');
    expect(source('10.0.0.1', undefined)).toBe('10.0.0.1');
    // Not from the proxy: the header is the client's own words.
    expect(source('198.51.100.1', '203.0.113.9')).toBe('198.51.100.1');
  });

  it('auth failures - addresses are keyed by IPv4 address or IPv6 /64', () => {
    expect(addressKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('2001:db8:0:1::5')).toBe('2001:db8:0:1::/64');
    expect(addressKey('2001:0DB8:0000:0001:ffff:ffff:ffff:ffff')).toBe('2001:db8:0:1::/64');
    expect(addressKey('[fe80::1%eth0]')).toBe('fe80:0:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('x'.repeat(500)).length).toBeLessThanOrEqual(64);
  });

  it('auth failures - memory is bounded: past maxKeys the least recently failed address is forgotten', () => {
    const clock = new SimulatedClock(0);
    const limiter = new FailureLimiter({ maxFailures: 1, windowMs: 60_000, maxKeys: 3 }, clock);
    for (const key of ['a', 'b', 'c']) limiter.fail(key);
    limiter.fail('a'); // 'a' failed again: 'b' is now the least recent
    limiter.fail('d');
    expect(limiter.size).toBe(3);
    expect(['a', 'b', 'c', 'd'].map((k) => limiter.check(k) > 0)).toEqual([true, false, true, true]);
    // Expired addresses go first.
    clock.advance(60_001);
    limiter.fail('e');
    expect(limiter.size).toBe(1);
    for (let i = 0; i < 1000; i++) limiter.fail(`k${i}`);
    expect(limiter.size).toBe(3);
    expect(() => new FailureLimiter({ maxFailures: 0, windowMs: 1 }, clock)).toThrow(RangeError);
  });
});

describe('gateway auth failures over HTTP', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('auth failures - the listening server takes the address from the socket', async () => {
    const bus = createMemoryBus();
    const core = startFakeCore(bus);
    cleanups.push(() => core.stop());
    const running = await startGateway(
      {
        core: createCoreClient(bus),
        bus,
        rateLimit: false,
        authFailureLimit: { maxFailures: 3, windowMs: 60_000 },
        log: { warn: () => {}, error: () => {} },
      },
      { port: 0 },
    );
    cleanups.push(() => running.close());
    const get = (token: string, xff: string) =>
      fetch(`${running.url}/v1/status`, { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': xff } });
    // A new X-Forwarded-For every time: not believed, the socket's 127.0.0.1 is what counts.
    for (let i = 0; i < 3; i++) expect((await get(BAD, `192.0.2.${i}`)).status).toBe(401);
    const limited = await get(core.tokens.observer, '192.0.2.200');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
