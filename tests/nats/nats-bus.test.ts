import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  BusAuthError,
  BusConnectError,
  BusUnavailableError,
  connectBus,
  ERROR_HEADER,
  findFreePort,
  type NatsBus,
  subjects,
} from '../../adapters/nats';
import { startNatsServer, type TestNatsServer } from '../helpers/nats-server';
import { busContract } from './bus-contract';

const waitFor = async (cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('nats bus', () => {
  let server: TestNatsServer;
  beforeAll(async () => {
    server = await startNatsServer({ jetstream: false });
  });
  afterAll(async () => {
    await server?.stop();
  });

  busContract('nats bus', async () => {
    const a = await connectBus({ servers: server.url, name: 'test-a' });
    const b = await connectBus({ servers: server.url, name: 'test-b' });
    return {
      a,
      b,
      settle: async () => {
        await b.flush();
        await a.flush();
      },
      close: async () => {
        await a.close();
        await b.close();
      },
    };
  });

  test('nats bus - a failing handler answers {error:{name,message}} on the wire', async () => {
    const a = await connectBus({ servers: server.url, name: 'raw-a' });
    const b = await connectBus({ servers: server.url, name: 'raw-b' });
    try {
      b.reply(subjects.query('raw'), () => {
        throw new TypeError('bad things');
      });
      await b.flush();
      const msg = await a.nc.request(subjects.query('raw'), '{}', { timeout: 2_000 });
      expect(msg.json()).toEqual({ error: { name: 'TypeError', message: 'bad things' } });
      expect(msg.headers?.get(ERROR_HEADER)).toBe('1');

      const bad = await a.nc.request(subjects.query('raw'), '{not json', { timeout: 2_000 });
      expect(bad.json<{ error: { name: string } }>().error.name).toBe('BusPayloadError');
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('nats bus - no server listening is BusConnectError', async () => {
    const port = await findFreePort();
    const err = await connectBus({ servers: `nats://127.0.0.1:${port}`, name: 'nobody' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BusConnectError);
    expect((err as Error).message).toContain(`127.0.0.1:${port}`);
  });
});

describe('nats bus with a restarting server', () => {
  let server: TestNatsServer;
  let bus: NatsBus;
  beforeAll(async () => {
    server = await startNatsServer({ jetstream: false });
    bus = await connectBus({ servers: server.url, name: 'reconnect' });
  });
  afterAll(async () => {
    await bus?.close();
    await server?.stop();
  });

  test('nats bus - reconnects after a server restart: connected goes false then true', async () => {
    const statuses: string[] = [];
    bus.onStatus((s) => statuses.push(s));
    bus.reply(subjects.query('alive'), () => 'yes');
    await bus.flush();
    expect(await bus.request(subjects.query('alive'), null)).toBe('yes');

    await server.kill();
    await waitFor(() => !bus.connected);
    expect(statuses[0]).toBe('disconnected');
    await expect(bus.request(subjects.query('alive'), null)).rejects.toBeInstanceOf(BusUnavailableError);

    await server.restart();
    await waitFor(() => bus.connected);
    expect(statuses.at(-1)).toBe('connected');
    expect(statuses).toContain('reconnecting');
    // Subscriptions are restored on the new connection.
    expect(await bus.request(subjects.query('alive'), null)).toBe('yes');
  });
});

describe('nats bus with authentication', () => {
  let server: TestNatsServer;
  beforeAll(async () => {
    server = await startNatsServer({ jetstream: false, user: 'overseer', pass: 'correct "horse"' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('nats bus - user and password are accepted', async () => {
    const bus = await connectBus({ servers: server.url, user: 'overseer', pass: 'correct "horse"', name: 'auth-ok' });
    bus.reply(subjects.query('whoami'), () => 'overseer');
    await bus.flush();
    expect(await bus.request(subjects.query('whoami'), null)).toBe('overseer');
    await bus.close();
  });

  test('nats bus - a bad password fails with BusAuthError', async () => {
    const err = await connectBus({ servers: server.url, user: 'overseer', pass: 'wrong', name: 'auth-bad' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BusAuthError);
    expect((err as Error).name).toBe('BusAuthError');
    expect((err as Error).message).toMatch(/refused the credentials for user 'overseer'.*Authorization Violation/);
    expect((err as Error).message).not.toContain('wrong');
  });

  test('nats bus - no credentials fails with BusAuthError', async () => {
    await expect(connectBus({ servers: server.url, name: 'auth-none' })).rejects.toBeInstanceOf(BusAuthError);
  });
});
