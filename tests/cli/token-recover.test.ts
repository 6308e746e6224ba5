// `overseer token recover`: on the host, from the data dir's files (a real SQLite file and audit key, as `serve`
// leaves them), a new admin token when none works any more — written 0600 or printed, audited, the chain intact.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateAuditKey } from '../../actors/audit-startup';
import { EXIT, run } from '../../cli/main';
import { AUDIT_KEY_BYTES, StateStore } from '../../state';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A data dir as a locked-out installation leaves it: audit key, database, its only admin token revoked. */
function lockedOutDataDir(): { dir: string; oldToken: string } {
  const dir = mkdtempSync(join(tmpdir(), 'overseer-recover-'));
  dirs.push(dir);
  const { key } = loadOrCreateAuditKey(join(dir, 'audit.key'));
  const store = StateStore.open(join(dir, 'overseer.db'), { auditKey: key });
  const { record, token } = store.tokens.create('admin', 'admin', 'overseer', 1_000);
  store.audit.append({ at: 1_000, actor: 'overseer', kind: 'token.created', data: { id: record.id } });
  store.tokens.revoke(record.id, 2_000);
  store.audit.append({ at: 2_000, actor: record.id, kind: 'token.revoked', data: { id: record.id } });
  store.close();
  writeFileSync(join(dir, 'admin.token'), `${token}\n`, { mode: 0o600 });
  return { dir, oldToken: token };
}

async function cli(argv: string[], env: Record<string, string>) {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, env, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
  });
  return { code, stdout, stderr };
}

function openWithKey(dir: string): StateStore {
  const { key } = loadOrCreateAuditKey(join(dir, 'audit.key'));
  return StateStore.open(join(dir, 'overseer.db'), { auditKey: key });
}

describe('cli token recover', () => {
  it('cli - token recover writes a new admin token to admin.token (0600), audited as token.recovered by the host operator', async () => {
    const { dir, oldToken } = lockedOutDataDir();
    const res = await cli(['token', 'recover'], { OVERSEER_DATA_DIR: dir });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(EXIT.ok);
    const file = join(dir, 'admin.token');
    expect(res.stdout).toMatch(
      new RegExp(
        `^admin token [0-9a-f-]{36} \\(recovered-admin\\) created; it is in ${file.replaceAll('.', '\\.')} \\(mode 0600\\); audited as token\\.recovered\\n$`,
      ),
    );
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const token = readFileSync(file, 'utf8').trim();
    expect(token).not.toBe(oldToken);

    const store = openWithKey(dir);
    try {
      const record = store.tokens.verify(token);
      expect(record).toMatchObject({ name: 'recovered-admin', role: 'admin', createdBy: 'host-operator' });
      const [row] = store.audit.list({ kind: 'token.recovered' });
      expect(row).toMatchObject({
        actor: 'host-operator',
        data: { id: record?.id, name: 'recovered-admin', role: 'admin', activeAdminsBefore: 0, file },
      });
      expect((row?.data as { user: string }).user).toEqual(expect.any(String));
      // Chained under the audit key like every other row.
      expect(store.audit.verify()).toMatchObject({ ok: true });
    } finally {
      store.close();
    }
  });

  it('cli - token recover --print --json prints the token and leaves admin.token alone', async () => {
    const { dir, oldToken } = lockedOutDataDir();
    const res = await cli(['token', 'recover', '--print', '--json', '--name', 'alice-rescue', '--data-dir', dir], {});
    expect(res.code).toBe(EXIT.ok);
    const answer = JSON.parse(res.stdout) as { id: string; name: string; role: string; token: string };
    expect(answer).toMatchObject({ name: 'alice-rescue', role: 'admin', token: expect.stringMatching(/^ovs_/) });
    expect(readFileSync(join(dir, 'admin.token'), 'utf8').trim()).toBe(oldToken);
    const store = openWithKey(dir);
    try {
      expect(store.tokens.verify(answer.token)?.id).toBe(answer.id);
      expect(store.audit.list({ kind: 'token.recovered' })[0]?.data).toMatchObject({ printed: true });
    } finally {
      store.close();
    }
  });

  it('cli - token recover refuses without a database, with another audit key, or with a reserved name (exit 1)', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'overseer-recover-empty-'));
    dirs.push(empty);
    const none = await cli(['token', 'recover'], { OVERSEER_DATA_DIR: empty });
    expect(none.code).toBe(EXIT.error);
    expect(none.stderr).toBe(
      `overseer: token recover: no Overseer database in ${empty} (overseer.db): point OVERSEER_DATA_DIR or --data-dir at the data dir of the Overseer whose access to recover\n`,
    );
    expect(() => statSync(join(empty, 'overseer.db'))).toThrow();

    const { dir } = lockedOutDataDir();
    const otherKey = join(dir, 'other.key');
    writeFileSync(otherKey, Buffer.alloc(AUDIT_KEY_BYTES, 7), { mode: 0o600 });
    const wrongKey = await cli(['token', 'recover'], { OVERSEER_DATA_DIR: dir, OVERSEER_AUDIT_KEY_FILE: otherKey });
    expect(wrongKey.code).toBe(EXIT.error);
    expect(wrongKey.stderr).toMatch(
      /^overseer: token recover: the audit key .*other\.key is not the one this database/,
    );

    const reserved = await cli(['token', 'recover', '--name', 'overseer'], { OVERSEER_DATA_DIR: dir });
    expect(reserved.code).toBe(EXIT.error);
    expect(reserved.stderr).toContain("--name 'overseer' cannot be a token's name");

    const store = openWithKey(dir);
    try {
      expect(store.audit.list({ kind: 'token.recovered' })).toEqual([]);
      expect(store.tokens.list().filter((t) => t.revokedAt === undefined)).toEqual([]);
    } finally {
      store.close();
    }
  });
});
