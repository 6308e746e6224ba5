import type { Database } from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  AUDIT_APPEND_ONLY_MESSAGE,
  AuditChainError,
  canonicalJson,
  GENESIS_HASH,
  StateStore,
  TABLES,
  triggerName,
} from '../../state';
import { auditHash, hashInput } from '../../state/audit-hash';
import type { StoredAuditRow } from '../../state/audit-walk';
import { openStore } from './helpers';

const A = TABLES.audit;

function seeded(rows = 5) {
  const store = openStore();
  for (let i = 1; i <= rows; i++) {
    store.audit.append({ at: 1_000 + i, actor: i % 2 ? 'alice' : 'overseer', kind: 'request.status', data: { n: i } });
  }
  return store;
}

/** Removes the append-only triggers, as an attacker with the file would. */
function dropTriggers(db: Database): void {
  db.exec(`DROP TRIGGER ${triggerName(A, 'no_update')}; DROP TRIGGER ${triggerName(A, 'no_delete')};`);
}

describe('audit', () => {
  it('audit - append chains rows from 64 zeros and moves the head', () => {
    const { audit } = openStore();
    expect(audit.head()).toEqual({ seq: 0, hash: GENESIS_HASH });
    expect(audit.verify()).toEqual({
      ok: true,
      rows: 0,
      keyedFrom: null,
      checkpoint: null,
      head: { seq: 0, hash: GENESIS_HASH },
    });

    const first = audit.append({ at: 1, actor: 'alice', kind: 'request.received', data: { id: 'r1', b: 2, a: 1 } });
    const second = audit.append({ at: 2, actor: 'overseer', kind: 'request.status', data: { id: 'r1', to: 'gating' } });
    expect(first).toMatchObject({ seq: 1, prevHash: GENESIS_HASH, data: { id: 'r1', a: 1, b: 2 } });
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(second).toMatchObject({ seq: 2, prevHash: first.hash });
    expect(audit.head()).toEqual({ seq: 2, hash: second.hash });
    expect(audit.list()).toEqual([first, second]);
    expect(audit.verify()).toEqual({
      ok: true,
      rows: 2,
      keyedFrom: null,
      checkpoint: null,
      head: { seq: 2, hash: second.hash },
    });
  });

  it('audit - the hashed text is the canonical JSON of (seq, at, actor, kind, data)', () => {
    const fields = { seq: 7, at: 123, actor: 'al"ice', kind: 'k' };
    const data = { z: [1, { b: 1, a: undefined }], a: 'x' };
    expect(hashInput(fields, canonicalJson(data))).toBe(canonicalJson({ ...fields, data }));
    expect(canonicalJson({ b: 1, a: { d: 1, c: 2 } })).toBe('{"a":{"c":2,"d":1},"b":1}');
  });

  it('audit - list filters by actor, sinceSeq and limit', () => {
    const { audit } = seeded(6);
    expect(audit.list({ actor: 'alice' }).map((r) => r.seq)).toEqual([1, 3, 5]);
    expect(audit.list({ sinceSeq: 4 }).map((r) => r.seq)).toEqual([5, 6]);
    expect(audit.list({ actor: 'overseer', sinceSeq: 2, limit: 1 }).map((r) => r.seq)).toEqual([4]);
    expect(audit.list({ kind: 'nope' })).toEqual([]);
  });

  it('audit - triggers refuse update and delete', () => {
    const { db, audit } = seeded(2);
    expect(() => db.prepare(`UPDATE ${A} SET actor = 'mallory' WHERE seq = 1`).run()).toThrow(
      AUDIT_APPEND_ONLY_MESSAGE,
    );
    expect(() => db.prepare(`DELETE FROM ${A} WHERE seq = 2`).run()).toThrow(AUDIT_APPEND_ONLY_MESSAGE);
    expect(() => db.prepare(`DELETE FROM ${A}`).run()).toThrow(AUDIT_APPEND_ONLY_MESSAGE);
    expect(audit.verify()).toMatchObject({ ok: true, rows: 2 });
  });

  it('audit - editing a row is detected by verify at its seq', () => {
    const { db, audit } = seeded(5);
    dropTriggers(db);
    db.prepare(`UPDATE ${A} SET data = '{"n":99}' WHERE seq = 3`).run();
    expect(audit.verify()).toMatchObject({ ok: false, rows: 2, problem: { row: 3, kind: 'edited' } });
    expect(audit.verify().problem?.sentence).toBe("row 3's content does not match its hash: it was edited");
  });

  it("audit - editing a row and rewriting its hash is detected (at the row, then at the next row's link)", () => {
    const { db, audit } = seeded(5);
    dropTriggers(db);
    db.prepare(`UPDATE ${A} SET actor = 'mallory', hash = ? WHERE seq = 2`).run('f'.repeat(64));
    expect(audit.verify()).toMatchObject({ ok: false, problem: { row: 2, kind: 'edited' } });
    // Rewriting the row's hash correctly still breaks the chain at row 3.
    const row = db.prepare(`SELECT seq, at, actor, kind, data, prev_hash FROM ${A} WHERE seq = 2`).get() as Omit<
      StoredAuditRow,
      'hash'
    >;
    db.prepare(`UPDATE ${A} SET hash = ? WHERE seq = 2`).run(auditHash(row.prev_hash, row, row.data));
    expect(audit.verify()).toMatchObject({ ok: false, problem: { row: 3, kind: 'edited' } });
  });

  it('audit - deleting a middle row is detected with the missing seq', () => {
    const { db, audit } = seeded(5);
    dropTriggers(db);
    db.prepare(`DELETE FROM ${A} WHERE seq = 3`).run();
    expect(audit.verify()).toMatchObject({ ok: false, problem: { row: 3, kind: 'deleted' } });
    expect(audit.verify().problem?.sentence).toBe('row 3 is missing: the row after 2 is 4');
  });

  it('audit - deleting the first row is detected at seq 1', () => {
    const { db, audit } = seeded(3);
    dropTriggers(db);
    db.prepare(`DELETE FROM ${A} WHERE seq = 1`).run();
    expect(audit.verify()).toMatchObject({ ok: false, problem: { row: 1, kind: 'deleted' } });
  });

  it('audit - deleting the last row is detected with its seq', () => {
    const { db, audit } = seeded(5);
    dropTriggers(db);
    db.prepare(`DELETE FROM ${A} WHERE seq = 5`).run();
    expect(audit.verify()).toMatchObject({ ok: false, problem: { row: 5, kind: 'deleted' } });
  });

  it('audit - deleting the last row and forging the head is still detected through sqlite_sequence', () => {
    const { db, audit } = seeded(5);
    dropTriggers(db);
    const row4 = audit.list({ sinceSeq: 3, limit: 1 })[0]!;
    db.prepare(`DELETE FROM ${A} WHERE seq = 5`).run();
    db.prepare(`UPDATE ${TABLES.auditHead} SET seq = 4, hash = ? WHERE id = 1`).run(row4.hash);
    expect(audit.verify()).toMatchObject({ ok: false, problem: { row: 5, kind: 'deleted' } });

    // Appending afterwards does not reuse seq 5, so the gap stays visible.
    const next = audit.append({ at: 9_999, actor: 'overseer', kind: 'x', data: null });
    expect(next.seq).toBe(6);
    expect(audit.verify()).toMatchObject({ ok: false, problem: { row: 5, kind: 'deleted' } });
  });

  it('audit - a forged head is detected', () => {
    const { db, audit } = seeded(4);
    db.prepare(`UPDATE ${TABLES.auditHead} SET hash = ? WHERE id = 1`).run('a'.repeat(64));
    expect(audit.verify()).toMatchObject({ ok: false, problem: { row: 4, kind: 'forged-head' } });
    db.prepare(`UPDATE ${TABLES.auditHead} SET seq = 2, hash = ? WHERE id = 1`).run(audit.list()[1]!.hash);
    expect(audit.verify()).toMatchObject({ ok: false, problem: { row: 4, kind: 'forged-head' } });
    expect(() => audit.assertIntact()).toThrow(AuditChainError);
  });

  it('audit - a rolled back transaction leaves neither row nor head behind', () => {
    const store = seeded(2);
    const head = store.audit.head();
    expect(() =>
      store.transaction(() => {
        store.audit.append({ at: 1, actor: 'a', kind: 'k', data: {} });
        throw new Error('abort');
      }),
    ).toThrow('abort');
    expect(store.audit.head()).toEqual(head);
    expect(store.audit.verify()).toMatchObject({ ok: true, rows: 2 });
    expect(() => store.audit.append({ at: 1.5, actor: 'a', kind: 'k', data: {} })).toThrow(TypeError);
  });

  it('audit - two connections appending to one file keep one intact chain', () => {
    const one = openStore();
    const two = openStore(one.db.name);
    for (let i = 0; i < 50; i++) {
      (i % 2 ? one : two).audit.append({ at: i, actor: `c${i % 2}`, kind: 'k', data: { i } });
    }
    expect(one.audit.verify()).toMatchObject({ ok: true, rows: 50 });
    two.close();
    const reopened = StateStore.open(one.db.name);
    try {
      expect(reopened.audit.verify()).toMatchObject({ ok: true, rows: 50 });
    } finally {
      reopened.close();
    }
  });
});
