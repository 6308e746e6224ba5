import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_TOKEN, startTestSim, type TestSim, TOKEN, USER } from './helpers';

describe('pve-sim auth', () => {
  let t: TestSim;
  beforeAll(async () => {
    t = await startTestSim();
  });
  afterAll(() => t.close());

  async function login(password = USER.password) {
    return t.api<{ ticket: string; CSRFPreventionToken: string; username: string }>('POST', '/access/ticket', {
      auth: false,
      form: { username: USER.userid, password },
    });
  }

  it('auth - a request without credentials answers 401 "No ticket" with no body', async () => {
    const r = await t.api('GET', '/cluster/resources', { auth: false });
    expect(r.status).toBe(401);
    expect(r.statusText).toBe('No ticket');
    expect(r.text).toBe('');
    expect(r.contentType).toBeNull();
  });

  it('auth - a wrong token secret answers 401 "invalid token value!"', async () => {
    const r = await t.api('GET', '/version', {
      auth: `PVEAPIToken=${TOKEN.tokenid}=00000000-0000-4000-8000-000000000000`,
    });
    expect(r.status).toBe(401);
    expect(r.statusText).toBe('invalid token value!');
  });

  it('auth - an unknown token answers 401 naming the token', async () => {
    const r = await t.api('GET', '/version', { auth: `PVEAPIToken=root@pam!nope=${TOKEN.secret}` });
    expect(r.status).toBe(401);
    expect(r.statusText).toBe("no such token 'nope' for user 'root@pam'");
  });

  it('auth - a valid API token reads with the PVE envelope and content type', async () => {
    const r = await t.api<{ version: string; release: string; repoid: string }>('GET', '/version');
    expect(r.status).toBe(200);
    expect(r.contentType).toBe('application/json;charset=UTF-8');
    expect(r.body?.data).toMatchObject({ version: '8.2.4', release: '8.2' });
  });

  it('auth - a wrong password answers 401 "authentication failure"', async () => {
    const r = await login('wrong');
    expect(r.status).toBe(401);
    expect(r.statusText).toBe('authentication failure');
  });

  it('auth - a ticket reads with the cookie; writes need the CSRFPreventionToken header', async () => {
    const r = await login();
    expect(r.status).toBe(200);
    const { ticket, CSRFPreventionToken, username } = r.body!.data;
    expect(username).toBe('root@pam');
    expect(ticket).toMatch(/^PVE:root@pam:[0-9A-F]{8}::/);
    const cookie = `PVEAuthCookie=${ticket}`;

    const read = await t.api('GET', '/cluster/status', { auth: false, headers: { Cookie: cookie } });
    expect(read.status).toBe(200);

    const noCsrf = await t.api('POST', '/nodes/pve3/qemu/113/status/start', {
      auth: false,
      headers: { Cookie: cookie },
    });
    expect(noCsrf.status).toBe(401);
    expect(noCsrf.statusText).toBe('Permission denied - invalid csrf token');

    const ok = await t.api<string>('POST', '/nodes/pve3/qemu/113/status/start', {
      auth: false,
      headers: { Cookie: cookie, CSRFPreventionToken },
    });
    expect(ok.status).toBe(200);
    expect(ok.body?.data).toMatch(/^UPID:pve3:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:qmstart:113:root@pam:$/);
  });

  it('auth - a ticket expires after 2 hours of clock time', async () => {
    const { ticket } = (await login()).body!.data;
    const cookie = `PVEAuthCookie=${ticket}`;
    t.clock.advance(2 * 3600 * 1000 - 1000);
    expect((await t.api('GET', '/version', { auth: false, headers: { Cookie: cookie } })).status).toBe(200);
    t.clock.advance(2000);
    const r = await t.api('GET', '/version', { auth: false, headers: { Cookie: cookie } });
    expect(r.status).toBe(401);
    expect(r.statusText).toBe('permission denied - invalid PVE ticket');
  });

  it('auth - a ticket can be renewed by logging in with it as the password', async () => {
    const { ticket } = (await login()).body!.data;
    const renewed = await login(ticket);
    expect(renewed.status).toBe(200);
    expect(renewed.body?.data.ticket).toMatch(/^PVE:root@pam:/);
  });

  it('auth - an audit-only token reads but gets 403 "Permission check failed" on operations', async () => {
    const auth = `PVEAPIToken=${AUDIT_TOKEN.tokenid}=${AUDIT_TOKEN.secret}`;
    expect((await t.api('GET', '/cluster/resources', { auth })).status).toBe(200);
    const r = await t.api('POST', '/nodes/pve1/qemu/100/status/stop', { auth });
    expect(r.status).toBe(403);
    expect(r.statusText).toBe('Permission check failed (/vms/100, VM.PowerMgmt)');
    const d = await t.api('DELETE', '/nodes/pve3/qemu/113', { auth });
    expect(d.status).toBe(403);
    expect(d.statusText).toBe('Permission check failed (/vms/113, VM.Allocate)');
  });

  it('auth - skiplock is refused for API tokens (root@pam only)', async () => {
    const r = await t.api('POST', '/nodes/pve1/qemu/100/status/stop', { form: { skiplock: 1 } });
    expect(r.status).toBe(400);
    expect(r.body?.errors).toEqual({ skiplock: 'Only root may use this option.' });
  });
});

