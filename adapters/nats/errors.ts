// Typed errors of the NATS layer. Each has a `name` and keeps its `cause`.

/** A subject, subject token, filter or actor id that cannot be used. Names the offending part. */
export class InvalidSubjectError extends Error {
  override name = 'InvalidSubjectError';
  constructor(
    message: string,
    /** The offending value (a token, a whole subject or an actor id). */
    readonly value: string,
    /** What the value was meant to be: 'cluster', 'vmid', 'filter', 'subject', ... */
    readonly part: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Base of every message-bus failure. */
export class BusError extends Error {
  override name = 'BusError';
}

/** The bus cannot carry the message now: disconnected, closed, or nobody answers on the subject. */
export class BusUnavailableError extends BusError {
  override name = 'BusUnavailableError';
  constructor(
    message: string,
    readonly subject?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A request got no answer in time. */
export class BusTimeoutError extends BusError {
  override name = 'BusTimeoutError';
  constructor(
    message: string,
    readonly subject: string,
    readonly timeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The responder's handler failed; `remoteName` is the name of the error it threw. */
export class BusRemoteError extends BusError {
  override name = 'BusRemoteError';
  constructor(
    message: string,
    readonly subject: string,
    readonly remoteName: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A payload that is not JSON (received) or cannot become JSON (sent). */
export class BusPayloadError extends BusError {
  override name = 'BusPayloadError';
}

/** The server refused our credentials. */
export class BusAuthError extends BusError {
  override name = 'BusAuthError';
  constructor(
    message: string,
    readonly servers: string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The first connection could not be made (no server listening, TLS, DNS, ...). */
export class BusConnectError extends BusError {
  override name = 'BusConnectError';
  constructor(
    message: string,
    readonly servers: string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A JetStream stream or consumer operation failed (missing stream, conflicting config, no JetStream). */
export class StreamError extends Error {
  override name = 'StreamError';
  constructor(
    message: string,
    readonly stream: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The nats-server process did not start or did not become ready. */
export class NatsServerStartError extends Error {
  override name = 'NatsServerStartError';
  constructor(
    message: string,
    /** The last lines the server wrote, for diagnosis. */
    readonly output: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
