// The append-only, hash-chained audit log. Each row's link covers its content and the previous row's link, and
// audit_head keeps the last (seq, link) as a witness, so an edited, removed or truncated row is found by verify().
// SQL triggers refuse UPDATE and DELETE on the table.
//
// Keyed chain: opened with an audit key (kept outside the SQLite file), every new row's link is an HMAC-SHA256
// under that key, so a database writer cannot recompute it. Rows written before the chain was keyed keep their plain
// SHA-256 links; the keying marker in the meta table (seq, key id, the key's MAC over both) says where the keyed
// rows start. A checkpoint of the head kept outside SQLite (see actors/audit-checkpoint.ts) finds a removed or
// rewritten tail, which no check of the table alone can.
import type { Database } from 'better-sqlite3';
import {
  type AuditKey,
  auditHash,
  auditHmac,
  checkpointMac,
  type KeyingMarker,
  keyingMarkerMac,
  sameDigest,
} from './audit-hash';
import { canonicalDataJson } from './audit-log-json';
import {
  auditKeyingMarker,
  auditLastRow,
  auditRowLink,
  auditSequenceCounter,
  AUDIT_COLUMNS as COLUMNS,
} from './audit-reads';
import {
  type AuditBreakRecord,
  type AuditCheckpoint,
  type AuditVerification,
  type AuditVerifyOptions,
  verifyChain,
} from './audit-verify';
import { type AuditSlice, type StoredAuditRow as StoredRow, walkRows } from './audit-walk';
import { AuditChainError } from './errors';
import { fromJson, toJson } from './json';
import { META_KEYS } from './meta-repo';
import { GENESIS_HASH } from './migrations';
import { StatementCache, Where } from './statements';
import { AUDIT_SELF_ACTOR, TABLES } from './tables';

// The chain's verification and the checkpoint types live in state/audit-verify.ts; they are importable from here too.
export type { AuditBreakRecord, AuditCheckpoint, AuditVerification, AuditVerifyOptions } from './audit-verify';

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
  /** Link (hash) of the last row; 64 zeros for an empty log. */
  hash: string;
}

/**
 * - edited: a row's content does not match its link, or a row does not link to the one before it.
 * - deleted: rows are gone (a gap in seq, or audit_head / the AUTOINCREMENT counter point past the last row).
 * - forged-head: audit_head, the AUTOINCREMENT counter or the keying marker were changed to fit the rows.
 * - rewritten-tail: the row the last checkpoint names is there but its link differs: the chain was recomputed.
 * - behind-checkpoint: the table ends before the row the last checkpoint names (a deleted tail, or an older copy).
 * - wrong-key: the chain is keyed but no key, or another key, was given to check it.
 * - bad-checkpoint: the checkpoint does not carry this key's MAC.
 */
export const AUDIT_PROBLEM_KINDS = [
  'edited',
  'deleted',
  'forged-head',
  'rewritten-tail',
  'behind-checkpoint',
  'wrong-key',
  'bad-checkpoint',
] as const;
export type AuditProblemKind = (typeof AUDIT_PROBLEM_KINDS)[number];

export interface AuditProblem {
  /** The row where it is: the first missing or wrong row (for head and marker problems, the row they concern). */
  row: number;
  kind: AuditProblemKind;
  /** What was found, in one sentence. */
  sentence: string;
  /** Set when the problem was found earlier and is carried forward by the checkpoints: when it was found. */
  recordedAt?: number | undefined;
}

export interface AuditFilter {
  actor?: string | undefined;
  kind?: string | undefined;
  /** Only rows after this seq. */
  sinceSeq?: number | undefined;
  /** Most rows returned (oldest first). */
  limit?: number | undefined;
}

export interface AuditLogOptions {
  /** The audit key: new rows are linked with HMAC-SHA256 under it. Without it, with plain SHA-256 (tests). */
  key?: AuditKey | undefined;
  /** Clock for the `audit.keyed` row written when an existing log is keyed. Default Date.now. */
  now?: (() => number) | undefined;
}

/** Kind of the row appended when a log that already has rows becomes keyed (it anchors the rows before it). */
export const AUDIT_KEYED_KIND = 'audit.keyed';

