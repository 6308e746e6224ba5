// The notifier: dedupes, routes by severity to each configured channel, and never lets a slow or failing
// channel block the caller or the other channels.

import { Channel } from './channel';
import { type ChannelConfig, type NotifyConfig, type NotifyConfigInput, notifyConfigSchema } from './config';
import { Deduper } from './dedupe';
import { NotifyConfigError } from './errors';
import { prepareNotification } from './payloads';
import { natsTransport, slackTransport, type Transport, webhookTransport } from './transports';
import { type Notification, type Notifier, type NotifierDeps, type NotifierStats, SEVERITIES } from './types';

/** Longest dedupe key accepted. */
export const MAX_KEY_LENGTH = 512;

function parseNotifyConfig(config: NotifyConfigInput): NotifyConfig {
  const result = notifyConfigSchema.safeParse(config);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const key = issue?.path.map(String).join('.') || '(root)';
  throw new NotifyConfigError(`notifications: '${key}' ${issue?.message ?? 'is invalid'}`);
}

/** Channel names: the configured one, else the type (with its position when a type appears twice). */
function channelNames(channels: ChannelConfig[]): string[] {
  const perType = new Map<string, number>();
  for (const ch of channels) perType.set(ch.type, (perType.get(ch.type) ?? 0) + 1);
  const names = channels.map((ch, i) => ch.name ?? ((perType.get(ch.type) ?? 0) > 1 ? `${ch.type}-${i}` : ch.type));
  if (new Set(names).size !== names.length) {
    throw new NotifyConfigError(`notifications: channel names are not unique (${names.join(', ')}); set 'name'`);
  }
  return names;
}

function problemOf(n: Notification): string | undefined {
  if (!n || typeof n !== 'object') return 'not an object';
  if (typeof n.key !== 'string' || n.key.length === 0 || n.key.length > MAX_KEY_LENGTH) {
    return `key must be a string of 1..${MAX_KEY_LENGTH} characters`;
  }
  if (!SEVERITIES.includes(n.severity)) return `severity must be one of ${SEVERITIES.join(', ')}`;
  if (typeof n.title !== 'string' || typeof n.text !== 'string') return 'title and text must be strings';
  if (n.subject !== undefined && typeof n.subject !== 'string') return 'subject must be a string';
  if (typeof n.at !== 'number' || !Number.isFinite(n.at)) return 'at must be a number (epoch ms)';
  return undefined;
}

/**
 * Builds the notifier. Throws NotifyConfigError for an unusable configuration (at start-up, never later).
 * `config` may be the raw section (defaults are applied here) or the parsed one.
 */
export function createNotifier(deps: NotifierDeps, config: NotifyConfigInput = {}): Notifier {
  const { clock, log } = deps;
  const cfg = parseNotifyConfig(config);
  const fetchFn = deps.fetch ?? globalThis.fetch;
  const lifetime = new AbortController();
  const names = channelNames(cfg.channels);

  const transportOf = (ch: ChannelConfig, name: string): Transport => {
    switch (ch.type) {
      case 'webhook':
        return webhookTransport(ch, fetchFn, clock);
      case 'slack':
        return slackTransport(ch, fetchFn, clock);
      case 'nats':
        if (!deps.bus)
          throw new NotifyConfigError(`notifications: channel '${name}' publishes on NATS but no bus was given`);
        return natsTransport(ch, deps.bus);
    }
  };

  const channels = cfg.channels.map((ch, i) => {
    const name = names[i]!;
    return new Channel({
      name,
      minSeverity: ch.minSeverity,
      quietHours: ch.quietHours,
      rateLimitPerMinute: ch.rateLimitPerMinute ?? cfg.rateLimitPerMinute,
      queueSize: cfg.queueSize,
      maxAttempts: cfg.maxAttempts,
      retryBaseMs: cfg.retryBaseMs,
      retryMaxMs: cfg.retryMaxMs,
      attemptTimeoutMs: cfg.attemptTimeoutMs,
      transport: transportOf(ch, name),
      clock,
      log,
      closed: lifetime.signal,
    });
  });

  const deduper = new Deduper(clock, cfg.dedupeWindowSeconds * 1000);
  const counts = { received: 0, deduplicated: 0, invalid: 0 };

  function notify(n: Notification): void {
    try {
      counts.received++;
      if (lifetime.signal.aborted) return;
      const problem = problemOf(n);
      if (problem) {
        counts.invalid++;
        log.warn(`notify: ignoring a malformed notification: ${problem}`);
        return;
      }
      if (deduper.isRepeat(n.key)) {
        counts.deduplicated++;
        return;
      }
      const prepared = prepareNotification(n);
      if (prepared.dataDropped) log.warn(`notify: data of '${n.key}' cannot be sent as JSON; sent without it`);
      for (const ch of channels) ch.offer(prepared);
    } catch (err) {
      log.error('notify: unexpected failure', err);
    }
  }

  async function flush(): Promise<void> {
    for (;;) {
      await Promise.all(channels.map((c) => c.whenIdle()));
      if (channels.every((c) => c.stats.queued === 0 && c.stats.inFlight === 0)) break;
    }
    for (const c of channels) c.reportDrops();
  }

  function stats(): NotifierStats {
    return {
      ...counts,
      channels: Object.fromEntries(channels.map((c) => [c.name, { ...c.stats }])),
    };
  }

  async function close(): Promise<void> {
    if (!lifetime.signal.aborted) {
      const reason = new Error('notifier closed');
      reason.name = 'NotifierClosed';
      lifetime.abort(reason);
    }
    for (const c of channels) c.abandonQueued();
    await flush();
  }

  return { notify, flush, stats, close };
}
