// The append-only, hash-chained audit log. Each row's hash covers its content and the previous row's hash, and
// audit_head keeps the last (seq, hash) as a witness, so an edited, removed or truncated row is found by verify().
// SQL triggers refuse UPDATE and DELETE on the table.
import type { Database } from 'better-sqlite3';
import { auditDataJson, auditHash } from './audit-hash';
import { AuditChainError } from './errors';
import { fromJson } from './json';
import { GENESIS_HASH } from './migrations';
import { StatementCache, Where } from './statements';
import { SQLITE_SEQUENCE, TABLES } from './tables';

export interface AuditEntry {
  /** epoch ms; an integer */
  at: number;
  /** Who did it: a requester id, 'overseer', an actor id. */
  actor: string;
  /** What happened: 'request.received', 'vm.unexpected_stop', ... */
  kind: string;
  /** Any JSON-serialisable value; stored (and hashed) as canonical JSON. */
  data: unknown;
}

export interface AuditRow extends AuditEntry {
  seq: number;
  prevHash: string;
  hash: string;
}

export interface AuditHead {
  /** Sequence number of the last row; 0 for an empty log. */
  seq: number;
  /** Hash of the last row; 64 zeros for an empty log. */
  hash: string;
}

/**
 * - missing-row: a row is gone (a gap in seq, or the head / sqlite_sequence point past the last row);
 *   `seq` is the first missing one.
 * - chain-break: the row's prev_hash is not the previous row's hash.
 * - hash-mismatch: the row's content does not match its hash (it was edited).
 * - head-mismatch: audit_head does not name the last row; `seq` is the last row's.
 * - sequence-mismatch: SQLite's AUTOINCREMENT counter is below the last row.
 */
export type AuditProblem = 'missing-row' | 'chain-break' | 'hash-mismatch' | 'head-mismatch' | 'sequence-mismatch';

export type AuditVerifyResult =
  | { ok: true; rows: number; head: AuditHead }
  | { ok: false; seq: number; problem: AuditProblem; detail: string };

export interface AuditFilter {
  actor?: string | undefined;
  kind?: string | undefined;
  /** Only rows after this seq. */
  sinceSeq?: number | undefined;
  /** Most rows returned (oldest first). */
  limit?: number | undefined;
}

interface StoredRow {
  seq: number;
  at: number;
  actor: string;
  kind: string;
  data: string;
  prev_hash: string;
  hash: string;
}

const T = TABLES;
const COLUMNS = 'seq, at, actor, kind, data, prev_hash, hash';

export class AuditLog {
  private readonly stmts: StatementCache;
  private readonly appendTx: (entry: AuditEntry) => AuditRow;

  constructor(db: Database) {
    this.stmts = new StatementCache(db);
    const append = db.transaction((entry: AuditEntry) => this.appendRow(entry));
    this.appendTx = (entry) => append.immediate(entry);
  }

  /**
   * Appends one entry and moves audit_head to it, in one transaction (a savepoint inside the caller's).
   * The new row chains from the last row present; its seq follows SQLite's AUTOINCREMENT counter, so a removed
   * tail row leaves a gap that verify() keeps reporting.
   */
  append(entry: AuditEntry): AuditRow {
    return this.appendTx(entry);
  }

  /** The head witness: last seq and hash. */
  head(): AuditHead {
    return (
      this.stmts.get<AuditHead>(`SELECT seq, hash FROM ${T.auditHead} WHERE id = 1`).get() ?? {
        seq: 0,
        hash: GENESIS_HASH,
      }
    );
  }