const T = TABLES;
const MARKER_KEY = META_KEYS.auditKeying;

export class AuditLog {
  private readonly stmts: StatementCache;
  private readonly key: AuditKey | undefined;
  private readonly appendTx: (entry: AuditEntry) => AuditRow;
  private readonly appendManyTx: (entries: readonly AuditEntry[]) => AuditHead;
  private readonly verifyTx: (opts: AuditVerifyOptions) => AuditVerification;
  private readonly walkSliceTx: (after: AuditHead | undefined, limit: number) => AuditSlice;
  /** Entries queued by defer(), appended before anything else touches the chain (see defer). */
  private deferred: AuditEntry[] = [];

  constructor(db: Database, opts: AuditLogOptions = {}) {
    this.stmts = new StatementCache(db);
    this.key = opts.key;
    const append = db.transaction((entry: AuditEntry) => this.appendRow(entry));
    this.appendTx = (entry) => append.immediate(entry);
    const appendMany = db.transaction((entries: readonly AuditEntry[]) => this.appendRows(entries));
    this.appendManyTx = (entries) => appendMany.immediate(entries);
    // One read transaction: the walk, the head and the counter are one snapshot even while others append.
    const verify = db.transaction((o: AuditVerifyOptions) => verifyChain(this.stmts, this.key, o));
    this.verifyTx = (o) => verify.deferred(o);
    const slice = db.transaction((after: AuditHead | undefined, limit: number) => this.walkSliceAt(after, limit));
    this.walkSliceTx = (after, limit) => slice.deferred(after, limit);
    if (opts.key) {
      const key = opts.key;
      const now = opts.now ?? Date.now;
      db.transaction(() => this.ensureKeyed(key, now)).immediate();
    }
  }

  /** The id of the key this log links new rows with; undefined for an unkeyed log. */
  get keyId(): string | undefined {
    return this.key?.id;
  }

  /**
   * Appends one entry and moves audit_head to it, in one transaction (a savepoint inside the caller's).
   * The new row chains from the last row present; its seq follows SQLite's AUTOINCREMENT counter, so a removed
   * tail row leaves a gap that verify() keeps reporting. A keyed chain refuses appends from a log without the key.
   */
  append(entry: AuditEntry): AuditRow {
    this.flushDeferred();
    return this.appendTx(entry);
  }

  /**
   * Queues an entry for a group commit: the caller runs a burst of work in one transaction and calls
   * flushDeferred() before it commits (or discardDeferred() when it rolls back). The queued entries go into the chain
   * in the order they were queued, and before any row appended after them (append, appendMany and every read of the
   * chain flush the queue first), so the chain's order is the order things happened.
   */
  defer(entry: AuditEntry): void {
    this.assertTime(entry);
    this.deferred.push(entry);
  }

  /** Appends the queued entries now, in one transaction (a savepoint inside the caller's); the new head, if any. */
  flushDeferred(): AuditHead | undefined {
    if (this.deferred.length === 0) return undefined;
    const entries = this.deferred;
    this.deferred = [];
    return this.appendManyTx(entries);
  }

  /** Forgets the queued entries (their transaction is being rolled back). */
  discardDeferred(): void {
    this.deferred = [];
  }

  /**
   * Appends entries in order, chained one to the next exactly as that many append() calls would, in one
   * transaction (a savepoint inside the caller's): the chain's end and the counter are read once and audit_head
   * is moved once, to the last row. Returns the new head. For a group commit of many rows.
   */
  appendMany(entries: readonly AuditEntry[]): AuditHead {
    this.flushDeferred();
    if (entries.length === 0) return this.lastRow();
    return this.appendManyTx(entries);
  }

  /** The head witness: last seq and hash, as audit_head keeps them. */
  head(): AuditHead {
    this.flushDeferred();
    return (
      this.stmts.get<AuditHead>(`SELECT seq, hash FROM ${T.auditHead} WHERE id = 1`).get() ?? {
        seq: 0,
        hash: GENESIS_HASH,
      }
    );
  }

