// Authentication: API token header; ticket login with cookie + CSRF token, renewed by the clock.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import { PlatformConfigError, PlatformUnavailableError, PveApiError } from '../../adapters/platform/errors';
import {
  createProxmoxPlatform,
  type ProxmoxClusterConfig,
  type ProxmoxPlatform,
  TICKET_RENEW_AFTER_MS,
} from '../../adapters/proxmox';
import { type FakePve, type FakeRequest, pveError, startFakePve } from './fake-pve';
import { configFor, TOKEN_ID, TOKEN_SECRET, UPID_CLONE } from './helpers';
import { createTlsFixture, type TlsFixture } from './tls-fixture';

const TICKET_AUTH = { type: 'ticket', username: 'root@pam', password: 's3cret pass' } as const;

/** Issues tickets and checks cookie (every call) and CSRF token (writes), like pveproxy. */
function ticketServer(fake: FakePve) {
  const issued = new Map<string, string>(); // ticket → csrf
  let revoked = new Set<string>();
  const cookie = (req: FakeRequest) => /PVEAuthCookie=([^;]+)/.exec(String(req.headers.cookie ?? ''))?.[1];
  const authorized = (req: FakeRequest, write: boolean) => {
    const t = cookie(req);
    if (!t || !issued.has(t) || revoked.has(t)) return pveError(401, 'permission denied - invalid PVE ticket');
    if (write && req.headers.csrfpreventiontoken !== issued.get(t))
      return pveError(401, 'Permission denied - invalid csrf token');
    return undefined;
  };
  fake.route('POST /access/ticket', (req) => {
    if (req.form.get('username') !== 'root@pam' || req.form.get('password') !== TICKET_AUTH.password) {
      return pveError(401, 'authentication failure');
    }
    const ticket = `PVE:root@pam:6650${issued.size}::c2lnbmF0dXJl`;
    issued.set(ticket, `6650${issued.size}:csrf`);
    return { data: { ticket, CSRFPreventionToken: issued.get(ticket), username: 'root@pam', cap: {} } };
  });
  fake.route('GET /cluster/nextid', (req) => authorized(req, false) ?? { data: '120' });
  fake.route('POST /nodes/{node}/qemu/{vmid}/clone', (req) => authorized(req, true) ?? { data: UPID_CLONE });
  return {
    issued,
    cookie,
    revokeAll: () => {
      revoked = new Set(issued.keys());
    },
  };
}

describe('auth', () => {
  let tls: TlsFixture;
  let fake: FakePve;
  const opened: ProxmoxPlatform[] = [];
  const clock = new SimulatedClock(Date.UTC(2024, 4, 1));
  const log = createMemoryLog(clock);
  const platformWith = (over: Partial<ProxmoxClusterConfig>) => {
    const p = createProxmoxPlatform(configFor(fake, tls, over), { clock, log });
    opened.push(p);
    return p;
  };

  beforeAll(async () => {
    tls = createTlsFixture();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((p) => p.close()));
    await fake?.close();
  });
  afterAll(() => tls.cleanup());

  it('auth - an API token goes in the Authorization header, with no cookie', async () => {
    fake = await startFakePve(tls, { 'GET /cluster/nextid': { data: '120' } });
    await platformWith({}).nextId();
    const req = fake.requests[0]!;
    expect(req.headers.authorization).toBe(`PVEAPIToken=${TOKEN_ID}=${TOKEN_SECRET}`);
    expect(req.headers.cookie).toBeUndefined();
    expect(fake.calls('POST', '/access/ticket')).toHaveLength(0);
  });

  it('auth - token credentials are checked up front; an upper-case secret is lowered', async () => {
    fake = await startFakePve(tls, { 'GET /cluster/nextid': { data: '120' } });
    expect(() => platformWith({ auth: { type: 'token', tokenId: TOKEN_ID, secret: 'not-a-uuid' } })).toThrow(
      PlatformConfigError,
    );
    expect(() => platformWith({ auth: { type: 'token', tokenId: 'root', secret: TOKEN_SECRET } })).toThrow(
      /USER@REALM!TOKENNAME/,
    );
    await platformWith({ auth: { type: 'token', tokenId: TOKEN_ID, secret: TOKEN_SECRET.toUpperCase() } }).nextId();
    expect(fake.requests[0]?.headers.authorization).toBe(`PVEAPIToken=${TOKEN_ID}=${TOKEN_SECRET}`);
  });

  it('auth - a ticket is fetched once, then sent as cookie, with the CSRF token on writes', async () => {
    fake = await startFakePve(tls);
    const server = ticketServer(fake);
    const p = platformWith({ auth: TICKET_AUTH });
    expect(await p.nextId()).toBe(120);
    expect(await p.clone('pve1', 9000, 120, { name: 'web-04', full: true })).toEqual({
      upid: UPID_CLONE,
      node: 'pve1',
    });
    const logins = fake.calls('POST', '/access/ticket');
    expect(logins).toHaveLength(1);
    expect(logins[0]!.form.get('username')).toBe('root@pam');
    const [ticket, csrf] = [...server.issued][0]!;
    const post = fake.calls('POST', '/nodes/pve1/qemu/9000/clone')[0]!;
    expect(server.cookie(post)).toBe(ticket);
    expect(post.headers.csrfpreventiontoken).toBe(csrf);
    expect(post.headers.authorization).toBeUndefined();
  });

  it('auth - the ticket is renewed after 1h45 on the clock, not before', async () => {
    fake = await startFakePve(tls);
    const server = ticketServer(fake);
    const p = platformWith({ auth: TICKET_AUTH });
    await p.nextId();
    clock.advance(TICKET_RENEW_AFTER_MS - 60_000);
    await p.nextId();
    expect(fake.calls('POST', '/access/ticket')).toHaveLength(1);
    clock.advance(60_000);
    await p.nextId();
    expect(fake.calls('POST', '/access/ticket')).toHaveLength(2);
    const second = [...server.issued.keys()][1];
    expect(server.cookie(fake.calls('GET', '/cluster/nextid').at(-1)!)).toBe(second);
    expect(TICKET_RENEW_AFTER_MS).toBe(105 * 60 * 1000);
  });

  it('auth - concurrent calls share one login', async () => {
    fake = await startFakePve(tls);
    ticketServer(fake);
    const p = platformWith({ auth: TICKET_AUTH });
    await Promise.all([p.nextId(), p.nextId(), p.nextId()]);
    expect(fake.calls('POST', '/access/ticket')).toHaveLength(1);
  });

  it('auth - a ticket the server no longer accepts is replaced by a new login', async () => {
    fake = await startFakePve(tls);
    const server = ticketServer(fake);
    const p = platformWith({ auth: TICKET_AUTH });
    await p.nextId();
    server.revokeAll();
    expect(await p.nextId()).toBe(120);
    expect(fake.calls('POST', '/access/ticket')).toHaveLength(2);
  });

  it('auth - a refused login is a 401 PveApiError; for the inventory, the cluster is unavailable', async () => {
    fake = await startFakePve(tls);
    ticketServer(fake);
    const p = platformWith({ auth: { ...TICKET_AUTH, password: 'wrong' } });
    const err = await p.nextId().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PveApiError);
    expect(err).toMatchObject({ status: 401, path: '/access/ticket' });
    expect((err as Error).message).toContain('authentication failure');
    expect((err as Error).message).not.toContain('wrong');
    await expect(p.inventory()).rejects.toBeInstanceOf(PlatformUnavailableError);
  });
});
