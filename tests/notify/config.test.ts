import { describe, expect, test } from 'vitest';
import { SystemClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import {
  backoffMs,
  createNotifier,
  isRetryable,
  NotifyConfigError,
  NotifyHttpError,
  NotifyTimeoutError,
  notifyConfigSchema,
  parseRetryAfter,
} from '../../adapters/notify';

const clock = new SystemClock();

describe('notify config', () => {
  test('notify config - every key has a default', () => {
    expect(notifyConfigSchema.parse(undefined)).toEqual({
      channels: [],
      dedupeWindowSeconds: 600,
      rateLimitPerMinute: 30,
      maxAttempts: 3,
      retryBaseMs: 1000,
      retryMaxMs: 30000,
      attemptTimeoutMs: 10000,
      queueSize: 100,
    });
    const parsed = notifyConfigSchema.parse({ channels: [{ type: 'slack', url: 'https://hooks.example/x' }] });
    expect(parsed.channels[0]).toEqual({
      type: 'slack',
      url: 'https://hooks.example/x',
      minSeverity: 'info',
      quietHours: [],
    });
  });

  test('notify config - unknown keys, bad URLs, short secrets and foreign subjects are refused', () => {
    const bad = (raw: unknown) => notifyConfigSchema.safeParse(raw).success;
    expect(bad({ dedupeWindow: 5 })).toBe(false);
    expect(bad({ channels: [{ type: 'slack', url: 'https://h.example/x', extra: 1 }] })).toBe(false);
    expect(bad({ channels: [{ type: 'slack', url: 'ftp://h.example/x' }] })).toBe(false);
    expect(bad({ channels: [{ type: 'webhook', url: 'https://h.example/x', secret: 'short' }] })).toBe(false);
    expect(bad({ channels: [{ type: 'nats', subject: 'alerts.critical' }] })).toBe(false);
    expect(bad({ channels: [{ type: 'nats', subject: 'overseer.bad subject' }] })).toBe(false);
    expect(bad({ channels: [{ type: 'nats', subject: 'overseer.notify.>' }] })).toBe(false);
    expect(bad({ channels: [{ type: 'nats', subject: 'overseer.notify' }] })).toBe(true);
    expect(bad({ channels: [{ type: 'email', to: 'x' }] })).toBe(false);
    expect(bad({ rateLimitPerMinute: 0 })).toBe(false);
    expect(
      bad({
        channels: [
          { type: 'slack', name: 'ops', url: 'https://h.example/a' },
          { type: 'slack', name: 'ops', url: 'https://h.example/b' },
        ],
      }),
    ).toBe(false);
  });

  test('notify config - createNotifier refuses a bad config and a nats channel without a bus', () => {
    const deps = { clock, log: createMemoryLog(clock) };
    expect(() => createNotifier(deps, { channels: [{ type: 'nats', subject: 'overseer.notify' }] })).toThrow(
      NotifyConfigError,
    );
    expect(() => createNotifier(deps, { queueSize: -1 })).toThrow(/queueSize/);
    const parsed = notifyConfigSchema.parse({});
    expect(createNotifier(deps, parsed).stats()).toEqual({ received: 0, deduplicated: 0, invalid: 0, channels: {} });
  });

  test('notify config - retry policy: which failures are retried and how long to wait', () => {
    expect(isRetryable(new NotifyHttpError('x', 500))).toBe(true);
    expect(isRetryable(new NotifyHttpError('x', 503))).toBe(true);
    expect(isRetryable(new NotifyHttpError('x', 429))).toBe(true);
    expect(isRetryable(new NotifyHttpError('x', 404))).toBe(false);
    expect(isRetryable(new NotifyHttpError('x', 301))).toBe(false);
    expect(isRetryable(new NotifyTimeoutError('x', 10))).toBe(true);
    expect(isRetryable(new TypeError('fetch failed'))).toBe(true);
    expect([1, 2, 3, 10].map((a) => backoffMs(a, 1000, 30_000))).toEqual([1000, 2000, 4000, 30_000]);
    expect(backoffMs(1, 1000, 30_000, 5_000)).toBe(5_000);
    expect(parseRetryAfter('7', 0)).toBe(7_000);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 4_000)).toBe(6_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });
});
