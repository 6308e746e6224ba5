import { DeliverPolicy, type JetStreamClient, jetstreamManager, type OrderedConsumerOptions } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connectBus, EVENT_STREAM, ensureEventStream, type NatsBus, StreamError } from '../../adapters/nats';
import { eventFilter, subjects } from '../../protocol';
import { startNatsServer, type TestNatsServer } from '../helpers/nats-server';

interface StoredEvent {
  subject: string;
  seq: number;
  time: number;
  payload: unknown;
}

/**
 * Reads the events stream as any subscriber would: a plain ordered consumer, from the start (or a sequence or a
 * time), filtered, until nothing is pending.
 */
async function readEvents(
  js: JetStreamClient,
  filter: string,
  opts: { seq?: number; since?: Date; limit?: number; stream?: string } = {},
): Promise<StoredEvent[]> {
  const config: Partial<OrderedConsumerOptions> = { filter_subjects: filter };
  if (opts.seq !== undefined) {
    config.deliver_policy = DeliverPolicy.StartSequence;
    config.opt_start_seq = opts.seq;
  } else if (opts.since !== undefined) {
    config.deliver_policy = DeliverPolicy.StartTime;
    config.opt_start_time = opts.since.toISOString();
  }
  const consumer = await js.consumers.get(opts.stream ?? EVENT_STREAM, config);
  const limit = opts.limit ?? 1_000;
  const out: StoredEvent[] = [];
  const batch = await consumer.fetch({ max_messages: limit, expires: 1_000 });
  for await (const m of batch) {
    out.push({ subject: m.subject, seq: m.seq, time: Math.round(m.info.timestampNanos / 1e6), payload: m.json() });
    if (m.info.pending === 0 || out.length >= limit) break;
  }
  await consumer.delete().catch(() => {});
  return out;
}

