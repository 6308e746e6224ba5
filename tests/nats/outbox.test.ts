// The outbox (adapters/nats/outbox.ts) on a real nats-server: what one event-loop turn sends leaves in one socket
// write, in order, and nothing is lost on drain or close.

import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connectBus, NatsBus } from '../../adapters/nats';
import { installOutbox } from '../../adapters/nats/outbox';
import { natsServerAvailable, startNatsServer, type TestNatsServer } from '../helpers/nats-server';

/** Counts the socket writes of a bus's connection. */
function countWrites(bus: NatsBus): { count: number } {
  const writes = { count: 0 };
  const protocol = (bus.nc as unknown as { protocol: { transport: { send(frame: Uint8Array): void } } }).protocol;
  const transport = protocol.transport;
  const send = transport.send.bind(transport);
  transport.send = (frame) => {
    writes.count++;
    send(frame);
  };
  return writes;
}

/**
 * Publishes `n` messages, each from its own callback of one event-loop turn (as replies leave, one per message or
 * socket read the core handles in that turn): immediates queued together run in one check phase.
 */
async function burst(bus: NatsBus, n: number): Promise<void> {
  await Promise.all(
    Array.from(
      { length: n },
      (_, i) =>
        new Promise<void>((resolve) =>
          setImmediate(() => {
            bus.publish('overseer.evt.test', { i });
            resolve();
          }),
        ),
    ),
  );
}

describe.runIf(natsServerAvailable)('nats outbox', () => {
  let server: TestNatsServer;
  beforeAll(async () => {
    server = await startNatsServer({ jetstream: false });
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('nats outbox - one turn of messages leaves in one write, in order; without it, in many', async () => {
    const sink = await connectBus({ servers: server.url, name: 'outbox-sink' });
    // Connections of their own (whether connectBus installs an outbox or not): one without, one with.
    const plain = new NatsBus(await connect({ servers: server.url, name: 'outbox-plain' }), { name: 'outbox-plain' });
    const batched = new NatsBus(await connect({ servers: server.url, name: 'outbox-batched' }), {
      name: 'outbox-batched',
    });
    const undo = installOutbox(batched.nc);
    expect(undo).toBeTypeOf('function');
    expect(installOutbox(batched.nc)).toBe(false);
    const got: number[] = [];
    sink.subscribe('overseer.evt.test', (_s, p) => got.push((p as { i: number }).i));
    await sink.flush();

    const plainWrites = countWrites(plain);
    await burst(plain, 50);
    await plain.flush();
    const batchedWrites = countWrites(batched);
    await burst(batched, 50);
    await batched.flush();
    await sink.flush();
    await new Promise((r) => setTimeout(r, 100));

    expect(plainWrites.count).toBeGreaterThan(10);
    // The burst and the flush's PING go out together.
    expect(batchedWrites.count).toBe(1);
    expect(got).toEqual([...Array.from({ length: 50 }, (_, i) => i), ...Array.from({ length: 50 }, (_, i) => i)]);
    if (undo) undo();
    await Promise.all([sink.close(), plain.close(), batched.close()]);
  });

  test('nats outbox - requests are answered, and what was sent right before close or drain arrives', async () => {
    const core = await connectBus({ servers: server.url, name: 'outbox-core' });
    const gateway = await connectBus({ servers: server.url, name: 'outbox-gateway' });
    installOutbox(core.nc);
    installOutbox(gateway.nc);
    core.reply('overseer.query.ping', (p) => ({ pong: (p as { n: number }).n }));
    await core.flush();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, n) => gateway.request<{ pong: number }>('overseer.query.ping', { n })),
    );
    expect(answers.map((a) => a.pong)).toEqual(Array.from({ length: 20 }, (_, n) => n));

    const got: number[] = [];
    const sink = await connectBus({ servers: server.url, name: 'outbox-sink2' });
    sink.subscribe('overseer.evt.test', (_s, p) => got.push((p as { i: number }).i));
    await sink.flush();
    gateway.publish('overseer.evt.test', { i: 1 });
    await gateway.close();
    const direct = await connectBus({ servers: server.url, name: 'outbox-direct' });
    installOutbox(direct.nc);
    direct.publish('overseer.evt.test', { i: 2 });
    await direct.nc.close();
    const deadline = Date.now() + 5_000;
    while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual([1, 2]);
    await Promise.all([core.close(), sink.close()]);
  });

  test('nats outbox - a connection of another shape is left as it is', () => {
    expect(installOutbox({})).toBe(false);
    expect(installOutbox({ protocol: { flushPending: 1 } })).toBe(false);
  });
});
