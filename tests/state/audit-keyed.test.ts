import { randomBytes } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import { inspect } from 'node:util';
import type { Database } from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AUDIT_KEYED_KIND,
  AuditChainError,
  type AuditCheckpoint,
  AuditKey,
  GENESIS_HASH,
  META_KEYS,
  StateStore,
  TABLES,
  triggerName,
} from '../../state';
import { auditHash, auditHmac, type HashedFields } from '../../state/audit-hash';
import { SQLITE_SEQUENCE } from '../../state/tables';
import { dbPath } from './helpers';

const A = TABLES.audit;
const key = new AuditKey(randomBytes(32));
const opened: StateStore[] = [];

afterEach(() => {
  for (const store of opened.splice(0)) store.close();
});

/** A store on `file`, with `key` unless another key or null (no key) is given. */
function open(file = dbPath(), auditKey: AuditKey | null = key, now = () => 50_000): StateStore {
  const store = StateStore.open(file, { auditKey: auditKey ?? undefined, now });
  opened.push(store);
  return store;
}

function append(store: StateStore, n: number, from = 1): void {
  for (let i = from; i < from + n; i++) {
    store.audit.append({ at: 1_000 + i, actor: i % 2 ? 'alice' : 'overseer', kind: 'request.status', data: { n: i } });
  }
}

function dropTriggers(db: Database): void {
  db.exec(`DROP TRIGGER ${triggerName(A, 'no_update')}; DROP TRIGGER ${triggerName(A, 'no_delete')};`);
}

interface Row extends HashedFields {
  data: string;
}

/** What someone with the SQLite file alone can do: relink every row from `from` on with `link`, and fix the head. */
function relink(db: Database, link: (prev: string, row: Row) => string, from = 1): void {
  let prev =
    from === 1
      ? GENESIS_HASH
      : (db
          .prepare(`SELECT hash FROM ${A} WHERE seq = ?`)
          .pluck()
          .get(from - 1) as string);
  const rows = db.prepare(`SELECT seq, at, actor, kind, data FROM ${A} WHERE seq >= ? ORDER BY seq`).all(from) as Row[];
  for (const row of rows) {
    const hash = link(prev, row);
    db.prepare(`UPDATE ${A} SET prev_hash = ?, hash = ? WHERE seq = ?`).run(prev, hash, row.seq);
    prev = hash;
  }
  const last = rows.at(-1)?.seq ?? from - 1;
  db.prepare(`UPDATE ${TABLES.auditHead} SET seq = ?, hash = ? WHERE id = 1`).run(last, prev);
}

const sha = (prev: string, row: Row) => auditHash(prev, row, row.data);

/** Removes rows after `keep` and makes audit_head and sqlite_sequence agree, so the table alone looks intact. */
function truncateConsistently(db: Database, keep: number): void {
  db.prepare(`DELETE FROM ${A} WHERE seq > ?`).run(keep);
  const last = db.prepare(`SELECT hash FROM ${A} WHERE seq = ?`).pluck().get(keep) as string;
  db.prepare(`UPDATE ${TABLES.auditHead} SET seq = ?, hash = ? WHERE id = 1`).run(keep, last);
  db.prepare(`UPDATE ${SQLITE_SEQUENCE} SET seq = ? WHERE name = ?`).run(keep, A);
}

