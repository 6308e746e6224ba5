// GET /v1/events resumes from the JetStream events stream: every event's id is its stream sequence, and a client that
// reconnects with Last-Event-ID (as EventSource does) gets every event it missed, then the live ones. Over the memory
// bus's stand-in for the stream and over a real nats-server with JetStream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsBus } from '../../adapters/nats';
import { connectBus, ensureEventStream } from '../../adapters/nats';
import { createMemoryBus } from '../../adapters/nats/memory-bus';
import type { GatewayApp } from '../../gateway';
import { createGateway } from '../../gateway';
import type { Bus } from '../../protocol';
import { createCoreClient, subjects } from '../../protocol';
import type { TestNatsServer } from '../helpers/nats-server';
import { natsServerAvailable, startNatsServer } from '../helpers/nats-server';
import type { FakeCore } from './fake-core';
import { startFakeCore } from './fake-core';

interface SseMessage {
  event?: string;
  id?: string;
  data: string;
}

/** Reads SSE messages until `count` data messages (not `ready`) arrived, then closes the stream. */
async function read(res: Response, count: number): Promise<SseMessage[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const messages: SseMessage[] = [];
  let buffer = '';
  const timeout = setTimeout(() => void reader.cancel(), 5_000);
  try {
    while (messages.filter((m) => m.event === undefined).length < count) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const msg: SseMessage = { data: '' };
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) msg.event = line.slice(7);
          else if (line.startsWith('id: ')) msg.id = line.slice(4);
          else if (line.startsWith('data: ')) msg.data += line.slice(6);
        }
        if (msg.data !== '' || msg.event) messages.push(msg);
      }
    }
  } finally {
    clearTimeout(timeout);
    await reader.cancel();
  }
  return messages;
}

const tick = (ms = 10) => new Promise((r) => setTimeout(r, ms));
const events = (messages: SseMessage[]) =>
  messages
    .filter((m) => m.event === undefined)
    .map((m) => ({ id: m.id, subject: (JSON.parse(m.data) as { subject: string }).subject }));

interface Harness {
  gateway: GatewayApp;
  core: FakeCore;
  logged: string[];
  open(headers?: Record<string, string>, query?: string): Promise<Response>;
}

function harness(bus: Bus): Harness {
  const core = startFakeCore(bus);
  const logged: string[] = [];
  const gateway = createGateway({
    core: createCoreClient(bus),
    bus,
    rateLimit: false,
    log: { warn: (m) => logged.push(m), error: (m) => logged.push(m) },
  });
  const open = async (headers: Record<string, string> = {}, query = '') => {
    const res = await gateway.app.request(`/v1/events${query}`, {
      headers: { authorization: `Bearer ${core.tokens.observer}`, ...headers },
    });
    await tick();
    return res;
  };
  return { gateway, core, logged, open };
}

describe('gateway events resume (memory bus with an events stream)', () => {
  it('events resume - ids are stream sequences; Last-Event-ID replays what was missed, then live events follow', async () => {
    const bus = createMemoryBus({ eventStream: true });
    const h = harness(bus);
    bus.publish(subjects.evtLoop('sync', 'before'), {});

    const first = await h.open();
    const reading = read(first, 2);
    bus.publish(subjects.evtReq('r1', 'approved'), { n: 1 });
    bus.publish(subjects.evtReq('r1', 'completed'), { n: 2 });
    const seen = await reading;
    expect(seen[0]).toEqual({ event: 'ready', data: JSON.stringify({ filter: 'overseer.evt.>', resumable: true }) });
    // Only events after the connection (the one before it is not sent), numbered as the stream numbers them.
    expect(events(seen)).toEqual([
      { id: '2', subject: 'overseer.evt.req.r1.approved' },
      { id: '3', subject: 'overseer.evt.req.r1.completed' },
    ]);

    // While the client is away.
    bus.publish(subjects.evtVm('lab', 101, 'stopped'), { n: 3 });
    bus.publish(subjects.evtReq('r2', 'approved'), { n: 4 });

    const again = await h.open({ 'Last-Event-ID': '3' });
    const resumed = read(again, 3);
    await tick();
    bus.publish(subjects.evtReq('r2', 'completed'), { n: 5 });
    const got = await resumed;
    expect(JSON.parse(got[0]!.data)).toEqual({ filter: 'overseer.evt.>', resumable: true, after: 3 });
    expect(events(got)).toEqual([
      { id: '4', subject: 'overseer.evt.vm.lab.101.stopped' },
      { id: '5', subject: 'overseer.evt.req.r2.approved' },
      { id: '6', subject: 'overseer.evt.req.r2.completed' },
    ]);
    // A filtered stream resumes within its filter; ?lastEventId= serves clients that cannot set the header.
    const filtered = await h.open({}, '?filter=overseer.evt.req.>&lastEventId=1');
    expect(events(await read(filtered, 4)).map((e) => e.id)).toEqual(['2', '3', '5', '6']);
    h.gateway.close();
  });

  it('events resume - a Last-Event-ID that is not an event id is a 400 naming the header', async () => {
    const h = harness(createMemoryBus({ eventStream: true }));
    for (const bad of ['abc', '-1', '1.5', '12345678901234567890']) {
      const res = await h.open({ 'Last-Event-ID': bad });
      expect(res.status, bad).toBe(400);
      expect(((await res.json()) as { error: { field: string; in: string } }).error).toMatchObject({
        field: 'Last-Event-ID',
        in: 'header',
      });
    }
    const res = await h.open({}, '?lastEventId=x');
    expect(res.status).toBe(400);
    h.gateway.close();
  });

  it('events resume - a slow reader makes the stream wait instead of losing events', async () => {
    const bus = createMemoryBus({ eventStream: true });
    const core = startFakeCore(bus);
    const gateway = createGateway({ core: createCoreClient(bus), bus, rateLimit: false, sseMaxPending: 2 });
    const res = await gateway.app.request('/v1/events', {
      headers: { authorization: `Bearer ${core.tokens.observer}` },
    });
    await tick();
    for (let i = 0; i < 20; i++) bus.publish(subjects.evtLoop('sync', `tick${i}`), { i });
    await tick(30);
    const got = await read(res, 20);
    expect(got.some((m) => m.event === 'dropped')).toBe(false);
    expect(events(got).map((e) => e.id)).toEqual(Array.from({ length: 20 }, (_, i) => String(i + 1)));
    gateway.close();
  });
});

