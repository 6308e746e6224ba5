// The 429 answers of the per-address and per-token limits other than the request rate (errors.ts has that one).
import { HttpError } from './errors';

/** An address with too many failed authentications: refused before its token is even looked at. */
export class AuthFailuresLimitedError extends HttpError {
  override name = 'AuthFailuresLimitedError';
  constructor(retryAfterSeconds: number) {
    super(429, 'rate_limited', `too many failed authentications from this address; retry in ${retryAfterSeconds} s`, {
      headers: { 'Retry-After': String(retryAfterSeconds) },
    });
  }
}

/** A token that already holds as many event streams as it may. */
export class TooManyStreamsError extends HttpError {
  override name = 'TooManyStreamsError';
  constructor(max: number, retryAfterSeconds: number) {
    super(
      429,
      'too_many_streams',
      `this token already has ${max} open event stream${max === 1 ? '' : 's'}, the most allowed; close one before opening another`,
      { headers: { 'Retry-After': String(retryAfterSeconds) } },
    );
  }
}