describe('pve-sim http', () => {
  let t: TestSim;
  beforeAll(async () => {
    t = await startTestSim();
  });
  afterAll(() => t.close());

  it('http - an unknown API path answers 501 "Method ... not implemented"', async () => {
    const r = await t.api('GET', '/nodes/pve1/netstat');
    expect(r.status).toBe(501);
    expect(r.statusText).toBe("Method 'GET /nodes/pve1/netstat' not implemented");
    expect(r.body).toMatchObject({ data: null });
  });

  it('http - an unknown parameter answers 400 with per-parameter errors', async () => {
    const r = await t.api('GET', '/cluster/resources?type=vm&bogus=1');
    expect(r.status).toBe(400);
    expect(r.statusText).toBe('Parameter verification failed.');
    expect(r.body).toEqual({
      data: null,
      message: 'Parameter verification failed.\n',
      errors: { bogus: 'property is not defined in schema and the schema does not allow additional properties' },
    });
  });

  it('http - a bad enum and a bad integer are reported per parameter', async () => {
    expect((await t.api('GET', '/cluster/resources?type=pool')).body?.errors).toEqual({
      type: "value 'pool' does not have a value in the enumeration 'vm, storage, node, sdn'",
    });
    expect((await t.api('GET', '/nodes/pve1/qemu/abc/config')).body?.errors).toEqual({
      vmid: "type check ('integer') failed - got 'abc'",
    });
  });

  it('http - JSON bodies are accepted like form bodies', async () => {
    const r = await t.api<string>('POST', '/nodes/pve1/qemu/9000/clone', {
      json: { newid: 130, name: 'json-clone', full: true },
    });
    expect(r.status).toBe(200);
    expect(r.body?.data).toContain(':qmclone:9000:');
    expect(t.sim.state.vms.get(130)).toMatchObject({ name: 'json-clone', lock: 'clone' });
  });

  it('http - an unknown node answers 500 hostname lookup failed', async () => {
    const r = await t.api('GET', '/nodes/pve9/qemu');
    expect(r.status).toBe(500);
    expect(r.statusText).toMatch(/^hostname lookup 'pve9' failed/);
  });

  it('http - a VM asked on the wrong node answers 500 config file does not exist', async () => {
    const r = await t.api('GET', '/nodes/pve1/qemu/101/status/current');
    expect(r.status).toBe(500);
    expect(r.statusText).toBe("Configuration file 'nodes/pve1/qemu-server/101.conf' does not exist");
  });
});
