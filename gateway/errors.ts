// Typed HTTP errors. Route code throws them; the one onError (on-error.ts) turns every error into a JSON answer.
import { CLEAR_SESSION_COOKIE, CSRF_HEADER } from './session';

/** Where the offending input was. */
export type InputLocation = 'body' | 'query' | 'path' | 'header';

export interface ErrorBody {
  code: string;
  message: string;
  /** The offending field, when one can be named (`target`, `params.template`, `limit`, `Idempotency-Key`). */
  field?: string;
  in?: InputLocation;
  issues?: { field: string; message: string }[];
}

export class HttpError extends Error {
  override name = 'HttpError';
  readonly headers: Record<string, string>;
  readonly field: string | undefined;
  readonly in: InputLocation | undefined;
  readonly issues: { field: string; message: string }[] | undefined;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options: {
      field?: string | undefined;
      in?: InputLocation | undefined;
      issues?: { field: string; message: string }[] | undefined;
      headers?: Record<string, string> | undefined;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.headers = options.headers ?? {};
    this.field = options.field;
    this.in = options.in;
    this.issues = options.issues;
  }

  body(): ErrorBody {
    return {
      code: this.code,
      message: this.message,
      ...(this.field !== undefined ? { field: this.field } : {}),
      ...(this.in !== undefined ? { in: this.in } : {}),
      ...(this.issues !== undefined ? { issues: this.issues } : {}),
    };
  }
}

export class BadRequestError extends HttpError {
  override name = 'BadRequestError';
  constructor(
    message: string,
    field?: string,
    where?: InputLocation,
    options: { issues?: { field: string; message: string }[]; cause?: unknown } = {},
  ) {
    super(400, 'invalid_input', message, { field, in: where, ...options });
  }
}

export class UnauthorizedError extends HttpError {
  override name = 'UnauthorizedError';
  constructor(message: string) {
    super(401, 'unauthorized', message, { headers: { 'WWW-Authenticate': 'Bearer realm="overseer"' } });
  }
}

export class ForbiddenError extends HttpError {
  override name = 'ForbiddenError';
  constructor(message: string, code = 'forbidden') {
    super(403, code, message);
  }
}

/** A dashboard session cookie that names no live session (expired, signed out, or the gateway restarted). */
export class SessionUnknownError extends HttpError {
  override name = 'SessionUnknownError';
  constructor(message = 'the session has expired or was signed out; sign in again') {
    super(401, 'unauthorized', message, {
      // The browser drops the dead cookie, so its next requests are plainly unauthenticated.
      headers: { 'WWW-Authenticate': 'Bearer realm="overseer"', 'Set-Cookie': CLEAR_SESSION_COOKIE },
    });
  }
}

/** A mutation authenticated by the session cookie without the session's CSRF token. */
export class CsrfError extends HttpError {
  override name = 'CsrfError';
  constructor(message = `a request authenticated by the session cookie must carry the session's ${CSRF_HEADER}`) {
    super(403, 'csrf', message, { field: CSRF_HEADER, in: 'header' });
  }
}

export class NotFoundError extends HttpError {
  override name = 'NotFoundError';
  constructor(message: string) {
    super(404, 'not_found', message);
  }
}

export class MethodNotAllowedError extends HttpError {
  override name = 'MethodNotAllowedError';
  constructor(method: string, path: string, allowed: string[]) {
    super(405, 'method_not_allowed', `${method} is not allowed on ${path} (allowed: ${allowed.join(', ')})`, {
      headers: { Allow: allowed.join(', ') },
    });
  }
}

export class ConflictError extends HttpError {
  override name = 'ConflictError';
  constructor(message: string) {
    super(409, 'conflict', message);
  }
}

export class PayloadTooLargeError extends HttpError {
  override name = 'PayloadTooLargeError';
  constructor(maxBytes: number) {
    super(413, 'payload_too_large', `request body larger than ${maxBytes} bytes`, { field: 'body', in: 'body' });
  }
}

export class UnsupportedMediaTypeError extends HttpError {
  override name = 'UnsupportedMediaTypeError';
  constructor(expected: string) {
    super(415, 'unsupported_media_type', `expected Content-Type ${expected}`, { field: 'Content-Type', in: 'header' });
  }
}

export class TooManyRequestsError extends HttpError {
  override name = 'TooManyRequestsError';
  constructor(retryAfterSeconds: number) {
    super(429, 'rate_limited', `too many requests for this token; retry in ${retryAfterSeconds} s`, {
      headers: { 'Retry-After': String(retryAfterSeconds) },
    });
  }
}

export class BadGatewayError extends HttpError {
  override name = 'BadGatewayError';
  constructor(message: string, cause?: unknown) {
    super(502, 'core_error', message, { cause });
  }
}

export class ServiceUnavailableError extends HttpError {
  override name = 'ServiceUnavailableError';
  constructor(message: string, retryAfterSeconds: number, cause?: unknown) {
    super(503, 'unavailable', message, { headers: { 'Retry-After': String(retryAfterSeconds) }, cause });
  }
}

/** The listening server could not start. */
export class GatewayListenError extends Error {
  override name = 'GatewayListenError';
  constructor(
    message: string,
    readonly hostname: string,
    readonly port: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
