// Bearer API tokens, verified by the core (`overseer.query.auth`): the gateway never sees the token store.
// Order: NATS up (503) → client address not over its failed-authentication limit (429, the core is not asked)
// → token present and valid (401; a presented token that fails counts against the address) → per-token rate
// limit (429) → role high enough (403). A missing Authorization header is a 401 that is not counted (it guesses
// nothing and never reaches the core); a success resets nothing, failures only age out.
// The gateway forwards the caller's token with every call it makes for them (a client bound to it), so the
// core resolves who acts itself; the role checked here only answers early, the core checks again.
import type { Context } from 'hono';
import type { Bus, CoreClient, Principal, Role } from '../protocol';
import { BusRemoteError, ROLE_RANK } from '../protocol';
import { addressKey } from './client-address';
import type { AppEnv, ClientAddressSource } from './deps';
import { ForbiddenError, ServiceUnavailableError, TooManyRequestsError, UnauthorizedError } from './errors';
import { AuthFailuresLimitedError } from './limit-errors';
import type { FailureLimiter, TokenBucketLimiter } from './rate-limit';

/** Longest token accepted (longer ones are refused without asking the core). */
export const MAX_TOKEN_LENGTH = 512;
const TOKEN_CHARS = /^[\x21-\x7e]+$/;

/** The token of an `Authorization: Bearer <token>` header; throws 401 otherwise. */
export function readBearer(header: string | undefined): string {
  if (header === undefined || header.trim() === '') {
    throw new UnauthorizedError("missing Authorization header (expected 'Bearer <token>')");
  }
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  if (!match) throw new UnauthorizedError("malformed Authorization header (expected 'Bearer <token>')");
  const token = match[1]!;
  if (token.length > MAX_TOKEN_LENGTH || !TOKEN_CHARS.test(token)) {
    throw new UnauthorizedError('malformed bearer token');
  }
  return token;
}

export interface AuthenticatorDeps {
  core: CoreClient;
  bus: Pick<Bus, 'connected'>;
  limiter: TokenBucketLimiter | undefined;
  /** Failed authentications per client address; undefined turns the limit off. */
  failures?: FailureLimiter | undefined;
  /** The request's client address; undefined when unknown (then nothing is counted). */
  clientAddress?: ClientAddressSource;
  retryAfterSeconds: number;
  onRateLimited?: () => void;
  onAuthFailuresLimited?: () => void;
}

/** The caller and a core client whose every call carries the caller's credential. */
export interface Caller {
  principal: Principal;
  core: CoreClient;
}

export type Authenticate = (c: Context<AppEnv>, role: Role) => Promise<Caller>;

export function createAuthenticator(deps: AuthenticatorDeps): Authenticate {
  return async (c, role) => {
    if (!deps.bus.connected) {
      throw new ServiceUnavailableError('the message bus (NATS) is not connected', deps.retryAfterSeconds);
    }
    const address = deps.failures ? deps.clientAddress?.(c) : undefined;
    const key = address === undefined ? undefined : addressKey(address);
    if (key !== undefined) {
      const wait = deps.failures!.check(key);
      if (wait > 0) {
        deps.onAuthFailuresLimited?.();
        throw new AuthFailuresLimitedError(wait);
      }
    }
    const header = c.req.header('authorization');
    let token: string;
    try {
      token = readBearer(header);
    } catch (error) {
      // No header at all guesses nothing; a malformed one is counted like a wrong token.
      if (key !== undefined && header !== undefined && header.trim() !== '') deps.failures!.fail(key);
      throw error;
    }
    // Only an answer that the credential is wrong counts: many honest calls in flight from one address (a busy
    // client, a core that is restarting) are never a reason to refuse it. Guesses already in flight when the limit
    // is reached still get their 401.
    const core = deps.core.withCredential(token);
    let principal: Principal;
    try {
      ({ principal } = await core.query('auth', {}));
    } catch (error) {
      if (error instanceof BusRemoteError && error.remoteName === 'CredentialError') {
        if (key !== undefined) deps.failures!.fail(key);
        throw new UnauthorizedError('the token is unknown or revoked');
      }
      throw error;
    }
    const wait = deps.limiter?.take(principal.id) ?? 0;
    if (wait > 0) {
      deps.onRateLimited?.();
      throw new TooManyRequestsError(wait);
    }
    if (ROLE_RANK[principal.role] < ROLE_RANK[role]) {
      throw new ForbiddenError(`this route needs the ${role} role; the token's role is ${principal.role}`);
    }
    return { principal, core };
  };
}
