import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateStore } from '../../state';

describe('tokens', () => {
  const open = () => StateStore.open(join(mkdtempSync(join(tmpdir(), 'overseer-tok-')), 'db'));

  it('tokens - only a hash is stored and the plaintext verifies', () => {
    const store = open();
    const { record, token } = store.tokens.create('ci', 'operator', 'admin', 1);
    expect(token).toMatch(/^ovs_[A-Za-z0-9_-]{43}$/);
    const raw = store.db.prepare('SELECT * FROM api_tokens').get() as Record<string, unknown>;
    expect(JSON.stringify(raw)).not.toContain(token);
    expect(store.tokens.verify(token)).toMatchObject({ id: record.id, role: 'operator' });
    expect(store.tokens.verify(`${token}x`)).toBeUndefined();
    store.close();
  });

  it('tokens - a revoked token no longer verifies, and revoking twice says so', () => {
    const store = open();
    const { record, token } = store.tokens.create('ci', 'admin', 'admin', 1);
    expect(store.tokens.revoke(record.id, 2)).toBe(true);
    expect(store.tokens.revoke(record.id, 3)).toBe(false);
    expect(store.tokens.verify(token)).toBeUndefined();
    expect(store.tokens.list()[0]).toMatchObject({ id: record.id, revokedAt: 2 });
    store.close();
  });
});
