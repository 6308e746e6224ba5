import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, test } from 'vitest';
import { SimulatedClock, SystemClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import { createMemoryBus } from '../../adapters/nats';
import { findFreePort } from '../../adapters/nats/server-process';
import {
  createNotifier,
  type Notification,
  type NotifierDeps,
  type NotifyConfigInput,
  verifySignature,
} from '../../adapters/notify';
import { type Receiver, startReceiver, until } from './receiver';

const SECRET = 'test-secret-0123456789';
const system = new SystemClock();
const open: { close(): Promise<void> }[] = [];

afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const r = await startReceiver(...args);
  open.push(r);
  return r;
}

function setup(config: NotifyConfigInput, deps: Partial<NotifierDeps> = {}) {
  const clock = deps.clock ?? system;
  const log = createMemoryLog(clock);
  const notifier = createNotifier({ clock, log, ...deps }, config);
  open.push(notifier);
  return { notifier, log, clock };
}

let seq = 0;
function note(over: Partial<Notification> = {}): Notification {
  seq++;
  return {
    key: `incident-${seq}:open`,
    severity: 'critical',
    title: `VM 101 stopped unexpectedly`,
    text: 'running → stopped with no request behind it',
    subject: 'vm:lab/101',
    at: 1_700_000_000_000,
    ...over,
  };
}

