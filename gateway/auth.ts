// Bearer API tokens, verified by the core (`overseer.query.auth`): the gateway never sees the token store.
// Order: NATS up (503) → token present and valid (401) → rate limit (429) → role high enough (403).
import type { Context } from 'hono';
import type { Bus } from '../adapters/nats/bus';
import type { CoreClient, Principal, Role } from '../adapters/nats/protocol';
import { ROLE_RANK } from '../adapters/nats/protocol';
import type { AppEnv } from './deps';
import { ForbiddenError, ServiceUnavailableError, TooManyRequestsError, UnauthorizedError } from './errors';
import type { TokenBucketLimiter } from './rate-limit';

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
  retryAfterSeconds: number;
  onRateLimited?: () => void;
}

export type Authenticate = (c: Context<AppEnv>, role: Role) => Promise<Principal>;

export function createAuthenticator(deps: AuthenticatorDeps): Authenticate {
  return async (c, role) => {
    if (!deps.bus.connected) {
      throw new ServiceUnavailableError('the message bus (NATS) is not connected', deps.retryAfterSeconds);
    }
    const token = readBearer(c.req.header('authorization'));
    const answer = await deps.core.query('auth', { token });
    if (!answer.ok) throw new UnauthorizedError('the token is unknown or revoked');
    const principal = answer.principal;
    const wait = deps.limiter?.take(principal.tokenId) ?? 0;
    if (wait > 0) {
      deps.onRateLimited?.();
      throw new TooManyRequestsError(wait);
    }
    if (ROLE_RANK[principal.role] < ROLE_RANK[role]) {
      throw new ForbiddenError(`this route needs the ${role} role; the token's role is ${principal.role}`);
    }
    return principal;
  };
}
