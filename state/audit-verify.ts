// The check of the whole audit chain behind AuditLog.verify(): the keying marker, the checkpoint kept outside SQLite,
// the walk of every row (state/audit-walk.ts), then audit_head and the AUTOINCREMENT counter; the first problem is
// reported in one sentence. With the checkpoint types it is compared with.
import { type AuditKey, checkpointMac, keyingMarkerMac, sameDigest } from './audit-hash';
import type { AuditHead, AuditProblem, AuditProblemKind } from './audit-log';
import {
  auditKeyingMarker,
  auditLastRow,
  auditRowLink,
  auditSequenceCounter,
  AUDIT_COLUMNS as COLUMNS,
} from './audit-reads';
import { rowRange, type StoredAuditRow as StoredRow, walkRows } from './audit-walk';
import { GENESIS_HASH } from './migrations';
import type { StatementCache } from './statements';
import { TABLES } from './tables';

/** A problem as a checkpoint carries it, so the evidence outlives a table that was made consistent again. */
export interface AuditBreakRecord {
  row: number;
  kind: AuditProblemKind;
  sentence: string;
  /** epoch ms it was first found */
  foundAt: number;
}

/** The chain head checkpointed outside SQLite, with the key's MAC over every other field. */
export interface AuditCheckpoint {
  v: 1;
  /** The last row when the checkpoint was taken (0 for an empty log). */
  seq: number;
  /** Its link. */
  hash: string;
  /** The first keyed row. */
  keyedFrom: number;
  keyId: string;
  /** epoch ms */
  at: number;
  /** The first problem found, carried by every later checkpoint. */
  broken?: AuditBreakRecord | undefined;
  mac: string;
}

export interface AuditVerification {
  ok: boolean;
  /** Rows whose links were checked. */
  rows: number;
  /** The first keyed row; null when the chain is not keyed. */
  keyedFrom: number | null;
  /** The checkpoint the table was compared with (its seq, link and time), or null. */
  checkpoint: { seq: number; hash: string; at: number } | null;
  /** The last row of the table, as found. */
  head: AuditHead;
  /** The first problem; absent when ok. */
  problem?: AuditProblem | undefined;
  /** What could not be checked, set by the caller (e.g. the checkpoint store was unreachable). */
  note?: string | undefined;
}

export interface AuditVerifyOptions {
  /** The last checkpoint kept outside SQLite: the table must still hold its row, with its link. */
  checkpoint?: AuditCheckpoint | undefined;
  /**
   * A row already verified (an earlier verification's head): the walk starts after it instead of at row 1 while
   * the row still has that link (else the whole chain is walked and the change reported). For periodic checks.
   */
  anchor?: AuditHead | undefined;
}

const T = TABLES;

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Walks the chain (from row 1, or from `anchor`), checks the keying marker, compares the table with the
 * checkpoint, then audit_head and the AUTOINCREMENT counter. Reports the first problem in one sentence. `key` is the
 * log's audit key (undefined for an unkeyed log). Run it in one read transaction (AuditLog.verify does).
 */