describe('audit keyed', () => {
  it('audit keyed - a keyed store links every row with HMAC-SHA256 under the key and says from which row', () => {
    const store = open();
    append(store, 3);
    const rows = store.audit.list();
    for (const row of rows) {
      const fields = { seq: row.seq, at: row.at, actor: row.actor, kind: row.kind };
      const data = JSON.stringify(row.data);
      expect(row.hash).toBe(auditHmac(key, row.prevHash, fields, data));
      expect(row.hash).not.toBe(auditHash(row.prevHash, fields, data));
    }
    expect(store.audit.keyId).toBe(key.id);
    expect(store.audit.keyedFrom()).toBe(1);
    expect(store.audit.verify()).toEqual({
      ok: true,
      rows: 3,
      keyedFrom: 1,
      checkpoint: null,
      head: { seq: 3, hash: rows[2]!.hash },
    });
    // The marker is bound to the key by its MAC; nothing secret is in it.
    const marker = JSON.parse(store.meta.get(META_KEYS.auditKeying)!);
    expect(marker).toMatchObject({ seq: 1, keyId: key.id, mac: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('audit keyed - the key prints and serialises as its id only', () => {
    expect(key.id).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify({ key })).toBe(`{"key":{"keyId":"${key.id}"}}`);
    expect(inspect(key)).toBe(`AuditKey(${key.id})`);
    expect(String(key)).toBe(`AuditKey(${key.id})`);
    expect(() => new AuditKey(randomBytes(16))).toThrow(RangeError);
  });

  it('audit keyed - unkeyed rows written before keep verifying; an anchor row is keyed after them', () => {
    const file = dbPath();
    const before = open(file, null);
    append(before, 3);
    const oldHashes = before.audit.list().map((r) => r.hash);
    before.close();

    const store = open(file, key, () => 77_000);
    expect(store.audit.keyedFrom()).toBe(4);
    const rows = store.audit.list();
    expect(rows.map((r) => r.hash).slice(0, 3)).toEqual(oldHashes);
    expect(rows[3]).toMatchObject({ seq: 4, at: 77_000, actor: 'overseer', kind: AUDIT_KEYED_KIND });
    expect(rows[3]!.data).toEqual({ keyId: key.id, from: 4 });
    append(store, 2, 4);
    expect(store.audit.verify()).toMatchObject({ ok: true, rows: 6, keyedFrom: 4 });

    // Reopening with the same key changes nothing.
    store.close();
    const again = open(file);
    expect(again.audit.keyedFrom()).toBe(4);
    expect(again.audit.list()).toHaveLength(6);
    expect(again.audit.verify()).toMatchObject({ ok: true, rows: 6, keyedFrom: 4 });
  });

  it('audit keyed - rewriting old unkeyed rows and recomputing their hashes breaks at the first keyed row', () => {
    const file = dbPath();
    const before = open(file, null);
    append(before, 3);
    before.close();
    const store = open(file);
    append(store, 2, 4);
    dropTriggers(store.db);
    store.db.prepare(`UPDATE ${A} SET actor = 'mallory' WHERE seq = 2`).run();
    relink(store.db, sha, 2);
    // Rows 2 and 3 now hash correctly, but row 4's keyed link can be neither recomputed nor moved.
    const result = store.audit.verify();
    expect(result).toMatchObject({ ok: false, keyedFrom: 4, problem: { row: 4, kind: 'edited' } });
  });

  it('audit keyed - a keyed row rewritten and the chain recomputed with plain SHA-256 is found at that row', () => {
    const store = open();
    append(store, 6);
    dropTriggers(store.db);
    store.db.prepare(`UPDATE ${A} SET data = '{"n":99}' WHERE seq = 3`).run();
    relink(store.db, sha, 3);
    const result = store.audit.verify();
    expect(result.ok).toBe(false);
    expect(result.problem).toMatchObject({ row: 3, kind: 'edited' });
    expect(result.problem!.sentence).toMatch(/plain SHA-256 link where the chain is keyed/);
  });

  it('audit keyed - a chain recomputed with HMAC under another key is found, and so is a marker naming that key', () => {
    const store = open();
    append(store, 4);
    dropTriggers(store.db);
    const mallory = new AuditKey(randomBytes(32));
    store.db.prepare(`UPDATE ${A} SET actor = 'mallory' WHERE seq = 2`).run();
    relink(store.db, (prev, row) => auditHmac(mallory, prev, row, row.data));
    expect(store.audit.verify().problem).toMatchObject({ row: 1, kind: 'edited' });
    expect(store.audit.verify().problem!.sentence).toMatch(/does not match its keyed link/);

    // The attacker also writes a marker for their own key: it does not name ours.
    store.meta.set(META_KEYS.auditKeying, JSON.stringify({ seq: 1, keyId: mallory.id, mac: 'f'.repeat(64) }));
    expect(store.audit.verify().problem).toMatchObject({ row: 1, kind: 'wrong-key' });
  });

  it('audit keyed - a moved, unreadable or removed keying marker is a forged head', () => {
    const store = open();
    append(store, 3);
    const marker = JSON.parse(store.meta.get(META_KEYS.auditKeying)!);
    store.meta.set(META_KEYS.auditKeying, JSON.stringify({ ...marker, seq: 4 }));
    expect(store.audit.verify().problem).toMatchObject({ row: 4, kind: 'forged-head' });
    store.meta.set(META_KEYS.auditKeying, 'not json');
    expect(store.audit.verify().problem).toMatchObject({ kind: 'forged-head' });
    store.meta.delete(META_KEYS.auditKeying);
    expect(store.audit.verify().problem).toMatchObject({ row: 3, kind: 'forged-head' });
    expect(store.audit.verify().problem!.sentence).toMatch(/marker is missing/);
  });

  it('audit keyed - without the key a keyed chain cannot be checked and refuses appends', () => {
    const file = dbPath();
    append(open(file), 2);
    const keyless = open(file, null);
    expect(keyless.audit.verify()).toMatchObject({ ok: false, keyedFrom: 1, problem: { row: 1, kind: 'wrong-key' } });
    expect(() => keyless.audit.append({ at: 1, actor: 'a', kind: 'k', data: null })).toThrow(AuditChainError);
    const other = open(file, new AuditKey(randomBytes(32)));
    expect(other.audit.verify().problem).toMatchObject({ kind: 'wrong-key' });
    expect(() => keyless.audit.assertIntact()).toThrow(AuditChainError);
  });

  it('audit keyed - a row slipped in below the first is found', () => {
    const store = open();
    append(store, 2);
    store.db
      .prepare(`INSERT INTO ${A} (seq, at, actor, kind, data, prev_hash, hash) VALUES (0, 1, 'm', 'k', '{}', ?, ?)`)
      .run(GENESIS_HASH, GENESIS_HASH);
    expect(store.audit.verify().problem).toMatchObject({ row: 0, kind: 'edited' });
  });

  describe('checkpoints', () => {
    const checkpointed = (rows = 8) => {
      const file = dbPath();
      const store = open(file);
      append(store, rows);
      const checkpoint = store.audit.checkpointOf(store.audit.lastRow(), 90_000);
      return { file, store, checkpoint };
    };

    it('audit keyed - a checkpoint is signed over every field and verifies against the table', () => {
      const { store, checkpoint } = checkpointed();
      expect(checkpoint).toMatchObject({ v: 1, seq: 8, keyedFrom: 1, keyId: key.id, at: 90_000 });
      expect(checkpoint.hash).toBe(store.audit.lastRow().hash);
      append(store, 2, 9);
      expect(store.audit.verify({ checkpoint })).toMatchObject({
        ok: true,
        rows: 10,
        checkpoint: { seq: 8, hash: checkpoint.hash, at: 90_000 },
      });
    });

    it('audit keyed - a tail deleted consistently (head and counter fixed) is found only against the checkpoint', () => {
      const { store, checkpoint } = checkpointed();
      dropTriggers(store.db);
      truncateConsistently(store.db, 5);
      expect(store.audit.verify()).toMatchObject({ ok: true, rows: 5 });
      const result = store.audit.verify({ checkpoint });
      expect(result).toMatchObject({ ok: false, problem: { row: 6, kind: 'behind-checkpoint' } });
      expect(result.problem!.sentence).toMatch(
        /rows 6 to 8 are gone: the checkpoint of .* names row 8 but the table ends at row 5/,
      );
    });

    it('audit keyed - an older copy of the database written on is a rewritten tail', () => {
      const file = dbPath();
      const store = open(file);
      append(store, 5);
      store.db.pragma('wal_checkpoint(TRUNCATE)');
      const backup = dbPath('backup.db');
      copyFileSync(file, backup);
      append(store, 3, 6);
      const checkpoint = store.audit.checkpointOf(store.audit.lastRow(), 90_000);

      const restored = open(backup);
      append(restored, 4, 100);
      expect(restored.audit.verify()).toMatchObject({ ok: true, rows: 9 });
      expect(restored.audit.verify({ checkpoint })).toMatchObject({
        ok: false,
        problem: { row: 8, kind: 'rewritten-tail' },
      });
    });

    it('audit keyed - a checkpoint altered, or signed with another key, is a bad checkpoint', () => {
      const { store, checkpoint } = checkpointed();
      expect(store.audit.verify({ checkpoint: { ...checkpoint, seq: 3 } }).problem).toMatchObject({
        kind: 'bad-checkpoint',
      });
      const other = open(dbPath(), new AuditKey(randomBytes(32)));
      append(other, 8);
      const foreign: AuditCheckpoint = other.audit.checkpointOf(other.audit.lastRow(), 1);
      expect(store.audit.verify({ checkpoint: foreign }).problem).toMatchObject({ kind: 'bad-checkpoint' });
      expect(store.audit.verify({ checkpoint: { ...foreign, keyId: key.id } }).problem).toMatchObject({
        kind: 'bad-checkpoint',
      });
    });

    it('audit keyed - a marker replaced after a re-hash disagrees with the checkpoint on where keying starts', () => {
      const { file, store, checkpoint } = checkpointed(4);
      dropTriggers(store.db);
      // Everything re-hashed with plain SHA-256 and the marker removed: on the next start the log is keyed afresh.
      relink(store.db, sha);
      store.meta.delete(META_KEYS.auditKeying);
      store.close();
      const reopened = open(file);
      expect(reopened.audit.keyedFrom()).toBe(5);
      expect(reopened.audit.verify()).toMatchObject({ ok: true });
      const result = reopened.audit.verify({ checkpoint });
      expect(result).toMatchObject({ ok: false, problem: { row: 1, kind: 'forged-head' } });
      expect(result.problem!.sentence).toMatch(/start at row 5 but the checkpoint of .* says row 1/);
    });

    it('audit keyed - a problem a checkpoint carries stays reported, with when it was found', () => {
      const { store } = checkpointed();
      const broken = { row: 6, kind: 'behind-checkpoint' as const, sentence: 'rows 6 to 8 are gone', foundAt: 80_000 };
      const checkpoint = store.audit.checkpointOf(store.audit.lastRow(), 90_000, broken);
      const result = store.audit.verify({ checkpoint });
      expect(result).toMatchObject({ ok: false, problem: { row: 6, kind: 'behind-checkpoint', recordedAt: 80_000 } });
      expect(result.problem!.sentence).toMatch(/^rows 6 to 8 are gone \(found 1970-01-01T00:01:20Z; kept by/);
    });

    it('audit keyed - from an anchor only the rows after it are walked, and the anchor row must be unchanged', () => {
      const { store } = checkpointed(6);
      const anchor = store.audit.lastRow();
      append(store, 3, 7);
      expect(store.audit.verify({ anchor })).toMatchObject({ ok: true, rows: 3, head: { seq: 9 } });
      dropTriggers(store.db);
      store.db.prepare(`UPDATE ${A} SET hash = ? WHERE seq = 6`).run('e'.repeat(64));
      expect(store.audit.verify({ anchor }).problem).toMatchObject({ row: 6, kind: 'edited' });
      expect(() => open(dbPath(), null).audit.checkpointOf(anchor, 1)).toThrow(AuditChainError);
    });
  });
});
