import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  collectEvents,
  connectBus,
  EVENT_STREAM,
  ensureEventStream,
  ensureWorkStream,
  eventFilter,
  InvalidSubjectError,
  type NatsBus,
  StreamError,
  subjects,
} from '../../adapters/nats';
import { startNatsServer, type TestNatsServer } from '../helpers/nats-server';

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
    const all = await collectEvents(js, eventFilter());
    expect(all.map((e) => e.payload)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    expect(all.map((e) => e.seq)).toEqual([1, 2, 3, 4]);

    const vm101 = await collectEvents(js, eventFilter({ kind: 'vm', cluster: 'lab', vmid: 101 }));
    expect(vm101.map((e) => [e.subject, e.payload])).toEqual([
      ['overseer.evt.vm.lab.101.running', { n: 1 }],
      ['overseer.evt.vm.lab.101.stopped', { n: 4 }],
    ]);

    const fromSeq3 = await collectEvents(js, eventFilter(), 3);
    expect(fromSeq3.map((e) => e.seq)).toEqual([3, 4]);

    const limited = await collectEvents(js, eventFilter(), 1, { limit: 2 });
    expect(limited.map((e) => e.seq)).toEqual([1, 2]);

    const future = await collectEvents(js, eventFilter(), new Date(Date.now() + 60_000));
    expect(future).toEqual([]);
    const past = await collectEvents(js, eventFilter({ kind: 'req' }), new Date(Date.now() - 60_000));
    expect(past.map((e) => e.payload)).toEqual([{ n: 2 }]);
    expect(Math.abs(past[0]!.time - Date.now())).toBeLessThan(60_000);

    expect(await collectEvents(js, eventFilter({ kind: 'incident' }))).toEqual([]);
    await expect(collectEvents(js, 'overseer.req.>')).rejects.toBeInstanceOf(InvalidSubjectError);
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
    const kept = await collectEvents(bus.jetstream(), eventFilter({ kind: 'loop' }));
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

  test('event stream - a stream of the wrong kind under the same name is a StreamError', async () => {
    const jsm = await bus.jetstreamManager();
    // Pretend someone created OVERSEER_WORK by hand with limits retention.
    await jsm.streams.add({ name: 'OVERSEER_WORK', subjects: ['overseer.work.>'], retention: 'limits' });
    const err = await ensureWorkStream(jsm).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamError);
    expect((err as StreamError).stream).toBe('OVERSEER_WORK');
    expect((err as Error).message).toMatch(/retention limits/);
    await jsm.streams.delete('OVERSEER_WORK');
  });

  test('event stream - replay without the stream is a StreamError', async () => {
    const other = await startNatsServer({ jetstream: true });
    const b = await connectBus({ servers: other.url, name: 'no-stream' });
    try {
      await expect(collectEvents(b.jetstream(), eventFilter())).rejects.toBeInstanceOf(StreamError);
    } finally {
      await b.close();
      await other.stop();
    }
  });
});
