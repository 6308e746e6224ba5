// Reads of the audit chain that the log and its verification (state/audit-verify.ts) share: the last row, one row's
// link, the keying marker in the meta table and SQLite's AUTOINCREMENT counter for the audit table.
import type { KeyingMarker } from './audit-hash';
import type { AuditHead } from './audit-log';
import { META_KEYS } from './meta-repo';
import { GENESIS_HASH } from './migrations';
import type { StatementCache } from './statements';
import { SQLITE_SEQUENCE, TABLES } from './tables';

const T = TABLES;
const MARKER_KEY = META_KEYS.auditKeying;

/** The audit table's columns, in the order the rows are written and read. */
export const AUDIT_COLUMNS = 'seq, at, actor, kind, data, prev_hash, hash';

/** The last row's seq and link, read from the table itself (0 and 64 zeros for an empty table). */
export function auditLastRow(stmts: StatementCache): AuditHead {
  return (
    stmts.get<AuditHead>(`SELECT seq, hash FROM ${T.audit} ORDER BY seq DESC LIMIT 1`).get() ?? {
      seq: 0,
      hash: GENESIS_HASH,
    }
  );
}

/** Row `seq`'s seq and link; undefined when there is no such row. */
export function auditRowLink(stmts: StatementCache, seq: number): AuditHead | undefined {
  return stmts.get<AuditHead>(`SELECT seq, hash FROM ${T.audit} WHERE seq = ?`).get(seq);
}

/** The keying marker, 'unreadable' when the meta row is not a marker, undefined when there is none. */
export function auditKeyingMarker(stmts: StatementCache): KeyingMarker | 'unreadable' | undefined {
  const value = stmts.get<{ value: string }>(`SELECT value FROM ${T.meta} WHERE key = ?`).get(MARKER_KEY)?.value;
  if (value === undefined) return undefined;
  try {
    const m = JSON.parse(value) as Partial<KeyingMarker> | null;
    if (
      m &&
      Number.isSafeInteger(m.seq) &&
      (m.seq as number) > 0 &&
      typeof m.keyId === 'string' &&
      typeof m.mac === 'string'
    ) {
      return { seq: m.seq as number, keyId: m.keyId, mac: m.mac };
    }
  } catch {
    // falls through
  }
  return 'unreadable';
}

/** SQLite's AUTOINCREMENT counter for the audit table (0 before the first append). */
export function auditSequenceCounter(stmts: StatementCache): number {
  return stmts.get<{ seq: number }>(`SELECT seq FROM ${SQLITE_SEQUENCE} WHERE name = ?`).get(T.audit)?.seq ?? 0;
}
