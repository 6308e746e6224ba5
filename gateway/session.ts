// Dashboard sessions, held in the gateway's memory only (a restart signs everyone out). A session keeps the API
// token the browser signed in with (the browser never sees it again: it holds an opaque, random session id in an
// HttpOnly cookie) and a CSRF token the page must echo in X-CSRF-Token on every mutation. Every request made
// with a session is still verified by the core with the session's token, so a revoked token ends its sessions.
// Memory is bounded: sessions idle longer than `idleMs` are forgotten, at most `maxSessions` are held (the
// least recently used goes first) and one API token holds at most `maxPerToken` of them.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import type { AppEnv, GatewayClock } from './deps';

export const SESSION_COOKIE = 'overseer_session';
export const CSRF_HEADER = 'X-CSRF-Token';
export const DEFAULT_SESSION_IDLE_MS = 12 * 60 * 60 * 1000;
export const DEFAULT_MAX_SESSIONS = 10_000;
/** Sessions one API token may hold; signing in once more forgets that token's least recently used one. */
export const DEFAULT_MAX_SESSIONS_PER_TOKEN = 64;

/** 32 random bytes, base64url: 43 characters. */
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** Methods that change something: authenticated by the cookie, they must carry the CSRF token. */
export const MUTATING_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface Session {
  /** The cookie's value. */
  readonly id: string;
  /** The API token signed in with; sent to the core with every call made for this session. */
  readonly token: string;
  /** The token's id (the principal's id), for the per-token bound. */
  readonly tokenId: string;
  readonly csrf: string;
  readonly createdAt: number;
  lastSeen: number;
}

export interface SessionStoreOptions {
  idleMs?: number;
  maxSessions?: number;
  maxPerToken?: number;
}

export const newSecret = (): string => randomBytes(32).toString('base64url');

export class SessionStore {
  /** Map order is least recently used first: every use moves a session to the end. */
  private readonly sessions = new Map<string, Session>();
  private readonly perToken = new Map<string, number>();
  readonly idleMs: number;
  readonly maxSessions: number;
  readonly maxPerToken: number;

  constructor(
    private readonly clock: Pick<GatewayClock, 'now'>,
    opts: SessionStoreOptions = {},
  ) {
    this.idleMs = opts.idleMs ?? DEFAULT_SESSION_IDLE_MS;
    this.maxSessions = opts.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.maxPerToken = opts.maxPerToken ?? DEFAULT_MAX_SESSIONS_PER_TOKEN;
    if (!(this.idleMs > 0)) throw new RangeError(`sessionIdleMs must be > 0 (got ${this.idleMs})`);
    for (const [name, value] of [
      ['maxSessions', this.maxSessions],
      ['maxSessionsPerToken', this.maxPerToken],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be an integer >= 1 (got ${value})`);
    }
  }

  /** A new session for `token` (already verified by the core; `tokenId` is its principal's id). */
  create(token: string, tokenId: string): Session {
    const now = this.clock.now();
    this.sweep(now);
    if ((this.perToken.get(tokenId) ?? 0) >= this.maxPerToken) this.evictOldestOf(tokenId);
    if (this.sessions.size >= this.maxSessions) {
      const oldest = this.sessions.keys().next();
      if (!oldest.done) this.delete(oldest.value);
    }
    const session: Session = { id: newSecret(), token, tokenId, csrf: newSecret(), createdAt: now, lastSeen: now };
    this.sessions.set(session.id, session);
    this.perToken.set(tokenId, (this.perToken.get(tokenId) ?? 0) + 1);
    return session;
  }

  /** The live session of that id (its idle time restarts), or undefined when unknown or expired. */
  use(id: string): Session | undefined {
    if (!SECRET_PATTERN.test(id)) return undefined;
    const now = this.clock.now();
    this.sweep(now);
    const session = this.sessions.get(id);
    if (!session) return undefined;
    session.lastSeen = now;
    this.sessions.delete(id);
    this.sessions.set(id, session);
    return session;
  }

  delete(id: string): void {
    const session = this.sessions.get(id);
    if (!session) return;
    this.sessions.delete(id);
    const left = (this.perToken.get(session.tokenId) ?? 1) - 1;
    if (left > 0) this.perToken.set(session.tokenId, left);
    else this.perToken.delete(session.tokenId);
  }

  /** Sessions held (expired ones included until swept). */
  get size(): number {
    return this.sessions.size;
  }

  /** Forgets the expired sessions: they are at the front of the map, so this stops at the first live one. */
  private sweep(now: number): void {
    for (const [id, session] of this.sessions) {
      if (now - session.lastSeen < this.idleMs) return;
      this.delete(id);
    }
  }

  private evictOldestOf(tokenId: string): void {
    for (const [id, session] of this.sessions) {
      if (session.tokenId === tokenId) {
        this.delete(id);
        return;
      }
    }
  }
}

/** The session cookie's value, if the request has one. */
export function readSessionCookie(c: Context<AppEnv>): string | undefined {
  const value = getCookie(c, SESSION_COOKIE);
  return value === undefined || value === '' ? undefined : value;
}

/** Whether the request's X-CSRF-Token equals the session's (compared in constant time). */
export function csrfMatches(c: Context<AppEnv>, session: Session): boolean {
  const given = c.req.header(CSRF_HEADER);
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A Set-Cookie value that makes the browser drop the session cookie. */
export const CLEAR_SESSION_COOKIE = `${SESSION_COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict`;
