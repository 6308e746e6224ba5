// The request status history as a WITHOUT ROWID table (state/migrations.ts v13): histories written before the
// change read the same after it, a deleted request still takes its history with it, and new entries append.
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { StateStore } from '../../state';
import { dbPath, openStore, requestSpec } from './helpers';

const TABLE = 'request_status_history';
const tableSql = (store: StateStore) =>
  store.db.prepare(`SELECT sql FROM sqlite_schema WHERE name = ?`).pluck().get(TABLE) as string;

describe('request history table', () => {
  it('request history table - is its primary key (no rowid); histories of the migrated log read the same', () => {
    const file = dbPath();
    const before = StateStore.open(file);
    for (const id of ['r1', 'r2']) {
      before.requests.insert(requestSpec({ id }), 'received');
      before.requests.update(id, { status: 'gating' }, 1_001);
      before.requests.update(id, { status: 'approved', decision: 'approved', by: 'bob', note: 'fine' }, 1_002);
    }
    const histories = ['r1', 'r2'].map((id) => before.requests.get(id)?.history);
    before.close();
    // Back to version 12: the rowid table every database had before.
    const raw = new BetterSqlite3(file);
    raw.exec(`
      CREATE TABLE old_history (request_id TEXT NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL, status TEXT NOT NULL, at INTEGER NOT NULL, by TEXT, note TEXT,
        PRIMARY KEY (request_id, seq)) STRICT;
      INSERT INTO old_history SELECT * FROM ${TABLE};
      DROP TABLE ${TABLE};
      ALTER TABLE old_history RENAME TO ${TABLE};
      DELETE FROM schema_migrations WHERE version >= 13;`);
    raw.close();

    const after = openStore(file);
    expect(tableSql(after)).toMatch(/WITHOUT ROWID/);
    expect(['r1', 'r2'].map((id) => after.requests.get(id)?.history)).toEqual(histories);
    after.requests.update('r1', { status: 'executing' }, 1_003);
    expect(after.requests.get('r1')?.history.map((h) => h.status)).toEqual([
      'received',
      'gating',
      'approved',
      'executing',
    ]);
    expect(after.db.pragma('foreign_key_check')).toEqual([]);
  });

  it('request history table - a new store has it without rowid, and deleting a request removes its history', () => {
    const store = openStore();
    expect(tableSql(store)).toMatch(/WITHOUT ROWID/);
    store.requests.insert(requestSpec({ id: 'gone' }), 'received');
    store.db.prepare('DELETE FROM requests WHERE id = ?').run('gone');
    expect(store.db.prepare(`SELECT count(*) FROM ${TABLE}`).pluck().get()).toBe(0);
  });
});