describe.runIf(natsServerAvailable)('gateway events resume (real nats-server with JetStream)', () => {
  let server: TestNatsServer;
  const open: { close(): Promise<void> }[] = [];
  const connect = async (name: string): Promise<NatsBus> => {
    const bus = await connectBus({ servers: server.url, name });
    open.push(bus);
    return bus;
  };

  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(async () => {
    for (const c of open.splice(0).reverse()) await c.close().catch(() => {});
    await server?.stop();
  });

  it('events resume - a reconnecting client gets the events it missed from OVERSEER_EVENTS, with their sequences', async () => {
    const core = await connect('core');
    const jsm = await core.jetstreamManager();
    await ensureEventStream(jsm, { maxMsgs: 1_000 });
    const gatewayBus = await connect('gateway');
    const h = harness(gatewayBus);
    // The fake core answers on the core's connection.
    h.core.stop();
    const fake = startFakeCore(core);
    await core.flush();
    const token = fake.tokens.observer;
    const call = async (headers: Record<string, string> = {}) => {
      const res = await h.gateway.app.request('/v1/events?filter=overseer.evt.req.>', {
        headers: { authorization: `Bearer ${token}`, ...headers },
      });
      await tick(50);
      return res;
    };

    const first = await call();
    expect(first.status).toBe(200);
    const reading = read(first, 2);
    core.publish(subjects.evtReq('r1', 'approved'), {});
    core.publish(subjects.evtVm('lab', 101, 'stopped'), {});
    core.publish(subjects.evtReq('r1', 'completed'), {});
    const seen = events(await reading);
    expect(seen.map((e) => e.subject)).toEqual(['overseer.evt.req.r1.approved', 'overseer.evt.req.r1.completed']);
    const last = seen.at(-1)!.id!;
    const info = await jsm.streams.info('OVERSEER_EVENTS');
    expect(Number(last)).toBe(info.state.last_seq);

    // Missed while disconnected.
    core.publish(subjects.evtReq('r2', 'approved'), {});
    core.publish(subjects.evtReq('r2', 'completed'), {});
    await core.flush();

    const again = await call({ 'Last-Event-ID': last });
    const resumed = read(again, 3);
    await tick(50);
    core.publish(subjects.evtReq('r3', 'approved'), {});
    const got = events(await resumed);
    expect(got.map((e) => e.subject)).toEqual([
      'overseer.evt.req.r2.approved',
      'overseer.evt.req.r2.completed',
      'overseer.evt.req.r3.approved',
    ]);
    expect(got.map((e) => Number(e.id))).toEqual([Number(last) + 1, Number(last) + 2, Number(last) + 3]);
    // Every consumer the gateway made is gone once its client left.
    await tick(100);
    const consumers: string[] = [];
    for await (const c of jsm.consumers.list('OVERSEER_EVENTS')) consumers.push(c.name);
    expect(consumers).toEqual([]);
    fake.stop();
    h.gateway.close();
  });

  it('events resume - without the events stream the gateway relays live events, without ids, and says so', async () => {
    // A namespace whose stream nobody created.
    const nsBus = await connectBus({ servers: server.url, name: 'gw-ns', namespace: 'nostream' });
    open.push(nsBus);
    const h = harness(nsBus);
    const res = await h.open({ 'Last-Event-ID': '5' });
    expect(res.status).toBe(200);
    const reading = read(res, 1);
    await tick(50);
    nsBus.publish(subjects.evtLoop('sync', 'synced'), {});
    const got = await reading;
    expect(JSON.parse(got[0]!.data)).toEqual({ filter: 'overseer.evt.>', resumable: false });
    expect(got[1]).not.toHaveProperty('id');
    expect(h.logged.join('\n')).toMatch(/cannot read the events stream OVERSEER_EVENTS_nostream/);
    h.gateway.close();
  });
});
