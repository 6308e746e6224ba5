// Authentication like pveproxy: API tokens (Authorization: PVEAPIToken=USER@REALM!ID=SECRET) or tickets
// from POST /access/ticket (Cookie: PVEAuthCookie=...; CSRFPreventionToken header on writes).
// Tickets and CSRF tokens are HMAC-signed and expire after 2 hours of clock time.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock';
import { PveHttpError } from './errors';
import type { SimRole, SimToken, SimUser } from './types';
import type { TicketWire } from './wire-types';

export const TICKET_LIFETIME_S = 7_200;
const GRACE_S = 300;

export interface Principal {
  /** The user the request runs as: USER@REALM, or USER@REALM!TOKEN for API tokens (as in UPIDs). */
  authid: string;
  userid: string;
  role: SimRole;
  /** Whether this is root@pam itself (skiplock is root-only). */
  root: boolean;
}

export interface RequestCredentials {
  method: string;
  authorization?: string | undefined;
  cookie?: string | undefined;
  csrf?: string | undefined;
}

const hex8 = (n: number): string => (n >>> 0).toString(16).toUpperCase().padStart(8, '0');

/** 401 without a body, as pveproxy answers failed authentication. */
const unauthorized = (message: string) => new PveHttpError(401, message, undefined, true);

function pickValue(header: string | undefined, key: string, sep: RegExp): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(sep)) {
    const m = new RegExp(`^\\s*${key}[= ](.*)$`).exec(part);
    if (m) return m[1]!.trim();
  }
  return undefined;
}

/** Like PVE's uri_unescape: %XX only, '+' stays. */
const uriUnescape = (s: string): string =>
  s.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));

export class Auth {
  private readonly secret = randomBytes(32);
  private readonly tokens = new Map<string, SimToken>();
  private readonly users = new Map<string, SimUser>();

  constructor(
    private readonly clock: Clock,
    private readonly clusterName: string,
    tokens: SimToken[],
    users: SimUser[],
  ) {
    for (const t of tokens) this.tokens.set(t.tokenid, t);
    for (const u of users) this.users.set(u.userid, u);
  }

  /** Checks a request's credentials. Throws PveHttpError 401. */
  authenticate(c: RequestCredentials): Principal {
    const ticket =
      pickValue(c.cookie, 'PVEAuthCookie', /;/) ??
      (c.authorization?.includes('PVEAuthCookie') ? pickValue(c.authorization, 'PVEAuthCookie', /;/) : undefined);
    if (ticket) {
      const principal = this.verifyTicket(uriUnescape(ticket));
      if (c.method !== 'GET' && !this.verifyCsrf(principal.userid, c.csrf)) {
        throw unauthorized('Permission denied - invalid csrf token');
      }
      return principal;
    }
    const token = c.authorization?.includes('PVEAPIToken') ? pickValue(c.authorization, 'PVEAPIToken', /,/) : undefined;
    if (token) return this.verifyToken(token);
    throw unauthorized('No ticket');
  }

  /** POST /access/ticket. `password` may also be a valid ticket of the same user (renewal). */
  login(username: string, password: string, realm?: string): TicketWire {
    const userid = username.includes('@') || !realm ? username : `${username}@${realm}`;
    const user = this.users.get(userid);
    let ok = !!user && safeEqual(user.password, password);
    if (!ok && password.startsWith('PVE:')) {
      try {
        ok = this.verifyTicket(password).userid === userid;
      } catch {
        ok = false;
      }
    }
    if (!ok) throw new PveHttpError(401, 'authentication failure');
    const ts = hex8(Math.floor(this.clock.now() / 1000));
    const plain = `PVE:${userid}:${ts}`;
    return {
      username: userid,
      ticket: `${plain}::${this.sign(plain)}`,
      CSRFPreventionToken: `${ts}:${this.sign(`${ts}:${userid}`)}`,
      clustername: this.clusterName,
      cap: {
        vms: { 'VM.PowerMgmt': 1, 'VM.Clone': 1, 'VM.Snapshot': 1, 'VM.Allocate': 1, 'VM.Audit': 1 },
        nodes: { 'Sys.Audit': 1 },
      },
    };
  }

  private sign(data: string): string {
    return createHmac('sha256', this.secret).update(data).digest('base64');
  }

  private fresh(tsHex: string): boolean {
    const age = Math.floor(this.clock.now() / 1000) - Number.parseInt(tsHex, 16);
    return age > -GRACE_S && age < TICKET_LIFETIME_S;
  }

  private verifyTicket(ticket: string): Principal {
    const m = /^(PVE:(\S+?@\S+?):([0-9A-F]{8}))::(\S+)$/.exec(ticket);
    const invalid = unauthorized('permission denied - invalid PVE ticket');
    if (!m) throw invalid;
    const [, plain, userid, ts, sig] = m;
    if (!safeEqual(this.sign(plain!), sig!) || !this.fresh(ts!)) throw invalid;
    const user = this.users.get(userid!);
    if (!user) throw invalid;
    return { authid: userid!, userid: userid!, role: user.role ?? 'admin', root: userid === 'root@pam' };
  }

  private verifyCsrf(userid: string, token: string | undefined): boolean {
    const m = token ? /^([0-9A-F]{8}):(\S+)$/.exec(token) : null;
    if (!m) return false;
    return safeEqual(this.sign(`${m[1]}:${userid}`), m[2]!) && this.fresh(m[1]!);
  }

  private verifyToken(value: string): Principal {
    const eq = value.lastIndexOf('=');
    if (eq < 0) throw unauthorized('no tokenid specified');
    const tokenid = value.slice(0, eq);
    const secret = value.slice(eq + 1);
    const m = /^(\S+@\S+)!([A-Za-z][A-Za-z0-9.\-_]+)$/.exec(tokenid);
    if (!m) throw unauthorized(`value '${tokenid}' does not look like a valid token ID`);
    const [, userid, name] = m;
    const knownUser = this.users.has(userid!) || [...this.tokens.keys()].some((t) => t.startsWith(`${userid}!`));
    if (!knownUser) throw unauthorized(`no such user ('${userid}')`);
    const token = this.tokens.get(tokenid);
    if (!token) throw unauthorized(`no such token '${name}' for user '${userid}'`);
    if (!safeEqual(token.secret, secret)) throw unauthorized('invalid token value!');
    return { authid: tokenid, userid: userid!, role: token.role ?? 'admin', root: false };
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
