// The audit's (actor, seq) index without Overseer's own rows (state/migrations.ts v12): listing by actor finds the
// same rows as before, through the index for every actor but Overseer, and a log written before the change lists
// the same after it.
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { StateStore } from '../../state';
import { dbPath, openStore } from './helpers';

const INDEX = 'idx_audit_actor_seq';

function fill(store: StateStore): void {
  let at = 1_000;
  for (let i = 0; i < 30; i++) {
    store.audit.append({ at: at++, actor: i % 3 === 0 ? 'alice' : 'overseer', kind: 'request.status', data: { i } });
    if (i % 5 === 0) store.audit.append({ at: at++, actor: 'bob', kind: 'request.received', data: { i } });
  }
}

const seqs = (store: StateStore, filter: Parameters<StateStore['audit']['list']>[0]) =>
  store.audit.list(filter).map((r) => [r.seq, r.actor, r.kind]);

describe('audit actor index', () => {
  it('audit actor index - leaves Overseer rows out; lists by any actor, kind, since and limit find the same rows', () => {
    const store = openStore();
    fill(store);
    const sql = store.db.prepare(`SELECT sql FROM sqlite_schema WHERE name = ?`).pluck().get(INDEX) as string;
    expect(sql).toMatch(/WHERE actor <> 'overseer'/);
    const all = store.audit.list();
    for (const actor of ['alice', 'bob', 'overseer', 'nobody']) {
      expect(seqs(store, { actor })).toEqual(all.filter((r) => r.actor === actor).map((r) => [r.seq, r.actor, r.kind]));
    }
    const since = all[10]?.seq ?? 0;
    expect(seqs(store, { actor: 'alice', sinceSeq: since, limit: 3 })).toEqual(
      all
        .filter((r) => r.actor === 'alice' && r.seq > since)
        .slice(0, 3)
        .map((r) => [r.seq, r.actor, r.kind]),
    );
    expect(seqs(store, { actor: 'overseer', kind: 'request.received' })).toEqual([]);
    expect(seqs(store, { actor: 'bob', kind: 'request.received' })).toHaveLength(6);
  });

  it('audit actor index - a requester lookup searches the index; Overseer rows are not in it', () => {
    const store = openStore();
    fill(store);
    const plan = (sql: string) =>
      (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('alice') as { detail: string }[]).map((r) => r.detail).join();
    expect(plan(`SELECT seq FROM audit WHERE actor = ? AND actor <> 'overseer' ORDER BY seq`)).toMatch(
      new RegExp(`SEARCH audit USING .*INDEX ${INDEX}`),
    );
    const entries = store.db.prepare(`SELECT count(*) FROM audit INDEXED BY ${INDEX} WHERE actor <> 'overseer'`);
    expect(entries.pluck().get()).toBe(store.audit.list().filter((r) => r.actor !== 'overseer').length);
  });

  it('audit actor index - a log written under the full index lists the same after the migration, chain intact', () => {
    const file = dbPath();
    const before = StateStore.open(file);
    fill(before);
    const listed = { alice: seqs(before, { actor: 'alice' }), overseer: seqs(before, { actor: 'overseer' }) };
    before.close();
    // Back to version 11: the full index, as every database had it before.
    const raw = new BetterSqlite3(file);
    raw.exec(
      `DROP INDEX ${INDEX}; CREATE INDEX ${INDEX} ON audit (actor, seq); DELETE FROM schema_migrations WHERE version >= 12;`,
    );
    raw.close();
    const after = openStore(file);
    expect(seqs(after, { actor: 'alice' })).toEqual(listed.alice);
    expect(seqs(after, { actor: 'overseer' })).toEqual(listed.overseer);
    expect(after.audit.verify().ok).toBe(true);
    const sql = after.db.prepare(`SELECT sql FROM sqlite_schema WHERE name = ?`).pluck().get(INDEX) as string;
    expect(sql).toMatch(/WHERE actor <> 'overseer'/);
  });
});
