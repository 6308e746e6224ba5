// The `notifications` section of the Overseer config: channels with severity routing, dedupe window,
// rate limit, retries. Strict keys; every key has a default. Mounted by actors/config.ts.
import { z } from 'zod';
import { assertSubject, SUBJECT_ROOT } from '../../protocol';
import { quietWindowSchema } from './quiet-hours';
import { SEVERITIES } from './types';

const positive = z.number().int().positive();
const count = z.number().int().nonnegative();
const channelName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'must be a name of letters, digits, _ and -');
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

const natsSubject = z.string().superRefine((subject, ctx) => {
  if (!subject.startsWith(`${SUBJECT_ROOT}.`)) {
    ctx.addIssue({ code: 'custom', message: `must start with '${SUBJECT_ROOT}.'` });
    return;
  }
  try {
    assertSubject(subject);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

/** Keys every channel has. */
const common = {
  /** Name in stats and logs; default: the type (with its position when a type is used twice). */
  name: channelName.optional(),
  /** Lowest severity sent to this channel. */
  minSeverity: z.enum(SEVERITIES).default('info'),
  /** Overrides the section's rateLimitPerMinute for this channel. */
  rateLimitPerMinute: positive.optional(),
  /** Quiet hours: notifications below each window's `pass` are held back, then summed up in one (quiet-hours.ts). */
  quietHours: z.array(quietWindowSchema).default([]),
};

export const webhookChannelSchema = z.strictObject({
  type: z.literal('webhook'),
  ...common,
  url: httpUrl,
  /** HMAC-SHA256 key for X-Overseer-Signature. */
  secret: z.string().min(16, 'must be at least 16 characters'),
});

export const slackChannelSchema = z.strictObject({
  type: z.literal('slack'),
  ...common,
  /** A Slack(-compatible) incoming webhook URL. */
  url: httpUrl,
});

export const natsChannelSchema = z.strictObject({
  type: z.literal('nats'),
  ...common,
  /** Published on as is; must start with 'overseer.'. */
  subject: natsSubject,
});

export const channelSchema = z.discriminatedUnion('type', [
  webhookChannelSchema,
  slackChannelSchema,
  natsChannelSchema,
]);

export const notifyConfigSchema = z
  .strictObject({
    channels: z.array(channelSchema).default([]),
    /** The same key within this window is sent once; 0 turns dedupe off. */
    dedupeWindowSeconds: count.default(600),
    /** Per channel (token bucket, bursts up to this many); excess is dropped and counted. */
    rateLimitPerMinute: positive.default(30),
    /** Attempts per notification and channel (first try included). */
    maxAttempts: positive.max(10).default(3),
    /** Backoff before attempt n+1: retryBaseMs * 2^(n-1), at most retryMaxMs. */
    retryBaseMs: positive.default(1_000),
    retryMaxMs: positive.default(30_000),
    /** Time limit of one attempt. */
    attemptTimeoutMs: positive.default(10_000),
    /** Per-channel queue; when full the oldest waiting notification is dropped. */
    queueSize: positive.max(10_000).default(100),
  })
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.channels.forEach((ch, i) => {
      if (ch.name === undefined) return;
      if (seen.has(ch.name)) {
        ctx.addIssue({ code: 'custom', path: ['channels', i, 'name'], message: `duplicate channel name '${ch.name}'` });
      }
      seen.add(ch.name);
    });
  })
  .prefault({});

export type NotifyConfig = z.output<typeof notifyConfigSchema>;
/** What may be written in the config file (defaults not applied yet). */
export type NotifyConfigInput = z.input<typeof notifyConfigSchema>;
export type ChannelConfig = NotifyConfig['channels'][number];
export type WebhookChannelConfig = z.output<typeof webhookChannelSchema>;
export type SlackChannelConfig = z.output<typeof slackChannelSchema>;
export type NatsChannelConfig = z.output<typeof natsChannelSchema>;
