// One delivery attempt per channel type: webhook (signed JSON POST), Slack incoming webhook, NATS publish.
import type { Clock } from '../clock';
import type { Bus } from '../nats/bus';
import type { NatsChannelConfig, SlackChannelConfig, WebhookChannelConfig } from './config';
import { NotifyHttpError } from './errors';
import { type PreparedNotification, slackPayload } from './payloads';
import { parseRetryAfter } from './retry';
import { signatureHeaders } from './signature';
import type { ChannelType } from './types';

export interface Transport {
  readonly type: ChannelType;
  /** One attempt; rejects on failure. Must stop when `signal` aborts. */
  send(p: PreparedNotification, signal: AbortSignal): Promise<void>;
}

export const USER_AGENT = 'overseer-notify/1';
/** Most bytes of an error answer kept for the log. */
const SNIPPET_BYTES = 512;

/** Reads at most `max` bytes of a body, then lets the rest go. */
async function readSnippet(res: Response, max = SNIPPET_BYTES): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).subarray(0, max).toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 200);
}

async function postJson(
  fetchFn: typeof fetch,
  clock: Clock,
  url: string,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<void> {
  const res = await fetchFn(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'User-Agent': USER_AGENT, ...headers },
    body,
    signal,
    // A redirect is a misconfiguration; the signed body is not re-sent elsewhere.
    redirect: 'manual',
  });
  if (res.status >= 200 && res.status < 300) {
    await res.body?.cancel().catch(() => {});
    return;
  }
  const snippet = await readSnippet(res).catch(() => '');
  throw new NotifyHttpError(
    `HTTP ${res.status}${snippet ? `: ${snippet}` : ''}`,
    res.status,
    parseRetryAfter(res.headers.get('retry-after'), clock.now()),
  );
}

export function webhookTransport(cfg: WebhookChannelConfig, fetchFn: typeof fetch, clock: Clock): Transport {
  return {
    type: 'webhook',
    send: (p, signal) =>
      postJson(
        fetchFn,
        clock,
        cfg.url,
        p.json,
        // Signed per attempt: a retry carries its own timestamp, so it stays inside receivers' replay window.
        signatureHeaders(cfg.secret, p.json, clock.now()),
        signal,
      ),
  };
}

export function slackTransport(cfg: SlackChannelConfig, fetchFn: typeof fetch, clock: Clock): Transport {
  return {
    type: 'slack',
    send: (p, signal) => postJson(fetchFn, clock, cfg.url, JSON.stringify(slackPayload(p.n)), {}, signal),
  };
}

export function natsTransport(cfg: NatsChannelConfig, bus: Bus): Transport {
  return {
    type: 'nats',
    send: async (p) => {
      bus.publish(cfg.subject, p.n);
    },
  };
}
