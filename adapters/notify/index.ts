// The notification adapter: webhook (HMAC-signed), Slack incoming webhook and NATS channels, with severity
// routing, deduplication, per-channel rate limits, bounded queues and retries on the injected clock.
export type {
  ChannelConfig,
  NatsChannelConfig,
  NotifyConfig,
  NotifyConfigInput,
  SlackChannelConfig,
  WebhookChannelConfig,
} from './config';
export {
  channelSchema,
  natsChannelSchema,
  notifyConfigSchema,
  slackChannelSchema,
  webhookChannelSchema,
} from './config';
export { MAX_DEDUPE_KEYS } from './dedupe';
export { NotifyConfigError, NotifyDeliveryError, NotifyHttpError, NotifyTimeoutError } from './errors';
export { createNotifier, MAX_KEY_LENGTH } from './notifier';
export type { PreparedNotification, SlackMessage } from './payloads';
export { prepareNotification, slackEscape, slackPayload } from './payloads';
export type { QuietSpell, QuietWindow, Weekday } from './quiet-hours';
export { quietSpellAt, quietWindowSchema, WEEKDAYS } from './quiet-hours';
export { backoffMs, isRetryable, parseRetryAfter } from './retry';
export type { VerifyOptions, VerifyResult } from './signature';
export {
  checkSignature,
  DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
  SIGNATURE_HEADER,
  SIGNATURE_VERSION,
  signatureHeaders,
  signatureTimestamp,
  signBody,
  TIMESTAMP_HEADER,
  verifySignature,
} from './signature';
export { USER_AGENT } from './transports';
export type {
  ChannelStats,
  ChannelType,
  Notification,
  Notifier,
  NotifierDeps,
  NotifierStats,
  Severity,
} from './types';
export { SEVERITIES, SEVERITY_RANK } from './types';
