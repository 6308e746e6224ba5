// Typed errors of the NATS adapter. Each has a `name` and keeps its `cause`. The errors every bus client sees
// are the wire contract's (protocol/errors.ts), re-exported here.
import { BusError } from '../../protocol/errors';

export {
  BusError,
  BusPayloadError,
  BusRemoteError,
  BusTimeoutError,
  BusUnavailableError,
  InvalidSubjectError,
} from '../../protocol/errors';

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
