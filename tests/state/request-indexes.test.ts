// The indexes a decision writes (state/migrations.ts v10): the status history's (status, at) and the requests'
// requester_id index are gone, and what looked requests up by requester still finds them through an index.
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../state';
import { dbPath } from './helpers';

describe('request indexes', () => {
  it('request indexes - the two unread indexes are dropped; a requester lookup still searches an index', () => {
    const db = openDatabase(dbPath());
    try {
      const indexes = (
        db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'index'`).all() as { name: string }[]
      ).map((r) => r.name);
      expect(indexes).not.toContain('idx_request_status_history_status_at');
      expect(indexes).not.toContain('idx_requests_requester_id');
      const plan = (sql: string) =>
        (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('alice') as { detail: string }[]).map((r) => r.detail).join(' ');
      expect(plan('SELECT count(*) FROM requests WHERE requester_id = ?')).toMatch(/SEARCH requests USING .*INDEX/);
      expect(plan('SELECT * FROM requests WHERE requester_id = ? ORDER BY submitted_at DESC LIMIT 5')).toMatch(
        /SEARCH requests USING .*INDEX/,
      );
    } finally {
      db.close();
    }
  });
});
