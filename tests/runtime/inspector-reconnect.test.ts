// OVERSEER_INSPECT when the inspector is not there: a plain `ws` server on 127.0.0.1 stands in for it, goes away
// and comes back on the same port. The inspector connection says so in the log and reconnects; the inspector that
// comes back is sent the live actors again and the events it missed.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { assign, createActor, setup } from 'xstate';
import { createInspector, type RunningInspector } from '../../actors/inspector';
import { SystemClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import { findFreePort } from '../../adapters/nats';

interface Message {
  type: string;
  name?: string;
  sessionId?: string;
  event?: { type?: string };
  snapshot?: { value?: unknown };
}

interface Recorder {
  wss: WebSocketServer;
  port: number;
  received: Message[];
  close(): Promise<void>;
}

async function startRecorder(port = 0): Promise<Recorder> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const received: Message[] = [];
  wss.on('connection', (socket) => {
    socket.on('message', (data) => received.push(JSON.parse(data.toString()) as Message));
  });
  return {
    wss,
    port: (wss.address() as AddressInfo).port,
    received,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

async function until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const toggle = setup({ types: { events: {} as { type: 'flip' }, context: {} as { flips: number } } }).createMachine({
  id: 'toggle',
  context: { flips: 0 },
  initial: 'off',
  states: {
    off: { on: { flip: { target: 'on', actions: assign({ flips: ({ context }) => context.flips + 1 }) } } },
    on: { on: { flip: { target: 'off', actions: assign({ flips: ({ context }) => context.flips + 1 }) } } },
  },
});

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const clock = new SystemClock();
const fast = { clock, minBackoffMs: 50, maxBackoffMs: 200 };

describe('inspector reconnect', () => {
  it('inspector - an inspector that goes away is logged, retried, and given the live actors and missed events when back', async () => {
    const log = createMemoryLog(clock);
    let server = await startRecorder();
    const port = server.port;
    cleanups.push(() => server.close());
    const inspector: RunningInspector = createInspector(`ws://127.0.0.1:${port}`, log, fast);
    cleanups.push(() => inspector.stop());
    const actor = createActor(toggle, { inspect: inspector.inspect }).start();
    cleanups.push(() => actor.stop());
    const first = server.received;
    await until('the actor registered with the first inspector', () =>
      first.some((m) => m.type === '@xstate.actor' && m.name === 'toggle'),
    );
    const sessionId = first.find((m) => m.name === 'toggle')?.sessionId;

    await server.close();
    await until('the lost connection logged', () => log.lines.some((l) => l.includes('lost the connection')));
    expect(inspector.connected).toBe(false);
    expect(log.lines.find((l) => l.includes('lost the connection'))).toMatch(
      new RegExp(`warn: inspector: lost the connection to ws://127\\.0\\.0\\.1:${port} .*trying again with backoff`),
    );
    actor.send({ type: 'flip' });
    actor.send({ type: 'flip' });
    actor.send({ type: 'flip' });
    // Let a few attempts fail before the inspector is back.
    await new Promise((r) => setTimeout(r, 300));

    server = await startRecorder(port);
    const second = server.received;
    await until('the actor registered again with the restarted inspector', () =>
      second.some((m) => m.type === '@xstate.actor' && m.sessionId === sessionId),
    );
    await until(
      'the missed events delivered',
      () => second.filter((m) => m.type === '@xstate.event' && m.event?.type === 'flip').length === 3,
    );
    // Its latest snapshot came with it: the restarted inspector shows the state the actor is in now.
    const snapshot = second.findLast((m) => m.type === '@xstate.snapshot' && m.sessionId === sessionId);
    expect(snapshot?.snapshot?.value).toBe('on');
    expect(inspector.connected).toBe(true);
    expect(log.lines.filter((l) => l.includes('lost the connection'))).toHaveLength(1);
    expect(log.lines.some((l) => /info: inspector at .* reachable again after \d+ s \(\d+ attempts?\)/.test(l))).toBe(
      true,
    );

    // Live again: a new event goes straight through.
    actor.send({ type: 'flip' });
    await until(
      'a live event after the reconnect',
      () => second.filter((m) => m.type === '@xstate.event' && m.event?.type === 'flip').length === 4,
    );
  });

  it('inspector - an inspector that is down at start is logged and connected to when it comes up', async () => {
    const log = createMemoryLog(clock);
    const port = await findFreePort();
    const inspector = createInspector(`ws://127.0.0.1:${port}`, log, fast);
    cleanups.push(() => inspector.stop());
    const actor = createActor(toggle, { inspect: inspector.inspect }).start();
    cleanups.push(() => actor.stop());
    await until('the unreachable inspector logged', () => log.lines.some((l) => l.includes('cannot reach')));
    expect(log.lines.find((l) => l.includes('cannot reach'))).toMatch(
      new RegExp(`warn: inspector: cannot reach ws://127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED.*\\)`),
    );

    const server = await startRecorder(port);
    cleanups.push(() => server.close());
    await until('the actor registered once the inspector is up', () =>
      server.received.some((m) => m.type === '@xstate.actor' && m.name === 'toggle'),
    );
    expect(log.lines.some((l) => l.includes('reachable again'))).toBe(true);
  });

  it('inspector - stop ends the retries', async () => {
    const log = createMemoryLog(clock);
    const port = await findFreePort();
    const inspector = createInspector(`ws://127.0.0.1:${port}`, log, fast);
    await until('the unreachable inspector logged', () => log.lines.some((l) => l.includes('cannot reach')));
    inspector.stop();
    const server = await startRecorder(port);
    cleanups.push(() => server.close());
    await new Promise((r) => setTimeout(r, 400));
    expect(server.wss.clients.size).toBe(0);
  });
});
