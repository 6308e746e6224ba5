import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import {
  connectBus,
  consumeWork,
  enqueueWork,
  ensureWorkStream,
  InvalidSubjectError,
  type NatsBus,
  StreamError,
  subjects,
  WORK_STREAM,
  type WorkConsumer,
  type WorkItem,
} from '../../adapters/nats';
import { startNatsServer, type TestNatsServer } from '../helpers/nats-server';

const waitFor = async (cond: () => boolean, ms = 15_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

const queued = async (bus: NatsBus) => (await (await bus.jetstreamManager()).streams.info(WORK_STREAM)).state.messages;

describe('work queue', () => {
  let server: TestNatsServer;
  let bus: NatsBus;
  const consumers: WorkConsumer[] = [];
  beforeAll(async () => {
    server = await startNatsServer({ jetstream: true });
  });
  beforeEach(async () => {
    bus = await connectBus({ servers: server.url, name: 'work' });
    const jsm = await bus.jetstreamManager();
    await jsm.streams.delete(WORK_STREAM).catch(() => false);
    await ensureWorkStream(jsm);
  });
  afterEach(async () => {
    for (const c of consumers.splice(0)) await c.stop();
    await bus.close();
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('work queue - enqueueing the same id twice stores it once', async () => {
    const js = bus.jetstream();
    const subject = subjects.work('execute', 'r1');
    const first = await enqueueWork(js, subject, { requestId: 'r1' }, { msgId: 'r1' });
    const again = await enqueueWork(js, subject, { requestId: 'r1' }, { msgId: 'r1' });
    expect(first.duplicate).toBe(false);
    expect(again).toEqual({ seq: first.seq, duplicate: true });
    expect(await queued(bus)).toBe(1);
  });

  test('work queue - refuses subjects outside overseer.work and reports a missing stream', async () => {
    const js = bus.jetstream();
    await expect(enqueueWork(js, subjects.evtReq('r1', 'approved'), {}, { msgId: 'x' })).rejects.toBeInstanceOf(
      InvalidSubjectError,
    );
    await (await bus.jetstreamManager()).streams.delete(WORK_STREAM);
    const err = await enqueueWork(js, subjects.work('execute', 'r1'), {}, { msgId: 'x', timeoutMs: 1_000 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StreamError);
  });

  test('work queue - an item is acked (and removed) only after the handler resolves', async () => {
    const js = bus.jetstream();
    let release!: () => void;
    const got: WorkItem[] = [];
    consumers.push(
      await consumeWork(js, 'executor', async (item) => {
        got.push(item);
        await new Promise<void>((r) => {
          release = r;
        });
      }),
    );
    await enqueueWork(js, subjects.work('execute', 'r1'), { requestId: 'r1' }, { msgId: 'r1' });
    await waitFor(() => got.length === 1);
    expect(got[0]).toMatchObject({
      subject: 'overseer.work.execute.r1',
      payload: { requestId: 'r1' },
      deliveryCount: 1,
      redelivered: false,
    });
    expect(await queued(bus)).toBe(1);
    release();
    await expect.poll(() => queued(bus)).toBe(0);
  });

  test('work queue - a failing handler gets the item again', async () => {
    const js = bus.jetstream();
    const got: WorkItem[] = [];
    consumers.push(
      await consumeWork(
        js,
        'executor',
        async (item) => {
          got.push(item);
          if (got.length === 1) throw new Error('platform unavailable');
        },
        { retryDelayMs: 50 },
      ),
    );
    await enqueueWork(js, subjects.work('execute', 'r2'), { requestId: 'r2' }, { msgId: 'r2' });
    await waitFor(() => got.length === 2);
    expect(got.map((i) => [i.deliveryCount, i.redelivered])).toEqual([
      [1, false],
      [2, true],
    ]);
    await expect.poll(() => queued(bus)).toBe(0);
  });

  test('work queue - an item survives a consumer that dies without acking', async () => {
    const dying = await connectBus({ servers: server.url, name: 'dying-worker' });
    const seenByDying: WorkItem[] = [];
    let unblock!: () => void;
    await consumeWork(
      dying.jetstream(),
      'executor',
      async (item) => {
        seenByDying.push(item);
        await new Promise<void>((r) => {
          unblock = r;
        });
      },
      { ackWaitMs: 1_000 },
    );
    await enqueueWork(bus.jetstream(), subjects.work('execute', 'r3'), { requestId: 'r3' }, { msgId: 'r3' });
    await waitFor(() => seenByDying.length === 1);
    // The worker process dies mid-item: its connection goes away without an ack.
    await dying.nc.close();

    const got: WorkItem[] = [];
    consumers.push(
      await consumeWork(
        bus.jetstream(),
        'executor',
        async (item) => {
          got.push(item);
        },
        { ackWaitMs: 1_000 },
      ),
    );
    await waitFor(() => got.length === 1);
    expect(got[0]).toMatchObject({ payload: { requestId: 'r3' }, redelivered: true, deliveryCount: 2 });
    await expect.poll(() => queued(bus)).toBe(0);
    unblock();
  });

  test('work queue - a payload that is not JSON is dropped, not retried forever', async () => {
    const js = bus.jetstream();
    const got: WorkItem[] = [];
    consumers.push(await consumeWork(js, 'executor', async (item) => void got.push(item)));
    await js.publish(subjects.work('execute', 'junk'), '{nope');
    await enqueueWork(js, subjects.work('execute', 'ok'), { fine: true }, { msgId: 'ok' });
    await waitFor(() => got.length === 1);
    expect(got[0]!.payload).toEqual({ fine: true });
    await expect.poll(() => queued(bus)).toBe(0);
  });
});

describe('work queue across a server crash', () => {
  let server: TestNatsServer;
  beforeAll(async () => {
    server = await startNatsServer({ jetstream: true });
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('work queue - items survive a nats-server kill and restart, and a running consumer carries on', async () => {
    const bus = await connectBus({ servers: server.url, name: 'crash' });
    try {
      await ensureWorkStream(await bus.jetstreamManager());
      await enqueueWork(bus.jetstream(), subjects.work('execute', 'a'), { n: 'a' }, { msgId: 'a' });
      await enqueueWork(bus.jetstream(), subjects.work('execute', 'b'), { n: 'b' }, { msgId: 'b' });

      await server.kill(); // SIGKILL: no clean shutdown
      await waitFor(() => !bus.connected);
      await server.restart();
      await waitFor(() => bus.connected);
      expect(await queued(bus)).toBe(2);

      const got: unknown[] = [];
      const consumer = await consumeWork(bus.jetstream(), 'executor', async (item) => void got.push(item.payload));
      await waitFor(() => got.length === 2);
      expect(got).toEqual([{ n: 'a' }, { n: 'b' }]);
      await expect.poll(() => queued(bus)).toBe(0);

      // The same consumer keeps working through another crash.
      await server.kill();
      await waitFor(() => !bus.connected);
      await server.restart();
      await waitFor(() => bus.connected);
      await enqueueWork(bus.jetstream(), subjects.work('execute', 'c'), { n: 'c' }, { msgId: 'c' });
      await waitFor(() => got.length === 3, 20_000);
      expect(got[2]).toEqual({ n: 'c' });
      await consumer.stop();
    } finally {
      await bus.close();
    }
  });
});
