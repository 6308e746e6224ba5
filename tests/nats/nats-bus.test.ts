import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  BusAuthError,
  BusConnectError,
  BusUnavailableError,
  connectBus,
  ERROR_HEADER,
  findFreePort,
  InvalidSubjectError,
  type NatsBus,
} from '../../adapters/nats';
import { InputRefusedError, subjects } from '../../protocol';
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

  test('nats bus - an answered request makes no error object (patches/@nats-io+nats-core: no stack captured per reply)', async () => {
    // The module request.js reads RequestError from, as Node loaded it for the bus.
    const errors = createRequire(createRequire(import.meta.url).resolve('@nats-io/nats-core'))('./errors.js') as {
      RequestError: new (...args: never[]) => Error;
    };
    const Original = errors.RequestError;
    let made = 0;
    errors.RequestError = class extends Original {
      constructor(...args: never[]) {
        super(...args);
        made++;
      }
    };
    const a = await connectBus({ servers: server.url, name: 'answers-a' });
    const b = await connectBus({ servers: server.url, name: 'answers-b' });
    try {
      b.reply(subjects.query('echo'), (payload) => payload);
      await b.flush();
      for (let i = 0; i < 20; i++) expect(await a.request(subjects.query('echo'), { i })).toEqual({ i });
      expect(made).toBe(0);
      // A request nobody answers still fails as before.
      await expect(a.request(subjects.query('nobody'), {}, { timeoutMs: 200 })).rejects.toThrow();
    } finally {
      errors.RequestError = Original;
      await a.close();
      await b.close();
    }
  });

  test('nats bus - a responder logs a caller refused at info, a handler that fails as a warning', async () => {
    const a = await connectBus({ servers: server.url, name: 'refuse-a' });
    const lines: string[] = [];
    const log = {
      stateChange: () => undefined,
      info: (m: string) => lines.push(`info: ${m}`),
      warn: (m: string) => lines.push(`warn: ${m}`),
      error: (m: string) => lines.push(`error: ${m}`),
    };
    const b = await connectBus({ servers: server.url, name: 'refuse-b', log });
    try {
      b.reply(subjects.query('picky'), (payload) => {
        if (payload === 'boom') throw new Error('disk on fire');
        throw new InputRefusedError("no cluster 'nope'", 'cluster');
      });
      await b.flush();
      await expect(a.request(subjects.query('picky'), 'x')).rejects.toMatchObject({ remoteName: 'InputRefusedError' });
      await expect(a.request(subjects.query('picky'), 'boom')).rejects.toMatchObject({ remoteName: 'Error' });
      await expect.poll(() => lines.length).toBe(2);
      expect(lines[0]).toMatch(/^info: reply overseer\.query\.picky: refused: .*no cluster 'nope'/);
      expect(lines[1]).toMatch(/^warn: reply overseer\.query\.picky: handler failed: .*disk on fire/);
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

describe('nats bus with a namespace', () => {
  let server: TestNatsServer;
  beforeAll(async () => {
    server = await startNatsServer({ jetstream: false });
  });
  afterAll(async () => {
    await server?.stop();
  });

  busContract('nats bus with a namespace', async () => {
    const a = await connectBus({ servers: server.url, name: 'ns-a', namespace: 'site-1' });
    const b = await connectBus({ servers: server.url, name: 'ns-b', namespace: 'site-1' });
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

  test('nats bus - a namespace puts overseer subjects under overseer.<ns> on the wire and takes it off on delivery', async () => {
    const raw = await connectBus({ servers: server.url, name: 'ns-raw' });
    const scoped = await connectBus({ servers: server.url, name: 'ns-scoped', namespace: 'site-2' });
    try {
      const onWire: string[] = [];
      raw.subscribe('overseer.>', (subject) => onWire.push(subject));
      const delivered: string[] = [];
      scoped.subscribe(subjects.allEvents, (subject) => delivered.push(subject));
      scoped.reply(subjects.query('where'), (_payload, subject) => subject);
      await raw.flush();
      await scoped.flush();

      scoped.publish(subjects.evtLoop('sync', 'tick'), { n: 1 });
      expect(await scoped.request(subjects.query('where'), {})).toBe('overseer.query.where');
      await waitFor(() => delivered.length === 1 && onWire.length >= 2);
      expect(delivered).toEqual(['overseer.evt.loop.sync.tick']);
      expect(onWire).toContain('overseer.site-2.evt.loop.sync.tick');
      expect(onWire).toContain('overseer.site-2.query.where');
      expect(scoped.namespace).toBe('site-2');
    } finally {
      await raw.close();
      await scoped.close();
    }
  });

  test('nats bus - two namespaces on one server never answer each other', async () => {
    const a = await connectBus({ servers: server.url, name: 'ns-one', namespace: 'one' });
    const b = await connectBus({ servers: server.url, name: 'ns-two', namespace: 'two' });
    try {
      a.reply(subjects.reqSubmit, () => 'one', { queue: 'overseer-core' });
      const seenByTwo: string[] = [];
      b.subscribe(subjects.allEvents, (subject) => seenByTwo.push(subject));
      await a.flush();
      await b.flush();
      expect(await a.request(subjects.reqSubmit, {})).toBe('one');
      await expect(b.request(subjects.reqSubmit, {}, { timeoutMs: 1_000 })).rejects.toBeInstanceOf(BusUnavailableError);
      a.publish(subjects.evtReq('r1', 'approved'), {});
      await a.flush();
      await b.flush();
      expect(seenByTwo).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('nats bus - a namespace must be one token of letters, digits, - and _', async () => {
    for (const bad of ['', 'a.b', 'a*', '>', 'a b', 'evt', 'x'.repeat(65)]) {
      await expect(connectBus({ servers: server.url, name: 'ns-bad', namespace: bad })).rejects.toBeInstanceOf(
        InvalidSubjectError,
      );
    }
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
