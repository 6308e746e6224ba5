// Lock-out: `serve --role all` in this process (real nats-server, SQLite, the embedded simulator), over HTTP. The
// last active admin token cannot be revoked; and `overseer token recover`, run on the host while the core runs,
// gives access back at once, with the audit chain intact.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../../actors/main';
import { findFreePort } from '../../adapters/nats';
import { EXIT, run } from '../../cli/main';
import type { TestNatsServer } from '../helpers/nats-server';
import { natsServerAvailable, startNatsServer } from '../helpers/nats-server';

let nats: TestNatsServer;
let dataDir: string;
let url: string;
let stop: (() => Promise<void>) | undefined;

interface Answer<T> {
  status: number;
  body: T;
}

async function api<T = Record<string, unknown>>(
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<Answer<T>> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as T };
}

interface TokenInfo {
  id: string;
  name: string;
  role: string;
  revokedAt?: number;
}
const adminFile = () => readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();

describe.runIf(natsServerAvailable)('token lock-out', () => {
  beforeAll(async () => {
    nats = await startNatsServer();
    dataDir = mkdtempSync(join(tmpdir(), 'overseer-lockout-'));
    const port = await findFreePort();
    url = `http://127.0.0.1:${port}`;
    stop = await serve(['--role', 'all'], {
      OVERSEER_DATA_DIR: dataDir,
      NATS_URL: nats.url,
      OVERSEER_PORT: String(port),
      OVERSEER_NAMESPACE: 'lockout',
    });
  }, 60_000);

  afterAll(async () => {
    await stop?.();
    await nats?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 30_000);

  it('token revoke - the last active admin token cannot be revoked; with a second admin it can', async () => {
    const first = adminFile();
    const { body: listed } = await api<{ items: TokenInfo[] }>('GET', '/v1/tokens', first);
    const firstId = listed.items.find((t) => t.role === 'admin')?.id as string;

    const refused = await api<{ error: { message: string } }>('DELETE', `/v1/tokens/${firstId}`, first);
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain(
      `token ${firstId} (admin) is the last active admin token: revoking it would leave no one able to administer Overseer; create another admin token first (overseer token create --role admin), then revoke this one`,
    );
    expect((await api('GET', '/v1/tokens', first)).status).toBe(200);

    // An operator token does not count as an admin.
    await api('POST', '/v1/tokens', first, { name: 'olga', role: 'operator' });
    expect((await api('DELETE', `/v1/tokens/${firstId}`, first)).status).toBe(400);

    const second = await api<{ id: string; token: string }>('POST', '/v1/tokens', first, {
      name: 'bob',
      role: 'admin',
    });
    expect(second.status).toBe(201);
    expect((await api('DELETE', `/v1/tokens/${firstId}`, second.body.token)).status).toBe(200);
    // Now bob's is the last.
    const last = await api<{ error: { message: string } }>('DELETE', `/v1/tokens/${second.body.id}`, second.body.token);
    expect(last.status).toBe(400);
    expect(last.body.error.message).toContain('is the last active admin token');
    expect((await api('GET', '/v1/tokens', second.body.token)).status).toBe(200);
  });

  it('token recover - run on the host while the core runs: the new admin token works at once, audited, chain intact', async () => {
    const before = adminFile();
    // The file's token was revoked above: nobody who only has the file gets in.
    expect((await api('GET', '/v1/tokens', before)).status).toBe(401);

    let stdout = '';
    const code = await run(
      ['token', 'recover', '--data-dir', dataDir],
      {},
      {
        stdout: (t) => {
          stdout += t;
        },
        stderr: () => {},
      },
    );
    expect(code).toBe(EXIT.ok);
    expect(stdout).toContain('(recovered-admin) created');
    const recovered = adminFile();
    expect(recovered).not.toBe(before);

    const tokens = await api<{ items: TokenInfo[] }>('GET', '/v1/tokens', recovered);
    expect(tokens.status).toBe(200);
    expect(tokens.body.items.find((t) => t.name === 'recovered-admin')).toMatchObject({ role: 'admin' });
    const audit = await api<{
      items: { actor: string; kind: string; data: Record<string, unknown> }[];
      verification: { ok: boolean };
    }>('GET', '/v1/audit?kind=token.recovered', recovered);
    expect(audit.status).toBe(200);
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0]).toMatchObject({
      actor: 'host-operator',
      data: { role: 'admin', activeAdminsBefore: 1 },
    });
    expect(audit.body.verification.ok).toBe(true);

    // The core goes on writing its audit rows after the recovery's: the chain stays whole.
    await api('POST', '/v1/tokens', recovered, { name: 'carol', role: 'observer' });
    const after = await api<{ verification: { ok: boolean } }>('GET', '/v1/audit', recovered);
    expect(after.body.verification.ok).toBe(true);
  });
});
