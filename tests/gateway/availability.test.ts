// While NATS or the core is away the gateway answers 503 with Retry-After; a failing core is a 502.
import { describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../adapters/nats/memory-bus';
import { createApp } from '../../gateway';
import { createCoreClient, subjects } from '../../protocol';
import { errorOf, setupGateway } from './setup';

const quietLog = { warn: () => {}, error: () => {} };

describe('gateway availability', () => {
  it('availability - a disconnected bus is 503 with Retry-After on every /v1 route, and recovers', async () => {
    const gw = setupGateway({ retryAfterSeconds: 7 });
    const token = gw.core.tokens.admin;
    gw.bus.simulateDisconnect();
    for (const [method, path] of [
      ['GET', '/v1/status'],
      ['GET', '/v1/vms'],
      ['POST', '/v1/requests'],
      ['GET', '/v1/events'],
      ['DELETE', '/v1/tokens/tok1'],
    ] as const) {
      const res = await gw.call(method, path, {
        token,
        body: method === 'POST' ? { action: 'start', target: 'lab/101' } : undefined,
      });
      expect(res.status, path).toBe(503);
      expect(res.headers.get('retry-after')).toBe('7');
      expect((await errorOf(res)).code).toBe('unavailable');
    }
    gw.bus.simulateReconnect();
    expect((await gw.call('GET', '/v1/status', { token })).status).toBe(200);
  });

  it('availability - no responder (core down) is 503', async () => {
    const bus = createMemoryBus();
    const app = createApp({ core: createCoreClient(bus), bus, log: quietLog });
    const res = await app.request('/v1/status', { headers: { authorization: 'Bearer abc' } });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
  });

  it('availability - a core that does not answer in time is 503', async () => {
    const bus = createMemoryBus();
    bus.reply(subjects.query('auth'), () => new Promise(() => {}));
    const app = createApp({ core: createCoreClient(bus, { timeoutMs: 20 }), bus, log: quietLog });
    const res = await app.request('/v1/status', { headers: { authorization: 'Bearer abc' } });
    expect(res.status).toBe(503);
  });

  it('availability - a failing core is 502, and an off-protocol reply too; both are logged', async () => {
    const gw = setupGateway();
    gw.core.stop();
    gw.bus.reply(subjects.query('auth'), () => ({
      principal: { id: 't', name: 'olga', role: 'observer', person: 't' },
    }));
    gw.bus.reply(subjects.query('health'), () => {
      throw new Error('database is locked');
    });
    gw.bus.reply(subjects.query('summary'), () => ({ vms: 'many' }));
    const token = 'any';
    const failing = await gw.call('GET', '/v1/health', { token });
    expect(failing.status).toBe(502);
    expect((await errorOf(failing)).message).toMatch(/database is locked/);
    const offProtocol = await gw.call('GET', '/v1/summary', { token });
    expect(offProtocol.status).toBe(502);
    expect((await errorOf(offProtocol)).message).toMatch(/vms/);
    expect(gw.logged).toHaveLength(2);
  });

  it('availability - /metrics and /openapi.json answer while NATS is away', async () => {
    const gw = setupGateway();
    gw.bus.simulateDisconnect();
    const metrics = await gw.call('GET', '/metrics');
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toContain('overseer_nats_connected 0');
    expect(text).toContain('overseer_core_up 0');
    expect((await gw.call('GET', '/openapi.json')).status).toBe(200);
  });
});
