// The one error handler: every error a route or middleware throws becomes a JSON answer here.
// A request's shape never causes a 5xx: input problems are 4xx, 502 means the core failed, 503 that NATS is away.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import {
  BusRemoteError,
  BusTimeoutError,
  BusUnavailableError,
  InvalidSubjectError,
  ProtocolReplyError,
} from '../protocol';
import type { AppEnv, GatewayLog } from './deps';
import {
  BadGatewayError,
  BadRequestError,
  ConflictError,
  HttpError,
  PayloadTooLargeError,
  ServiceUnavailableError,
} from './errors';

const CODES: Record<number, string> = {
  400: 'invalid_input',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  429: 'rate_limited',
};

/** Maps any error to the HttpError that answers it. */
export function toHttpError(
  err: unknown,
  retryAfterSeconds: number,
  maxBodyBytes: number,
  /** Where the input the core refused came from: the query string of a GET, else the body. */
  input: 'body' | 'query' = 'body',
): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof BusUnavailableError || err instanceof BusTimeoutError) {
    return new ServiceUnavailableError(`the core cannot be reached: ${err.message}`, retryAfterSeconds, err);
  }
  if (err instanceof InvalidSubjectError) {
    return new BadRequestError(err.message, err.part, undefined, { cause: err });
  }
  if (err instanceof ProtocolReplyError) return new BadGatewayError(`the core answered badly: ${err.message}`, err);
  if (err instanceof BusRemoteError) {
    // The core's own refusals keep their meaning: who is asking (401), what they may do (403), what they sent (400).
    if (err.remoteName === 'CredentialError') return new HttpError(401, 'unauthorized', err.message, { cause: err });
    if (err.remoteName === 'RoleRefusedError')
      return new HttpError(403, 'forbidden', withoutSubject(err), { cause: err });
    if (err.remoteName === 'StateConflictError') return new ConflictError(withoutSubject(err));
    if (err.remoteName === 'InputRefusedError') {
      // The core's sentence, without the subject the bus put before it; the field it named, if any.
      return new BadRequestError(withoutSubject(err), err.remoteField, input, { cause: err });
    }
    return new BadGatewayError(`the core failed: ${err.message}`, err);
  }
  if (err instanceof HTTPException) {
    if (err.status === 413) return new PayloadTooLargeError(maxBodyBytes);
    if (err.status < 500) return new HttpError(err.status, CODES[err.status] ?? 'error', err.message, { cause: err });
  }
  return new HttpError(500, 'internal', 'internal error', { cause: err });
}

/** The core's sentence, without the subject the bus put before it. */
function withoutSubject(err: BusRemoteError): string {
  const prefix = `${err.subject}: `;
  return err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
}

export function createErrorHandler(opts: { retryAfterSeconds: number; maxBodyBytes: number; log: GatewayLog }) {
  return (err: Error, c: Context<AppEnv>): Response => {
    const input = c.req.method === 'GET' || c.req.method === 'HEAD' ? 'query' : 'body';
    const http = toHttpError(err, opts.retryAfterSeconds, opts.maxBodyBytes, input);
    if (http.status === 500 || http.status === 502) {
      opts.log.error(`${c.req.method} ${new URL(c.req.url).pathname} → ${http.status}`, http.cause ?? err);
    }
    return c.json({ error: http.body() }, http.status as ContentfulStatusCode, http.headers);
  };
}