describe('notify', () => {
  test('notify - webhook POSTs the notification signed with an HMAC of its timestamp and exact body', async () => {
    const hook = await receiver();
    const clock = new SimulatedClock(1_700_000_123_456);
    const { notifier } = setup({ channels: [{ type: 'webhook', url: hook.url, secret: SECRET }] }, { clock });
    const n = note({ data: { vmid: 101, node: 'pve1' } });
    notifier.notify(n);
    await notifier.flush();
    expect(hook.received).toHaveLength(1);
    const [req] = hook.received;
    expect(req!.method).toBe('POST');
    expect(req!.headers['content-type']).toBe('application/json');
    // Unix seconds of the injected clock, and the HMAC of `${timestamp}.${body}`.
    expect(req!.headers['x-overseer-timestamp']).toBe('1700000123');
    const expected = `v1=${createHmac('sha256', SECRET).update(`1700000123.${req!.body}`).digest('hex')}`;
    expect(req!.headers['x-overseer-signature']).toBe(expected);
    const signature = req!.headers['x-overseer-signature'] as string;
    const timestamp = req!.headers['x-overseer-timestamp'] as string;
    const at = { nowMs: clock.now() };
    expect(verifySignature(SECRET, req!.body, signature, timestamp, at)).toBe(true);
    expect(verifySignature('another-secret-0123', req!.body, signature, timestamp, at)).toBe(false);
    // The timestamp is covered: the same signature with another timestamp does not verify.
    expect(verifySignature(SECRET, req!.body, signature, '1700000124', at)).toBe(false);
    expect(JSON.parse(req!.body)).toEqual(n);
    expect(notifier.stats().channels.webhook).toMatchObject({ type: 'webhook', sent: 1, failed: 0, retries: 0 });
  });

  test('notify - slack gets an incoming-webhook message with text and blocks', async () => {
    const slack = await receiver();
    const { notifier } = setup({ channels: [{ type: 'slack', url: slack.url }] });
    notifier.notify(note({ severity: 'warning', title: 'Disk <full>', text: 'usage 97% & rising' }));
    await notifier.flush();
    const [msg] = slack.json<{ text: string; blocks: { type: string; text?: { type: string; text: string } }[] }>();
    expect(msg!.text).toContain('[WARNING] Disk &lt;full&gt;');
    expect(msg!.text).toContain('usage 97% &amp; rising');
    expect(msg!.blocks.map((b) => b.type)).toEqual(['header', 'section', 'context']);
    expect(msg!.blocks[0]!.text).toEqual({ type: 'plain_text', text: '[WARNING] Disk <full>', emoji: true });
    expect(msg!.blocks[1]!.text).toEqual({ type: 'mrkdwn', text: 'usage 97% &amp; rising' });
  });

  test('notify - routes by severity: info never reaches a critical-only channel', async () => {
    const pager = await receiver();
    const chat = await receiver();
    const { notifier } = setup({
      channels: [
        { type: 'webhook', name: 'pager', url: pager.url, secret: SECRET, minSeverity: 'critical' },
        { type: 'slack', name: 'chat', url: chat.url },
      ],
    });
    notifier.notify(note({ severity: 'info', title: 'sync done' }));
    notifier.notify(note({ severity: 'warning', title: 'load high' }));
    notifier.notify(note({ severity: 'critical', title: 'quorum lost' }));
    await notifier.flush();
    expect(pager.json<Notification>().map((n) => n.title)).toEqual(['quorum lost']);
    expect(chat.received).toHaveLength(3);
    expect(notifier.stats().channels.pager).toMatchObject({ sent: 1, filtered: 2 });
  });

  test('notify - the same key within the dedupe window is sent once, and again after it', async () => {
    const hook = await receiver();
    const clock = new SimulatedClock(0);
    const { notifier } = setup(
      { channels: [{ type: 'webhook', url: hook.url, secret: SECRET }], dedupeWindowSeconds: 600 },
      { clock },
    );
    const n = note({ key: 'incident-7:open' });
    notifier.notify(n);
    notifier.notify({ ...n, text: 'again' });
    clock.advance(599_999);
    notifier.notify(n);
    notifier.notify(note({ key: 'incident-7:resolved' }));
    await notifier.flush();
    expect(hook.json<Notification>().map((x) => x.key)).toEqual(['incident-7:open', 'incident-7:resolved']);
    clock.advance(1);
    notifier.notify(n);
    await notifier.flush();
    expect(hook.received).toHaveLength(3);
    expect(notifier.stats()).toMatchObject({ received: 5, deduplicated: 2 });
  });

  test('notify - the rate limit drops the excess, counts it and logs one summary', async () => {
    const hook = await receiver();
    const clock = new SimulatedClock(0);
    const { notifier, log } = setup(
      { channels: [{ type: 'webhook', url: hook.url, secret: SECRET }], rateLimitPerMinute: 3 },
      { clock },
    );
    for (let i = 0; i < 10; i++) notifier.notify(note());
    await notifier.flush();
    expect(hook.received).toHaveLength(3);
    expect(notifier.stats().channels.webhook).toMatchObject({ sent: 3, rateLimited: 7, queued: 0 });
    expect(log.lines.filter((l) => l.includes('rate limit of 3/min reached'))).toHaveLength(1);
    expect(log.lines.filter((l) => l.includes('dropped 7 notification(s) over the rate limit'))).toHaveLength(1);
    // One token per 20 s comes back.
    clock.advance(20_000);
    notifier.notify(note());
    notifier.notify(note());
    await notifier.flush();
    expect(hook.received).toHaveLength(4);
    expect(notifier.stats().channels.webhook!.rateLimited).toBe(8);
  });

  test('notify - retries a 500 with backoff, then succeeds; a 400 is not retried', async () => {
    const hook = await receiver((r, i) => (JSON.parse(r.body).title === 'bad' ? 400 : i === 0 ? 500 : 200));
    const { notifier, log } = setup({
      channels: [{ type: 'webhook', url: hook.url, secret: SECRET }],
      retryBaseMs: 20,
    });
    notifier.notify(note({ title: 'good' }));
    await notifier.flush();
    expect(hook.received).toHaveLength(2);
    expect(hook.received[0]!.body).toBe(hook.received[1]!.body);
    expect(notifier.stats().channels.webhook).toMatchObject({ sent: 1, retries: 1, failed: 0 });

    notifier.notify(note({ title: 'bad' }));
    await notifier.flush();
    expect(hook.received).toHaveLength(3);
    expect(notifier.stats().channels.webhook).toMatchObject({ sent: 1, retries: 1, failed: 1 });
    expect(log.lines.some((l) => l.includes('giving up') && l.includes('HTTP 400'))).toBe(true);
  });

  test('notify - a 429 is retried after the Retry-After the receiver asks for', async () => {
    const hook = await receiver((_r, i) => (i === 0 ? { status: 429, headers: { 'Retry-After': '0' } } : 200));
    const { notifier } = setup({ channels: [{ type: 'slack', url: hook.url }], retryBaseMs: 10 });
    notifier.notify(note());
    await notifier.flush();
    expect(notifier.stats().channels.slack).toMatchObject({ sent: 1, retries: 1 });
  });

  test('notify - a receiver that is down never blocks notify() or the other channels', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const down = `http://127.0.0.1:${await findFreePort()}/hook`;
      const chat = await receiver();
      const { notifier, log } = setup({
        channels: [
          { type: 'webhook', name: 'down', url: down, secret: SECRET },
          { type: 'slack', name: 'chat', url: chat.url },
        ],
        retryBaseMs: 10,
      });
      const started = performance.now();
      for (let i = 0; i < 5; i++) notifier.notify(note());
      expect(performance.now() - started).toBeLessThan(50);
      await notifier.flush();
      expect(chat.received).toHaveLength(5);
      expect(notifier.stats().channels.down).toMatchObject({ sent: 0, failed: 5, retries: 10 });
      expect(log.lines.filter((l) => l.includes('notify down: giving up'))).toHaveLength(5);
      // The URL is never logged (webhook URLs can carry secrets).
      expect(log.lines.some((l) => l.includes(down))).toBe(false);
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test('notify - a hanging receiver times out per attempt on the clock and does not stall the others', async () => {
    const hang = await receiver(() => 'hang');
    const chat = await receiver();
    const clock = new SimulatedClock(0);
    const { notifier, log } = setup(
      {
        channels: [
          { type: 'webhook', name: 'hang', url: hang.url, secret: SECRET },
          { type: 'slack', name: 'chat', url: chat.url },
        ],
        attemptTimeoutMs: 5_000,
        retryBaseMs: 1_000,
        maxAttempts: 2,
      },
      { clock },
    );
    const started = performance.now();
    notifier.notify(note());
    expect(performance.now() - started).toBeLessThan(50);
    await until(() => chat.received.length === 1 && hang.received.length === 1, 3_000, 'both receivers');
    const hangStats = () => notifier.stats().channels.hang!;
    expect(hangStats()).toMatchObject({ inFlight: 1, sent: 0, failed: 0 });

    clock.advance(4_999);
    await new Promise((r) => setTimeout(r, 20));
    expect(hangStats().retries).toBe(0);
    clock.advance(1);
    await until(() => hangStats().retries === 1, 3_000, 'the first attempt to time out');
    clock.advance(1_000);
    await until(() => hang.received.length === 2, 3_000, 'the second attempt');
    clock.advance(5_000);
    await until(() => hangStats().failed === 1, 3_000, 'giving up');
    expect(log.lines.some((l) => l.includes('notify hang: giving up') && l.includes('timed out after 5000 ms'))).toBe(
      true,
    );
    expect(notifier.stats().channels.chat).toMatchObject({ sent: 1, failed: 0 });
    await notifier.flush();
  });

  test('notify - a full queue drops the oldest, and close() abandons the rest without waiting', async () => {
    const hang = await receiver(() => 'hang');
    const { notifier, log } = setup({
      channels: [{ type: 'webhook', url: hang.url, secret: SECRET }],
      queueSize: 2,
    });
    const keys = [1, 2, 3, 4, 5].map((i) => `q-${i}`);
    for (const key of keys) notifier.notify(note({ key }));
    expect(notifier.stats().channels.webhook).toMatchObject({ queued: 2, overflowed: 3 });
    expect(log.lines.filter((l) => l.includes('queue full'))).toHaveLength(1);
    await until(() => hang.received.length === 1, 3_000, 'the first delivery');
    expect(hang.json<Notification>()[0]!.key).toBe('q-4');
    const started = performance.now();
    await notifier.close();
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(notifier.stats().channels.webhook).toMatchObject({ queued: 0, inFlight: 0, abandoned: 2, sent: 0 });
    notifier.notify(note());
    expect(notifier.stats().channels.webhook!.queued).toBe(0);
  });

  test('notify - a nats channel publishes the notification on the bus', async () => {
    const bus = createMemoryBus();
    const got: { subject: string; payload: unknown }[] = [];
    bus.subscribe('overseer.notify.>', (subject, payload) => got.push({ subject, payload }));
    const { notifier } = setup(
      { channels: [{ type: 'nats', subject: 'overseer.notify.alerts', minSeverity: 'warning' }] },
      { bus },
    );
    const n = note();
    notifier.notify(n);
    notifier.notify(note({ severity: 'info' }));
    await notifier.flush();
    await until(() => got.length === 1, 1_000, 'the bus message');
    expect(got).toEqual([{ subject: 'overseer.notify.alerts', payload: n }]);
    expect(notifier.stats().channels.nats).toMatchObject({ type: 'nats', sent: 1, filtered: 1 });
    await bus.close();
  });

  test('notify - malformed notifications and unserializable data never throw', async () => {
    const hook = await receiver();
    const { notifier, log } = setup({ channels: [{ type: 'webhook', url: hook.url, secret: SECRET }] });
    expect(() => notifier.notify(null as unknown as Notification)).not.toThrow();
    expect(() => notifier.notify({ ...note(), severity: 'loud' as 'info' })).not.toThrow();
    notifier.notify(note({ key: 'with-bigint', data: { big: 1n } }));
    await notifier.flush();
    expect(notifier.stats()).toMatchObject({ received: 3, invalid: 2 });
    expect(hook.json<Notification>()[0]).not.toHaveProperty('data');
    expect(log.lines.some((l) => l.includes("data of 'with-bigint' cannot be sent as JSON"))).toBe(true);
  });
});