describe('event stream', () => {
  let server: TestNatsServer;
  let bus: NatsBus;
  beforeAll(async () => {
    server = await startNatsServer({ jetstream: true });
    bus = await connectBus({ servers: server.url, name: 'streams' });
  });
  afterAll(async () => {
    await bus?.close();
    await server?.stop();
  });

  test('event stream - events published on the bus are captured and replayable by filter', async () => {
    const jsm = await bus.jetstreamManager();
    const info = await ensureEventStream(jsm, { maxMsgs: 1_000, maxBytes: 1024 * 1024, maxAgeMs: 3_600_000 });
    expect(info.config.name).toBe('OVERSEER_EVENTS');
    expect(info.config.subjects).toEqual(['overseer.evt.>']);
    expect(info.config.storage).toBe('file');
    expect(info.config.retention).toBe('limits');

    bus.publish(subjects.evtVm('lab', 101, 'running'), { n: 1 });
    bus.publish(subjects.evtReq('r1', 'approved'), { n: 2 });
    bus.publish(subjects.evtVm('lab', 102, 'stopped'), { n: 3 });
    bus.publish(subjects.evtVm('lab', 101, 'stopped'), { n: 4 });
    await bus.flush();
    await expect.poll(async () => (await jsm.streams.info(EVENT_STREAM)).state.messages).toBe(4);

    const js = bus.jetstream();
    const all = await readEvents(js, eventFilter());
    expect(all.map((e) => e.payload)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    expect(all.map((e) => e.seq)).toEqual([1, 2, 3, 4]);

    const vm101 = await readEvents(js, eventFilter({ kind: 'vm', cluster: 'lab', vmid: 101 }));
    expect(vm101.map((e) => [e.subject, e.payload])).toEqual([
      ['overseer.evt.vm.lab.101.running', { n: 1 }],
      ['overseer.evt.vm.lab.101.stopped', { n: 4 }],
    ]);

    const fromSeq3 = await readEvents(js, eventFilter(), { seq: 3 });
    expect(fromSeq3.map((e) => e.seq)).toEqual([3, 4]);

    const limited = await readEvents(js, eventFilter(), { seq: 1, limit: 2 });
    expect(limited.map((e) => e.seq)).toEqual([1, 2]);

    const future = await readEvents(js, eventFilter(), { since: new Date(Date.now() + 60_000) });
    expect(future).toEqual([]);
    const past = await readEvents(js, eventFilter({ kind: 'req' }), { since: new Date(Date.now() - 60_000) });
    expect(past.map((e) => e.payload)).toEqual([{ n: 2 }]);
    expect(Math.abs(past[0]!.time - Date.now())).toBeLessThan(60_000);

    expect(await readEvents(js, eventFilter({ kind: 'incident' }))).toEqual([]);
  });

  test('event stream - is bounded: maxMsgs keeps only the newest events', async () => {
    const jsm = await bus.jetstreamManager();
    const info = await ensureEventStream(jsm, { maxMsgs: 5, maxBytes: 1024 * 1024, maxAgeMs: 3_600_000 });
    expect(info.config.max_msgs).toBe(5);
    for (let i = 0; i < 12; i++) bus.publish(subjects.evtLoop('sync', 'tick'), { i });
    await bus.flush();
    await expect.poll(async () => (await jsm.streams.info(EVENT_STREAM)).state.last_seq).toBe(16);
    const state = (await jsm.streams.info(EVENT_STREAM)).state;
    expect(state.messages).toBe(5);
    const kept = await readEvents(bus.jetstream(), eventFilter({ kind: 'loop' }));
    expect(kept.map((e) => e.payload)).toEqual([7, 8, 9, 10, 11].map((i) => ({ i })));
  });

  test('event stream - ensuring twice is idempotent', async () => {
    const jsm = await bus.jetstreamManager();
    const limits = { maxMsgs: 5, maxBytes: 1024 * 1024, maxAgeMs: 3_600_000 };
    const a = await ensureEventStream(jsm, limits);
    const b = await ensureEventStream(jsm, limits);
    expect(b.created).toBe(a.created);
    expect(b.state.messages).toBe(5);
  });

  test('event stream - a namespace has its own stream on its own subjects', async () => {
    const jsm = await bus.jetstreamManager();
    const info = await ensureEventStream(jsm, { namespace: 'site-a', maxMsgs: 100 });
    expect(info.config.name).toBe('OVERSEER_EVENTS_site-a');
    expect(info.config.subjects).toEqual(['overseer.site-a.evt.>']);
    const before = (await jsm.streams.info(EVENT_STREAM)).state.last_seq;

    const scoped = await connectBus({ servers: server.url, name: 'streams-ns', namespace: 'site-a' });
    try {
      scoped.publish(subjects.evtReq('r9', 'denied'), { ns: 'site-a' });
      await scoped.flush();
      await expect.poll(async () => (await jsm.streams.info('OVERSEER_EVENTS_site-a')).state.messages).toBe(1);
      const kept = await readEvents(bus.jetstream(), 'overseer.site-a.evt.>', { stream: 'OVERSEER_EVENTS_site-a' });
      expect(kept.map((e) => [e.subject, e.payload])).toEqual([
        ['overseer.site-a.evt.req.r9.denied', { ns: 'site-a' }],
      ]);
      // Nothing of it reached the un-namespaced stream.
      expect((await jsm.streams.info(EVENT_STREAM)).state.last_seq).toBe(before);
    } finally {
      await scoped.close();
    }
  });

  test('event stream - a stream of the wrong kind under the same name is a StreamError', async () => {
    const other = await startNatsServer({ jetstream: true });
    const b = await connectBus({ servers: other.url, name: 'wrong-kind' });
    try {
      const jsm = await b.jetstreamManager();
      // Pretend someone created OVERSEER_EVENTS by hand as a work queue.
      await jsm.streams.add({ name: EVENT_STREAM, subjects: ['overseer.evt.>'], retention: 'workqueue' });
      const err = await ensureEventStream(jsm).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StreamError);
      expect((err as StreamError).stream).toBe(EVENT_STREAM);
      expect((err as Error).message).toMatch(/retention workqueue/);
    } finally {
      await b.close();
      await other.stop();
    }
  });

  test('event stream - a server without JetStream is a StreamError', async () => {
    const other = await startNatsServer({ jetstream: false });
    const b = await connectBus({ servers: other.url, name: 'no-jetstream' });
    try {
      // Without the API check, so the stream operation itself meets the missing JetStream.
      const jsm = await jetstreamManager(b.nc, { checkAPI: false, timeout: 2_000 });
      const err = await ensureEventStream(jsm).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StreamError);
      expect((err as StreamError).stream).toBe(EVENT_STREAM);
    } finally {
      await b.close();
      await other.stop();
    }
  });
});
