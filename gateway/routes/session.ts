// POST /v1/session (sign in with an API token), GET /v1/session (who am I, and the CSRF token), DELETE
// /v1/session (sign out): the dashboard's cookie session (session.ts holds the store, auth.ts the checks).
// These routes are for the browser and stay out of the route table, so out of the OpenAPI document, which
// describes the bearer-token API (and whose every /v1 route needs a token, which signing in cannot).
import type { Context, Hono } from 'hono';
import { setCookie } from 'hono/cookie';
import { z } from 'zod';
import type { Authenticator } from '../auth';
import { normalizeAddress, socketAddress } from '../client-address';
import type { AppEnv } from '../deps';
import { CsrfError, MethodNotAllowedError, UnsupportedMediaTypeError } from '../errors';
import type { SessionStore } from '../session';
import { CLEAR_SESSION_COOKIE, csrfMatches, readSessionCookie, SESSION_COOKIE } from '../session';
import { readJsonBody } from '../validation';

export const SESSION_PATH = '/v1/session';

/** The token is checked by the authenticator (so a malformed one is a counted 401, not a 400). */
export const SignInBodySchema = z.strictObject({ token: z.string() });

export interface SessionRouteDeps {
  authenticator: Authenticator;
  sessions: SessionStore;
  /** Proxies whose X-Forwarded-Proto is believed (to mark the cookie Secure behind a TLS-terminating proxy). */
  trustedProxies?: readonly string[] | undefined;
}

/** Served over TLS: directly, or through a trusted proxy that says so. */
function overTls(c: Context<AppEnv>, trusted: ReadonlySet<string>): boolean {
  if (new URL(c.req.url).protocol === 'https:') return true;
  if (trusted.size === 0) return false;
  const peer = socketAddress(c);
  if (peer === undefined || !trusted.has(normalizeAddress(peer))) return false;
  return (c.req.header('x-forwarded-proto') ?? '').split(',')[0]?.trim().toLowerCase() === 'https';
}

export function registerSessionRoutes(app: Hono<AppEnv>, deps: SessionRouteDeps): void {
  const trusted = new Set((deps.trustedProxies ?? []).map(normalizeAddress));

  app.post(SESSION_PATH, async (c) => {
    c.set('route', SESSION_PATH);
    // A JSON body needs a CORS preflight from another site, which this gateway never grants: no page elsewhere
    // can sign a browser in (as the page's author) behind its user's back.
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') throw new UnsupportedMediaTypeError('application/json');
    const { token } = await readJsonBody(c, SignInBodySchema, false);
    const { principal } = await deps.authenticator.verifyToken(c, token);
    // A new id at every sign-in (an id known before signing in is worth nothing after it).
    const previous = readSessionCookie(c);
    if (previous !== undefined) deps.sessions.delete(previous);
    const session = deps.sessions.create(token, principal.id);
    setCookie(c, SESSION_COOKIE, session.id, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      ...(overTls(c, trusted) ? { secure: true } : {}),
    });
    c.header('Cache-Control', 'no-store');
    return c.json({ principal, csrf: session.csrf });
  });

  app.get(SESSION_PATH, async (c) => {
    c.set('route', SESSION_PATH);
    const { caller, session } = await deps.authenticator.authenticateSession(c);
    c.set('principal', caller.principal);
    c.header('Cache-Control', 'no-store');
    return c.json({ principal: caller.principal, csrf: session.csrf });
  });

  // Signing out asks nothing of the core (it works while NATS is away). It is a mutation like any other: without
  // the session's CSRF token it is refused, so no other page can sign the user out.
  app.delete(SESSION_PATH, (c) => {
    c.set('route', SESSION_PATH);
    const id = readSessionCookie(c);
    const session = id === undefined ? undefined : deps.sessions.use(id);
    if (session) {
      if (!csrfMatches(c, session)) throw new CsrfError();
      deps.sessions.delete(session.id);
    }
    return c.body(null, 204, { 'Set-Cookie': CLEAR_SESSION_COOKIE, 'Cache-Control': 'no-store' });
  });

  app.all(SESSION_PATH, (c) => {
    c.set('route', SESSION_PATH);
    throw new MethodNotAllowedError(c.req.method, SESSION_PATH, ['GET', 'HEAD', 'POST', 'DELETE']);
  });
}
