// Typed errors of the notification adapter. Each has a `name` and keeps its `cause`. Messages name the
// channel, never its URL (webhook URLs often carry a secret).

/** A notification configuration that cannot be used (e.g. a nats channel without a bus). */
export class NotifyConfigError extends Error {
  override name = 'NotifyConfigError';
}

/** One delivery attempt was answered with a failing HTTP status. */
export class NotifyHttpError extends Error {
  override name = 'NotifyHttpError';
  constructor(
    message: string,
    readonly status: number,
    /** From a Retry-After header (429/503), when given. */
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** One delivery attempt did not finish within its time limit and was aborted. */
export class NotifyTimeoutError extends Error {
  override name = 'NotifyTimeoutError';
  constructor(
    message: string,
    readonly timeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A notification could not be delivered to a channel; `cause` is the last attempt's error. */
export class NotifyDeliveryError extends Error {
  override name = 'NotifyDeliveryError';
  constructor(
    message: string,
    readonly channel: string,
    readonly key: string,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
