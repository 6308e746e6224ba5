// Per-token token bucket: 429 with Retry-After once the burst is spent, refilled on the injected clock.
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../adapters/clock';
import { TokenBucketLimiter } from '../../gateway/rate-limit';
import { errorOf, setupGateway } from './setup';

describe('gateway rate limit', () => {
  it('rate limit - the burst passes, the next request is 429 with Retry-After, time refills it', async () => {
    const clock = new SimulatedClock(1_000_000);
    const gw = setupGateway({ clock, rateLimit: { perSecond: 0.5, burst: 3 } });
    const token = gw.core.tokens.observer;
    for (let i = 0; i < 3; i++) expect((await gw.call('GET', '/v1/status', { token })).status).toBe(200);
    const limited = await gw.call('GET', '/v1/status', { token });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect((await errorOf(limited)).code).toBe('rate_limited');
    // Another token has its own bucket.
    expect((await gw.call('GET', '/v1/status', { token: gw.core.tokens.operator })).status).toBe(200);
    clock.advance(2000);
    expect((await gw.call('GET', '/v1/status', { token })).status).toBe(200);
    expect(await (await gw.call('GET', '/metrics')).text()).toContain('overseer_http_rate_limited_total 1');
  });

  it('rate limit - the bucket never holds more than the burst', () => {
    const clock = new SimulatedClock(0);
    const limiter = new TokenBucketLimiter({ perSecond: 10, burst: 2 }, clock);
    clock.advance(60_000);
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 1]);
    clock.advance(100);
    expect(limiter.take('a')).toBe(0);
  });

  it('rate limit - nonsense limits are refused', () => {
    expect(() => new TokenBucketLimiter({ perSecond: 0, burst: 1 }, new SimulatedClock())).toThrow(RangeError);
  });
});