export function verifyChain(
  stmts: StatementCache,
  key: AuditKey | undefined,
  { checkpoint, anchor }: AuditVerifyOptions,
): AuditVerification {
  const end = auditLastRow(stmts);
  let rows = 0;
  let keyedFrom: number | null = null;
  let seen: AuditVerification['checkpoint'] = null;
  const result = (problem?: AuditProblem): AuditVerification => ({
    ok: problem === undefined,
    rows,
    keyedFrom,
    checkpoint: seen,
    head: end,
    ...(problem ? { problem } : {}),
  });
  const fail = (row: number, kind: AuditProblemKind, sentence: string) => result({ row, kind, sentence });

  // 1. The keying marker: where the keyed rows start, bound to the key by its MAC.
  const marker = auditKeyingMarker(stmts);
  if (marker === 'unreadable') {
    return fail(end.seq, 'forged-head', 'the keying marker in the meta table is unreadable: it was altered');
  }
  if (marker) {
    keyedFrom = marker.seq;
    if (!key) {
      return fail(
        marker.seq,
        'wrong-key',
        `rows from ${marker.seq} on are keyed, but no audit key was given to check them`,
      );
    }
    if (marker.keyId !== key.id) {
      return fail(
        marker.seq,
        'wrong-key',
        `the keying marker names key ${marker.keyId} but the audit key given is ${key.id}: the marker was replaced, or this is not the key the chain was written with`,
      );
    }
    if (!sameDigest(marker.mac, keyingMarkerMac(key, marker.seq, marker.keyId))) {
      return fail(
        marker.seq,
        'forged-head',
        `the keying marker (keyed from row ${marker.seq}) does not carry the audit key's MAC: it was altered`,
      );
    }
  } else if (key) {
    return fail(end.seq, 'forged-head', 'the keying marker is missing from the meta table: it was removed');
  }

  // 2. The checkpoint is this key's, and agrees on where the keyed rows start.
  if (checkpoint) {
    const when = iso(checkpoint.at);
    if (!key) {
      return fail(checkpoint.seq, 'wrong-key', `the checkpoint of ${when} cannot be checked without the audit key`);
    }
    if (checkpoint.keyId !== key.id || !sameDigest(checkpoint.mac, checkpointMac(key, checkpoint))) {
      return fail(
        checkpoint.seq,
        'bad-checkpoint',
        `the checkpoint of ${when} does not carry this audit key's MAC: it was not written by this Overseer`,
      );
    }
    seen = { seq: checkpoint.seq, hash: checkpoint.hash, at: checkpoint.at };
    if (checkpoint.keyedFrom !== keyedFrom) {
      return fail(
        Math.min(checkpoint.keyedFrom, keyedFrom ?? checkpoint.keyedFrom),
        'forged-head',
        `the keying marker says the keyed rows start at row ${keyedFrom} but the checkpoint of ${when} says row ${checkpoint.keyedFrom}: the marker was replaced and the rows re-hashed`,
      );
    }
  }

  // 3. The walk: every row follows the one before and matches its link.
  let expected = 1;
  let prev = GENESIS_HASH;
  // The anchor only saves work: when its row is gone or changed, the whole chain is walked (and the change named
  // after the walk and the checkpoint have had their say).
  const anchorRow = anchor && anchor.seq > 0 ? auditRowLink(stmts, anchor.seq) : undefined;
  const fromAnchor = anchor !== undefined && anchorRow !== undefined && sameDigest(anchorRow.hash, anchor.hash);
  if (fromAnchor) {
    expected = anchor.seq + 1;
    prev = anchor.hash;
  }
  // Without an anchor every row is walked, so a row slipped in below 1 is found too.
  const walk = stmts.get<StoredRow>(`SELECT ${COLUMNS} FROM ${T.audit} WHERE seq >= ? ORDER BY seq`);
  const walked = walkRows(
    walk.iterate(fromAnchor ? expected : Number.MIN_SAFE_INTEGER),
    expected,
    prev,
    keyedFrom,
    key,
  );
  rows = walked.rows;
  if (walked.problem) return result(walked.problem);
  expected = walked.expected;
  prev = walked.prev;
  const last = expected - 1;

  // 4. The checkpoint's row is still there, with the link it had.
  if (checkpoint && checkpoint.seq > 0) {
    const when = iso(checkpoint.at);
    if (checkpoint.seq > last) {
      return fail(
        last + 1,
        'behind-checkpoint',
        `${rowRange(last + 1, checkpoint.seq)} gone: the checkpoint of ${when} names row ${checkpoint.seq} but the table ends at row ${last} (a deleted tail)`,
      );
    }
    const row = auditRowLink(stmts, checkpoint.seq);
    if (!row || !sameDigest(row.hash, checkpoint.hash)) {
      return fail(
        checkpoint.seq,
        'rewritten-tail',
        `row ${checkpoint.seq} no longer has the link the checkpoint of ${when} recorded: the chain was rewritten up to it and recomputed`,
      );
    }
  }

  // 4b. The anchor, verified earlier, is still there with its link.
  if (anchor && anchor.seq > 0 && !fromAnchor) {
    if (anchor.seq > last) {
      return fail(last + 1, 'deleted', `${rowRange(last + 1, anchor.seq)} gone: they were verified earlier`);
    }
    return fail(
      anchor.seq,
      'rewritten-tail',
      `row ${anchor.seq} no longer has the link it had when it was verified: the chain was rewritten up to it`,
    );
  }

  // 5. audit_head and the AUTOINCREMENT counter name the last row.
  const head = stmts.get<AuditHead>(`SELECT seq, hash FROM ${T.auditHead} WHERE id = 1`).get();
  if (!head) return fail(last, 'forged-head', 'the audit_head row is missing');
  if (head.seq > last) {
    return fail(last + 1, 'deleted', `audit_head is at row ${head.seq} but the last row is ${last}: rows were removed`);
  }
  if (head.seq < last) {
    return fail(last, 'forged-head', `audit_head is at row ${head.seq} but the rows run to ${last}`);
  }
  if (head.hash !== prev) return fail(last, 'forged-head', `audit_head's hash is not the link of row ${last}`);
  const counter = auditSequenceCounter(stmts);
  if (counter > last) {
    return fail(last + 1, 'deleted', `${counter} rows were appended but the last row is ${last}: rows were removed`);
  }
  if (counter < last) {
    return fail(last, 'forged-head', `the AUTOINCREMENT counter (${counter}) is below the last row (${last})`);
  }

  // 6. A problem found earlier stays reported: the checkpoints carry it.
  const broken = checkpoint?.broken;
  if (broken) {
    return result({
      row: broken.row,
      kind: broken.kind,
      sentence: `${broken.sentence} (found ${iso(broken.foundAt)}; kept by the checkpoints since)`,
      recordedAt: broken.foundAt,
    });
  }
  return result();
}