  /** Walks the whole chain; reports the first problem with the seq where it is. */
  verify(): AuditVerifyResult {
    const fail = (seq: number, problem: AuditProblem, detail: string): AuditVerifyResult => ({
      ok: false,
      seq,
      problem,
      detail,
    });
    let expected = 1;
    let prev = GENESIS_HASH;
    for (const row of this.stmts.get<StoredRow>(`SELECT ${COLUMNS} FROM ${T.audit} ORDER BY seq`).iterate()) {
      if (row.seq !== expected) {
        return fail(expected, 'missing-row', `row ${expected} is missing: the row after ${expected - 1} is ${row.seq}`);
      }
      if (row.prev_hash !== prev) {
        return fail(row.seq, 'chain-break', `row ${row.seq}: prev_hash does not match the hash of row ${row.seq - 1}`);
      }
      if (auditHash(row.prev_hash, row, row.data) !== row.hash) {
        return fail(row.seq, 'hash-mismatch', `row ${row.seq}: content does not match its hash (edited)`);
      }
      prev = row.hash;
      expected++;
    }
    const last = expected - 1;

    const head = this.stmts.get<AuditHead>(`SELECT seq, hash FROM ${T.auditHead} WHERE id = 1`).get();
    if (!head) return fail(last, 'head-mismatch', 'the audit_head row is missing');
    if (head.seq > last) {
      return fail(last + 1, 'missing-row', `audit_head is at ${head.seq} but the last row is ${last}: rows removed`);
    }
    if (head.seq < last) return fail(last, 'head-mismatch', `audit_head is at ${head.seq} but rows run to ${last}`);
    if (head.hash !== prev) return fail(last, 'head-mismatch', `audit_head's hash is not the hash of row ${last}`);

    const counter = this.sequenceCounter();
    if (counter > last) {
      return fail(last + 1, 'missing-row', `${counter} rows were appended but the last row is ${last}: rows removed`);
    }
    if (counter < last) {
      return fail(last, 'sequence-mismatch', `the AUTOINCREMENT counter (${counter}) is below the last row (${last})`);
    }
    return { ok: true, rows: last, head };
  }

  /** Throws AuditChainError unless verify() is ok. For a startup check. */
  assertIntact(): void {
    const result = this.verify();
    if (!result.ok) {
      throw new AuditChainError(`audit log damaged at seq ${result.seq}: ${result.detail}`, result.seq, result.problem);
    }
  }

  /** Rows matching every given field, oldest first. */
  list(filter: AuditFilter = {}): AuditRow[] {
    const where = new Where().eq(filter.actor, 'actor = ?').eq(filter.kind, 'kind = ?').eq(filter.sinceSeq, 'seq > ?');
    const limit = filter.limit !== undefined ? ' LIMIT ?' : '';
    const params = filter.limit !== undefined ? [...where.params, filter.limit] : where.params;
    return this.stmts
      .get<StoredRow>(`SELECT ${COLUMNS} FROM ${T.audit} ${where.sql} ORDER BY seq${limit}`)
      .all(...params)
      .map(toRow);
  }

  private appendRow(entry: AuditEntry): AuditRow {
    if (!Number.isSafeInteger(entry.at)) {
      throw new TypeError(`audit entry time must be an integer (epoch ms), got ${entry.at}`);
    }
    const last = this.stmts
      .get<{ seq: number; hash: string }>(`SELECT seq, hash FROM ${T.audit} ORDER BY seq DESC LIMIT 1`)
      .get();
    const seq = Math.max(this.sequenceCounter(), last?.seq ?? 0) + 1;
    const prevHash = last?.hash ?? GENESIS_HASH;
    const data = auditDataJson(entry.data);
    const fields = { seq, at: entry.at, actor: entry.actor, kind: entry.kind };
    const hash = auditHash(prevHash, fields, data);
    this.stmts
      .get(`INSERT INTO ${T.audit} (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`)
      .run(seq, entry.at, entry.actor, entry.kind, data, prevHash, hash);
    this.stmts
      .get(
        `INSERT INTO ${T.auditHead} (id, seq, hash) VALUES (1, ?, ?)
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`,
      )
      .run(seq, hash);
    return { ...fields, data: JSON.parse(data), prevHash, hash };
  }

  /** SQLite's AUTOINCREMENT counter for the audit table (0 before the first append). */
  private sequenceCounter(): number {
    return this.stmts.get<{ seq: number }>(`SELECT seq FROM ${SQLITE_SEQUENCE} WHERE name = ?`).get(T.audit)?.seq ?? 0;
  }
}

function toRow(row: StoredRow): AuditRow {
  return {
    seq: row.seq,
    at: row.at,
    actor: row.actor,
    kind: row.kind,
    data: fromJson(row.data, T.audit, String(row.seq)),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
