// What goes on the wire: the notification as JSON (webhook, NATS), and a Slack incoming-webhook message.
import type { Notification, Severity } from './types';

/** A notification checked and serialized once, shared by every channel. */
export interface PreparedNotification {
  /** The notification as sent (JSON-safe). */
  n: Notification;
  /** Its exact JSON: the webhook body, the bytes signed. */
  json: string;
}

/** Copies the known fields; `data` that cannot become JSON is dropped (the caller is told via `dataDropped`). */
export function prepareNotification(n: Notification): PreparedNotification & { dataDropped: boolean } {
  const base: Notification = {
    key: n.key,
    severity: n.severity,
    title: n.title,
    text: n.text,
    ...(n.subject !== undefined ? { subject: n.subject } : {}),
    at: n.at,
  };
  if (n.data !== undefined) {
    try {
      const data = JSON.stringify(n.data);
      if (data !== undefined) {
        const withData: Notification = { ...base, data: JSON.parse(data) as unknown };
        return { n: withData, json: JSON.stringify(withData), dataDropped: false };
      }
    } catch {
      return { n: base, json: JSON.stringify(base), dataDropped: true };
    }
  }
  return { n: base, json: JSON.stringify(base), dataDropped: false };
}

const EMOJI: Record<Severity, string> = {
  info: ':information_source:',
  warning: ':warning:',
  critical: ':rotating_light:',
};

/** Slack mrkdwn/plain text: &, < and > are control characters there. */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export interface SlackMessage {
  /** Fallback text (notifications, clients without blocks). */
  text: string;
  blocks: unknown[];
}

/** A Slack-compatible incoming-webhook message (`{text, blocks}`), within Slack's block size limits. */
export function slackPayload(n: Notification): SlackMessage {
  const sev = n.severity.toUpperCase();
  const about = n.subject ? ` (${n.subject})` : '';
  const context = [`*Severity:* ${sev}`, ...(n.subject ? [`*Subject:* ${slackEscape(n.subject)}`] : [])];
  context.push(`*At:* ${Number.isFinite(n.at) ? new Date(n.at).toISOString() : String(n.at)}`);
  return {
    text: cut(
      `${EMOJI[n.severity]} [${sev}] ${slackEscape(n.title)}${slackEscape(about)}: ${slackEscape(n.text)}`,
      3000,
    ),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: cut(`[${sev}] ${n.title}`, 150), emoji: true } },
      ...(n.text ? [{ type: 'section', text: { type: 'mrkdwn', text: cut(slackEscape(n.text), 3000) } }] : []),
      { type: 'context', elements: [{ type: 'mrkdwn', text: context.join('  •  ') }] },
    ],
  };
}
