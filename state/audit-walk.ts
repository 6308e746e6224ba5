// The walk of the audit chain, row by row: each row follows the one before (its seq, its prev_hash) and its content
// matches its link (HMAC under the audit key from the first keyed row, plain SHA-256 before). verify() walks the
// whole chain with it; walkSlice() a slice of it between other work.
import { type AuditKey, auditHash, auditHmac, sameDigest } from './audit-hash';
import type { AuditHead, AuditProblem, AuditProblemKind } from './audit-log';

/** An audit row as the table stores it. */
export interface StoredAuditRow {
  seq: number;
  at: number;
  actor: string;
  kind: string;
  data: string;
  prev_hash: string;
  hash: string;
}

/** What walkSlice() found: the last row checked, how many, and whether something is not sound (verify() names it). */
export interface AuditSlice {
  last: AuditHead;
  rows: number;
  broken: boolean;
}

/** `row 4 is` / `rows 4 to 7 are`. */
export const rowRange = (from: number, to: number): string =>
  from === to ? `row ${from} is` : `rows ${from} to ${to} are`;

/**
 * Walks `rows` (in seq order) from row `expected`, whose predecessor's link is `prev`; rows from `keyedFrom` on are
 * linked with `key`. The first problem, or where the walk ended.
 */
export function walkRows(
  rows: Iterable<StoredAuditRow>,
  expected: number,
  prev: string,
  keyedFrom: number | null,
  key: AuditKey | undefined,
): { rows: number; expected: number; prev: string; problem?: AuditProblem } {
  let count = 0;
  const fail = (row: number, kind: AuditProblemKind, sentence: string) => ({
    rows: count,
    expected,
    prev,
    problem: { row, kind, sentence },
  });
  for (const row of rows) {
    if (row.seq < expected) {
      return fail(row.seq, 'edited', `row ${row.seq} is out of sequence (the chain starts at 1): it was inserted`);
    }
    if (row.seq !== expected) {
      const after = expected === 1 ? 'the first row' : `the row after ${expected - 1}`;
      return fail(expected, 'deleted', `${rowRange(expected, row.seq - 1)} missing: ${after} is ${row.seq}`);
    }
    if (row.prev_hash !== prev) {
      return fail(
        row.seq,
        'edited',
        `row ${row.seq} does not link to row ${row.seq - 1}: one of them was rewritten (a recomputed hash upstream)`,
      );
    }
    const keyed = keyedFrom !== null && row.seq >= keyedFrom;
    const link = keyed && key ? auditHmac(key, row.prev_hash, row, row.data) : auditHash(row.prev_hash, row, row.data);
    if (!sameDigest(row.hash, link)) {
      let sentence = `row ${row.seq}'s content does not match its hash: it was edited`;
      if (keyed && row.hash === auditHash(row.prev_hash, row, row.data)) {
        sentence = `row ${row.seq} carries a plain SHA-256 link where the chain is keyed: it was rewritten without the audit key`;
      } else if (keyed) {
        sentence = `row ${row.seq}'s content does not match its keyed link: it was edited, or linked with another key`;
      }
      return fail(row.seq, 'edited', sentence);
    }
    count++;
    prev = row.hash;
    expected++;
  }
  return { rows: count, expected, prev };
}
