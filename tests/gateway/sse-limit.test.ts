// GET /v1/events: one token holds at most sseMaxStreamsPerToken open streams; closing one frees its place.
import { describe, expect, it } from 'vitest';
import { DEFAULT_SSE_MAX_STREAMS_PER_TOKEN } from '../../gateway/deps';
import type { TestGateway, TestResponse } from './setup';
import { errorOf, setupGateway } from './setup';

/** Lets the stream callbacks and the bus's microtasks run. */
const tick = () => new Promise((r) => setTimeout(r, 5));

async function open(gw: TestGateway, token: string): Promise<TestResponse> {
  const res = await gw.call('GET', '/v1/events', { token });
  await tick();
  return res;
}

async function close(res: TestResponse): Promise<void> {
  await res.body!.cancel();
  await tick();
}

describe('gateway event stream limit', () => {
  it('sse limit - one stream more than allowed is 429 with a clear message; closing one frees its place', async () => {
    const gw = setupGateway({ sseMaxStreamsPerToken: 2 });
    const token = gw.core.tokens.observer;
    const first = await open(gw, token);
    const second = await open(gw, token);
    expect([first.status, second.status]).toEqual([200, 200]);

    const refused = await gw.call('GET', '/v1/events', { token });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    const error = await errorOf(refused);
    expect(error.code).toBe('too_many_streams');
    expect(error.message).toBe(
      'this token already has 2 open event streams, the most allowed; close one before opening another',
    );

    // Another token has its own places.
    const other = await open(gw, gw.core.tokens.operator);
    expect(other.status).toBe(200);

    await close(first);
    const third = await open(gw, token);
    expect(third.status).toBe(200);
    expect((await gw.call('GET', '/v1/events', { token })).status).toBe(429);

    const metrics = await (await gw.call('GET', '/metrics')).text();
    expect(metrics).toContain('overseer_sse_clients 3');
    expect(metrics).toContain('overseer_sse_streams_refused_total 2');
    for (const res of [second, third, other]) await close(res);
    expect(await (await gw.call('GET', '/metrics')).text()).toContain('overseer_sse_clients 0');
  });

  it('sse limit - the default allows DEFAULT_SSE_MAX_STREAMS_PER_TOKEN streams per token', async () => {
    const gw = setupGateway();
    const token = gw.core.tokens.observer;
    const streams: TestResponse[] = [];
    for (let i = 0; i < DEFAULT_SSE_MAX_STREAMS_PER_TOKEN; i++) streams.push(await open(gw, token));
    expect(streams.map((s) => s.status)).toEqual(streams.map(() => 200));
    expect((await gw.call('GET', '/v1/events', { token })).status).toBe(429);
    for (const s of streams) await close(s);
    expect((await open(gw, token)).status).toBe(200);
  });

  it('sse limit - concurrent requests cannot overshoot the limit', async () => {
    const gw = setupGateway({ sseMaxStreamsPerToken: 3 });
    const token = gw.core.tokens.observer;
    const answers = await Promise.all(Array.from({ length: 10 }, () => gw.call('GET', '/v1/events', { token })));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(3);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(7);
    for (const a of answers.filter((x) => x.status === 200)) await close(a);
  });

  it('sse limit - HEAD and refused filters take no place', async () => {
    const gw = setupGateway({ sseMaxStreamsPerToken: 1 });
    const token = gw.core.tokens.observer;
    for (let i = 0; i < 3; i++) {
      expect((await gw.call('HEAD', '/v1/events', { token })).status).toBe(200);
      expect((await gw.call('GET', '/v1/events?filter=overseer.req.>', { token })).status).toBe(400);
    }
    const stream = await open(gw, token);
    expect(stream.status).toBe(200);
    await close(stream);
  });

  it('sse limit - a nonsense limit is refused when the gateway is built', () => {
    expect(() => setupGateway({ sseMaxStreamsPerToken: 0 })).toThrow(RangeError);
  });
});