  /** The last row's seq and link, read from the table itself (0 and 64 zeros for an empty table). */
  lastRow(): AuditHead {
    this.flushDeferred();
    return auditLastRow(this.stmts);
  }

  /** The first keyed row, as the keying marker says (unchecked); null when the chain is not keyed. */
  keyedFrom(): number | null {
    const marker = auditKeyingMarker(this.stmts);
    return marker && marker !== 'unreadable' ? marker.seq : null;
  }

  /**
   * Walks the chain (from row 1, or from `anchor`), checks the keying marker, compares the table with the
   * checkpoint, then audit_head and the AUTOINCREMENT counter. Reports the first problem in one sentence.
   */
  verify(opts: AuditVerifyOptions = {}): AuditVerification {
    this.flushDeferred();
    return this.verifyTx(opts);
  }

  /** Throws AuditChainError unless verify() is ok. For a startup check. */
  assertIntact(opts: AuditVerifyOptions = {}): void {
    const result = this.verify(opts);
    if (result.problem) {
      throw new AuditChainError(
        `audit log damaged at row ${result.problem.row}: ${result.problem.sentence}`,
        result.problem.row,
        result.problem.kind,
      );
    }
  }

  /**
   * A checkpoint of `head` (a verified head), signed with the key. `broken` is the first problem found so far;
   * it stays in every later checkpoint. Throws when the log has no key.
   */
  checkpointOf(head: AuditHead, at: number, broken?: AuditBreakRecord): AuditCheckpoint {
    if (!this.key) throw new AuditChainError('an unkeyed audit log cannot sign checkpoints', head.seq, 'wrong-key');
    const keyedFrom = this.keyedFrom() ?? head.seq + 1;
    const fields = {
      v: 1 as const,
      seq: head.seq,
      hash: head.hash,
      keyedFrom,
      keyId: this.key.id,
      at,
      ...(broken ? { broken } : {}),
    };
    return { ...fields, mac: checkpointMac(this.key, fields) };
  }

  /** Rows matching every given field, oldest first. */
  list(filter: AuditFilter = {}): AuditRow[] {
    this.flushDeferred();
    const where = new Where().eq(filter.actor, 'actor = ?').eq(filter.kind, 'kind = ?').eq(filter.sinceSeq, 'seq > ?');
    // The (actor, seq) index leaves Overseer's own rows out; the query says so, for SQLite to search it.
    if (filter.actor !== undefined && filter.actor !== AUDIT_SELF_ACTOR) where.add(`actor <> '${AUDIT_SELF_ACTOR}'`);
    const limit = filter.limit !== undefined ? ' LIMIT ?' : '';
    const params = filter.limit !== undefined ? [...where.params, filter.limit] : where.params;
    return this.stmts
      .get<StoredRow>(`SELECT ${COLUMNS} FROM ${T.audit} ${where.sql} ORDER BY seq${limit}`)
      .all(...params)
      .map(toRow);
  }

  /**
   * Checks up to `limit` rows after `after` (undefined: from the chain's start) as verify() walks them, without the
   * checks of the chain's end, in a read transaction of its own: a long chain walked in slices between other work.
   * `last` is the last row checked (`after` when none follows it); `broken` when a row, or what says which rows are
   * keyed, is not sound (verify() then names the problem).
   */
  walkSlice(after: AuditHead | undefined, limit: number): AuditSlice {
    this.flushDeferred();
    return this.walkSliceTx(after, limit);
  }

  private walkSliceAt(after: AuditHead | undefined, limit: number): AuditSlice {
    const start = after ?? { seq: 0, hash: GENESIS_HASH };
    const marker = auditKeyingMarker(this.stmts);
    const unsound = marker === 'unreadable' || (marker !== undefined) !== (this.key !== undefined);
    const from = start.seq > 0 ? auditRowLink(this.stmts, start.seq) : start;
    if (unsound || !from || !sameDigest(from.hash, start.hash)) return { last: start, rows: 0, broken: true };
    const page = this.stmts.get<StoredRow>(`SELECT ${COLUMNS} FROM ${T.audit} WHERE seq > ? ORDER BY seq LIMIT ?`);
    // From the start, a row slipped in below 1 is looked for too (as verify() does).
    const lowest = start.seq === 0 ? Number.MIN_SAFE_INTEGER : start.seq;
    const walked = walkRows(page.iterate(lowest, limit), start.seq + 1, start.hash, marker?.seq ?? null, this.key);
    const last = walked.rows > 0 ? { seq: walked.expected - 1, hash: walked.prev } : start;
    return { last, rows: walked.rows, broken: walked.problem !== undefined };
  }

