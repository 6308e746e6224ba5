// API tokens, verified by the core (`overseer.query.auth`): the gateway never sees the token store.
// A request's credential is its `Authorization: Bearer <token>` header or, when it has no such header, the
// dashboard's session cookie (session.ts), which stands for the token the browser signed in with.
// Order: NATS up (503) → client address not over its failed-authentication limit (429, the core is not asked)
// → credential present and valid (401; a presented token that fails counts against the address) → for a
// mutation authenticated by the cookie, the session's CSRF token (403 csrf, before the core is asked) → per-token
// rate limit (429) → role high enough (403). A missing Authorization header is a 401 that is not counted (it
// guesses nothing and never reaches the core); a success resets nothing, failures only age out.
// A session cookie that names no live session is a 401 that is not counted either: session ids are 256 random
// bits, nothing to guess, while a dashboard left open after its session expired would otherwise lock its own
// address out of signing in again. Signing in (POST /v1/session) presents a token exactly like a bearer header.
// The gateway forwards the caller's token with every call it makes for them (a client bound to it), so the
// core resolves who acts itself; the role checked here only answers early, the core checks again.
// On the routes whose one core call the core authenticates itself (submit, the request commands), a principal the
// core verified in the last few seconds (principal-cache.ts) stands in for the `auth` round trip; a credential the
// core then refuses is dropped from the cache and answered and counted exactly as a refused `auth`.
import type { Context } from 'hono';
import type { Bus, CoreClient, Principal, Role } from '../protocol';
import { BusRemoteError, ROLE_RANK } from '../protocol';
import { addressKey } from './client-address';
import type { AppEnv, ClientAddressSource } from './deps';
import {
  CsrfError,
  ForbiddenError,
  ServiceUnavailableError,
  SessionUnknownError,
  TooManyRequestsError,
  UnauthorizedError,
} from './errors';
import { AuthFailuresLimitedError } from './limit-errors';
import type { PrincipalCache } from './principal-cache';
import type { FailureLimiter, TokenBucketLimiter } from './rate-limit';
import type { Session, SessionStore } from './session';
import { csrfMatches, MUTATING_METHODS, readSessionCookie } from './session';

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
  if (!wellFormedToken(token)) throw new UnauthorizedError('malformed bearer token');
  return token;
}

/** Printable ASCII without spaces, at most MAX_TOKEN_LENGTH characters: anything else is no token. */
export const wellFormedToken = (token: string): boolean =>
  token.length > 0 && token.length <= MAX_TOKEN_LENGTH && TOKEN_CHARS.test(token);

export interface AuthenticatorDeps {
  core: CoreClient;
  bus: Pick<Bus, 'connected'>;
  limiter: TokenBucketLimiter | undefined;
  /** Dashboard sessions; undefined: the session cookie is ignored. */
  sessions?: SessionStore | undefined;
  /** Failed authentications per client address; undefined turns the limit off. */
  failures?: FailureLimiter | undefined;
  /** The request's client address; undefined when unknown (then nothing is counted). */
  clientAddress?: ClientAddressSource;
  retryAfterSeconds: number;
  /** Principals the core verified lately; undefined: the core is asked `auth` before every call. */
  principals?: PrincipalCache | undefined;
  onRateLimited?: () => void;
  onAuthFailuresLimited?: () => void;
}

/** The caller and a core client whose every call carries the caller's credential. */
export interface Caller {
  principal: Principal;
  core: CoreClient;
}

export interface AuthenticateOptions {
  /**
   * The route's call to the core is authenticated by the core itself: a principal the core verified lately is
   * believed for the gateway's early checks instead of asking `auth` again.
   */
  coreAuthenticates?: boolean;
}

export type Authenticate = (c: Context<AppEnv>, role: Role, options?: AuthenticateOptions) => Promise<Caller>;

export interface Authenticator {
  /** A route's caller: the bearer token, else (no Authorization header) the session cookie's token. */
  authenticate: Authenticate;
  /** Signing in: a token presented in a body, verified, limited and counted exactly as a bearer token. */
  verifyToken(c: Context<AppEnv>, token: string): Promise<Caller>;
  /** The session of the request's cookie (the Authorization header plays no part), verified by the core. */
  authenticateSession(c: Context<AppEnv>): Promise<{ caller: Caller; session: Session }>;
}

