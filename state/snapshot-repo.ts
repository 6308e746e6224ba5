// Persisted actor snapshots (XState's getPersistedSnapshot()), one row per actor id, so a restart can restore
// every actor.
import type { Database } from 'better-sqlite3';
import { fromJson, toJson } from './json';
import { StatementCache } from './statements';
import { TABLES } from './tables';

export interface SnapshotRow {
  actorId: string;
  /** 'vm', 'host', 'request', 'loop', ... */
  kind: string;
  snapshot: unknown;
  /** For reads: when it was written. */
  at: number;
}

interface StoredRow {
  actor_id: string;
  kind: string;
  snapshot: string;
  updated_at: number;
}

const T = TABLES;

/** Rows read per query by listByKind; between pages the connection is free for writes. */
export const SNAPSHOT_PAGE_SIZE = 1000;

export class SnapshotRepo {
  private readonly stmts: StatementCache;
  private readonly saveManyTx: (rows: readonly SnapshotRow[]) => void;

  constructor(db: Database) {
    this.stmts = new StatementCache(db);
    const saveMany = db.transaction((rows: readonly SnapshotRow[]) => {
      for (const row of rows) this.save(row.actorId, row.kind, row.snapshot, row.at);
    });
    this.saveManyTx = (rows) => saveMany.immediate(rows);
  }

  /**
   * Stores (replaces) the snapshot of one actor. An actor's id names its kind ('vm:…', 'req:…', an archived VM's
   * 'vm:…#n'), so a replaced row keeps its kind: SQLite rewrites the (kind, actor_id) index entry of every row whose
   * kind is SET, even to the same value (a VM's change wrote its index page again for nothing).
   */
  save(actorId: string, kind: string, snapshot: unknown, at: number): void {
    this.stmts
      .get(
        `INSERT INTO ${T.actorSnapshots} (actor_id, kind, snapshot, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (actor_id) DO UPDATE SET snapshot = excluded.snapshot, updated_at = excluded.updated_at`,
      )
      .run(actorId, kind, toJson(snapshot, `snapshot of ${actorId}`), at);
  }

  /** Stores every row in one transaction: all or none. */
  saveMany(rows: readonly SnapshotRow[]): void {
    this.saveManyTx(rows);
  }

  get(actorId: string): SnapshotRow | undefined {
    const row = this.stmts
      .get<StoredRow>(`SELECT actor_id, kind, snapshot, updated_at FROM ${T.actorSnapshots} WHERE actor_id = ?`)
      .get(actorId);
    return row && toRow(row);
  }

  /**
   * Every snapshot of `kind`, ordered by actor id, read lazily in pages of SNAPSHOT_PAGE_SIZE (memory stays
   * bounded with 100k actors). The connection is not held between pages, so the caller may write while iterating.
   */
  *listByKind(kind: string): Generator<SnapshotRow, void, undefined> {
    // Rows as arrays, without the kind (it is the argument): a restart reads 10k+ of them before it serves.
    type Page = [actorId: string, snapshot: string, updatedAt: number][];
    const columns = `SELECT actor_id, snapshot, updated_at FROM ${T.actorSnapshots} WHERE kind = ?`;
    const first = this.stmts.get(`${columns} ORDER BY actor_id LIMIT ?`).raw(true);
    const next = this.stmts.get(`${columns} AND actor_id > ? ORDER BY actor_id LIMIT ?`).raw(true);
    let page = first.all(kind, SNAPSHOT_PAGE_SIZE) as Page;
    while (page.length > 0) {
      for (const [actorId, snapshot, at] of page) {
        yield { actorId, kind, snapshot: fromJson(snapshot, T.actorSnapshots, actorId), at };
      }
      if (page.length < SNAPSHOT_PAGE_SIZE) return;
      const last = page[page.length - 1]!;
      page = next.all(kind, last[0], SNAPSHOT_PAGE_SIZE) as Page;
    }
  }

  /** Number of stored snapshots of `kind`. */
  countByKind(kind: string): number {
    return this.stmts.get<{ n: number }>(`SELECT count(*) AS n FROM ${T.actorSnapshots} WHERE kind = ?`).get(kind)!.n;
  }

  /** False when there was no snapshot. */
  delete(actorId: string): boolean {
    return this.stmts.get(`DELETE FROM ${T.actorSnapshots} WHERE actor_id = ?`).run(actorId).changes > 0;
  }
}

function toRow(row: StoredRow): SnapshotRow {
  return {
    actorId: row.actor_id,
    kind: row.kind,
    snapshot: fromJson(row.snapshot, T.actorSnapshots, row.actor_id),
    at: row.updated_at,
  };
}