  /** Writes the keying marker unless there is one: keyed from the next row; an existing log gets an anchor row. */
  private ensureKeyed(key: AuditKey, now: () => number): void {
    if (auditKeyingMarker(this.stmts) !== undefined) return;
    const last = this.lastRow();
    const seq = Math.max(auditSequenceCounter(this.stmts), last.seq) + 1;
    const marker: KeyingMarker = { seq, keyId: key.id, mac: keyingMarkerMac(key, seq, key.id) };
    this.stmts
      .get(`INSERT INTO ${T.meta} (key, value) VALUES (?, ?)`)
      .run(MARKER_KEY, toJson(marker, 'audit keying marker'));
    // The first keyed row anchors the unkeyed rows before it: rewriting them breaks its prev_hash.
    if (last.seq > 0) {
      this.appendRow({ at: now(), actor: 'overseer', kind: AUDIT_KEYED_KIND, data: { keyId: key.id, from: seq } });
    }
  }

  private appendRow(entry: AuditEntry): AuditRow {
    this.assertAppendable(entry);
    const last = this.lastRow();
    const seq = Math.max(auditSequenceCounter(this.stmts), last.seq) + 1;
    const row = this.insertRow(entry, seq, last.hash);
    this.moveHead(row);
    return { ...row, data: JSON.parse(row.data) };
  }

  private appendRows(entries: readonly AuditEntry[]): AuditHead {
    for (const entry of entries) this.assertTime(entry);
    this.assertKeyAtHand();
    const last = this.lastRow();
    let head: AuditHead = { seq: Math.max(auditSequenceCounter(this.stmts), last.seq), hash: last.hash };
    for (const entry of entries) head = this.insertRow(entry, head.seq + 1, head.hash);
    this.moveHead(head);
    return { seq: head.seq, hash: head.hash };
  }

  private assertAppendable(entry: AuditEntry): void {
    this.assertTime(entry);
    this.assertKeyAtHand();
  }

  private assertTime(entry: AuditEntry): void {
    if (!Number.isSafeInteger(entry.at)) {
      throw new TypeError(`audit entry time must be an integer (epoch ms), got ${entry.at}`);
    }
  }

  /** A keyed chain takes rows only from a log that has the key. */
  private assertKeyAtHand(): void {
    if (!this.key && auditKeyingMarker(this.stmts) !== undefined) {
      throw new AuditChainError(
        'the audit chain is keyed: appending needs the audit key (open the store with it)',
        this.lastRow().seq + 1,
        'wrong-key',
      );
    }
  }

  /** Inserts one row linked to `prevHash`; returns it with its data as stored (canonical JSON). */
  private insertRow(entry: AuditEntry, seq: number, prevHash: string): Omit<AuditRow, 'data'> & { data: string } {
    const data = canonicalDataJson(entry.data);
    const { at, actor, kind } = entry;
    const fields = { seq, at, actor, kind };
    const key = this.key;
    const hash = key ? auditHmac(key, prevHash, fields, data) : auditHash(prevHash, fields, data);
    this.stmts
      .get(`INSERT INTO ${T.audit} (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`)
      .run(seq, at, actor, kind, data, prevHash, hash);
    // Written out, not `{ ...fields, data, … }`: on Node 20 an object literal that begins with a spread and then adds
    // a key its source lacks gets a hidden class of its own, each time (bench/object-spread.ts).
    return { seq, at, actor, kind, data, prevHash, hash };
  }

  private moveHead(head: AuditHead): void {
    this.stmts
      .get(
        `INSERT INTO ${T.auditHead} (id, seq, hash) VALUES (1, ?, ?)
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`,
      )
      .run(head.seq, head.hash);
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