export function createAuthenticator(deps: AuthenticatorDeps): Authenticator {
  /** Checks the bus and the address's failure limit; the address's key, when failures are counted. */
  const admit = (c: Context<AppEnv>): string | undefined => {
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
    return key;
  };

  /** The core refused `token` (unknown or revoked): the session ends with it, or the address is counted. */
  const refused = (token: string, key: string | undefined, session?: Session): never => {
    deps.principals?.forget(token);
    if (session) {
      // Revoked since the sign-in: the session ends with it. Not counted, the client guessed nothing.
      deps.sessions?.delete(session.id);
      throw new SessionUnknownError("the session's token is unknown or revoked; sign in again");
    }
    if (key !== undefined) deps.failures!.fail(key);
    throw new UnauthorizedError('the token is unknown or revoked');
  };

  /** A core client for `token` whose every refusal of the credential is handled as a refused `auth`. */
  const refusing = (core: CoreClient, token: string, key: string | undefined, session?: Session): CoreClient => {
    const guard = async <T>(call: () => Promise<T>): Promise<T> => {
      try {
        return await call();
      } catch (error) {
        if (error instanceof BusRemoteError && error.remoteName === 'CredentialError') refused(token, key, session);
        throw error;
      }
    };
    return {
      submit: (payload, opts) => guard(() => core.submit(payload, opts)),
      command: (id, command, payload, opts) => guard(() => core.command(id, command, payload, opts)),
      query: (what, payload, opts) => guard(() => core.query(what, payload, opts)),
      withCredential: (credential) => core.withCredential(credential),
    };
  };

  /** Asks the core who `token` is (or believes it verified lately), then takes one from its rate-limit bucket. */
  const verify = async (
    token: string,
    key: string | undefined,
    session?: Session,
    coreAuthenticates = false,
  ): Promise<Caller> => {
    // Only an answer that the credential is wrong counts: many honest calls in flight from one address (a busy
    // client, a core that is restarting) are never a reason to refuse it. Guesses already in flight when the
    // limit is reached still get their 401.
    let core = deps.core.withCredential(token);
    let principal = coreAuthenticates ? deps.principals?.get(token) : undefined;
    if (principal) {
      core = refusing(core, token, key, session);
    } else {
      try {
        ({ principal } = await core.query('auth', {}));
      } catch (error) {
        if (error instanceof BusRemoteError && error.remoteName === 'CredentialError') refused(token, key, session);
        throw error;
      }
      deps.principals?.set(token, principal);
    }
    const wait = deps.limiter?.take(principal.id) ?? 0;
    if (wait > 0) {
      deps.onRateLimited?.();
      throw new TooManyRequestsError(wait);
    }
    return { principal, core };
  };

  /** The live session named by the request's cookie; 401 when there is no cookie or no such session. */
  const sessionOf = (c: Context<AppEnv>): Session => {
    const id = readSessionCookie(c);
    if (id === undefined || !deps.sessions) {
      throw new UnauthorizedError('no session: sign in first (POST /v1/session)');
    }
    const session = deps.sessions.use(id);
    if (!session) throw new SessionUnknownError();
    return session;
  };

  const authenticate: Authenticate = async (c, role, options) => {
    const coreAuthenticates = options?.coreAuthenticates === true;
    const key = admit(c);
    const header = c.req.header('authorization');
    let caller: Caller;
    if ((header === undefined || header.trim() === '') && deps.sessions && readSessionCookie(c) !== undefined) {
      const session = sessionOf(c);
      // Checked before the core is asked: a forged request costs nothing and tells nothing.
      if (MUTATING_METHODS.has(c.req.method.toUpperCase()) && !csrfMatches(c, session)) throw new CsrfError();
      caller = await verify(session.token, key, session, coreAuthenticates);
    } else {
      let token: string;
      try {
        token = readBearer(header);
      } catch (error) {
        // No header at all guesses nothing; a malformed one is counted like a wrong token.
        if (key !== undefined && header !== undefined && header.trim() !== '') deps.failures!.fail(key);
        throw error;
      }
      caller = await verify(token, key, undefined, coreAuthenticates);
    }
    if (ROLE_RANK[caller.principal.role] < ROLE_RANK[role]) {
      throw new ForbiddenError(`this route needs the ${role} role; the token's role is ${caller.principal.role}`);
    }
    return caller;
  };

  return {
    authenticate,
    verifyToken: async (c, token) => {
      const key = admit(c);
      if (!wellFormedToken(token)) {
        if (key !== undefined) deps.failures!.fail(key);
        throw new UnauthorizedError('malformed token');
      }
      return verify(token, key);
    },
    authenticateSession: async (c) => {
      const key = admit(c);
      const session = sessionOf(c);
      return { caller: await verify(session.token, key, session), session };
    },
  };
}
