// Maintenance windows and silences (migration v6): started or added by a person, ended or removed by a person or run
// out at `until`. Rows are kept after they end, for the record. Nothing here reads a clock: queries take `now`.
import type { Database } from 'better-sqlite3';
import type { MaintenanceScope, MaintenanceWindow, Silence } from '../machines/maintenance';
import { StatementCache, Where } from './statements';
import { TABLES } from './tables';

/** When an entry was made and, once ended early, when and by whom. */
interface Lifetime {
  createdAt: number;
  endedAt?: number | undefined;
  endedBy?: string | undefined;
}

export type MaintenanceRecord = MaintenanceWindow & Lifetime;
export type SilenceRecord = Silence & Lifetime;

/** Where an entry stands at a moment. */
export type EntryState = 'scheduled' | 'active' | 'ended' | 'expired';

export function entryState(
  entry: { from: number; until: number; endedAt?: number | undefined },
  now: number,
): EntryState {
  if (entry.endedAt !== undefined) return 'ended';
  if (entry.until <= now) return 'expired';
  return entry.from > now ? 'scheduled' : 'active';
}

export interface EntryFilter {
  /** Every entry, newest first; by default only those not yet over at `now` (active or scheduled), soonest first. */
  all?: boolean | undefined;
  limit?: number | undefined;
  offset?: number | undefined;
}

interface CommonRow {
  id: string;
  starts_at: number;
  until_at: number;
  reason: string;
  created_by: string;
  created_by_name: string | null;
  created_at: number;
  ended_at: number | null;
  ended_by: string | null;
}
interface WindowRow extends CommonRow {
  scope: MaintenanceScope;
  target: string;
  /** The drain request that set a node window (migration v7). */
  request_id: string | null;
}
interface SilenceRow extends CommonRow {
  kind: string;
  guest: string;
}

const common = (r: CommonRow) => ({
  id: r.id,
  from: r.starts_at,
  until: r.until_at,
  reason: r.reason,
  by: r.created_by,
  ...(r.created_by_name !== null ? { byName: r.created_by_name } : {}),
  createdAt: r.created_at,
  ...(r.ended_at !== null ? { endedAt: r.ended_at } : {}),
  ...(r.ended_by !== null ? { endedBy: r.ended_by } : {}),
});

const COMMON_COLUMNS = 'id, starts_at, until_at, reason, created_by, created_by_name, created_at, ended_at, ended_by';

/** One table of timed entries (windows or silences): the same lifetime rules for both. */
export class TimedTable<Row extends CommonRow, Rec extends Lifetime & { id: string; from: number; until: number }> {
  constructor(
    private readonly sql: StatementCache,
    private readonly table: string,
    /** The entry's own columns, in the order `values` gives them. */
    private readonly own: readonly string[],
    private readonly values: (rec: Rec) => unknown[],
    private readonly toRecord: (row: Row) => Rec,
  ) {}

  private get columns(): string {
    return `${COMMON_COLUMNS}, ${this.own.join(', ')}`;
  }

  insert(rec: Rec & { reason: string; by: string; byName?: string | undefined }): void {
    this.sql.get(`INSERT INTO ${this.table} (${this.columns}) VALUES (${this.placeholders})`).run(...this.row(rec));
  }

  /**
   * Writes the entry as `rec` has it, ended or not (a row read from the record): a new row, or every column of the
   * row with its id.
   */
  put(rec: Rec & { reason: string; by: string; byName?: string | undefined }): void {
    const updates = [...COMMON_COLUMNS.split(', ').slice(1), ...this.own].map((c) => `${c} = excluded.${c}`);
    this.sql
      .get(
        `INSERT INTO ${this.table} (${this.columns}) VALUES (${this.placeholders})
         ON CONFLICT (id) DO UPDATE SET ${updates.join(', ')}`,
      )
      .run(...this.row(rec, true));
  }

  private get placeholders(): string {
    return Array.from({ length: 9 + this.own.length }, () => '?').join(', ');
  }

  /** The columns' values; a new entry (insert) is never ended. */
  private row(rec: Rec & { reason: string; by: string; byName?: string | undefined }, ended = false): unknown[] {
    return [
      rec.id,
      rec.from,
      rec.until,
      rec.reason,
      rec.by,
      rec.byName ?? null,
      rec.createdAt,
      ended ? (rec.endedAt ?? null) : null,
      ended ? (rec.endedBy ?? null) : null,
      ...this.values(rec),
    ];
  }

  get(id: string): Rec | undefined {
    const row = this.sql.get<Row>(`SELECT ${this.columns} FROM ${this.table} WHERE id = ?`).get(id);
    return row ? this.toRecord(row) : undefined;
  }

  /** Ends an entry that is not over yet; undefined when there is none such (unknown, ended, run out). */
  end(id: string, at: number, by: string): Rec | undefined {
    const changed = this.sql
      .get(`UPDATE ${this.table} SET ended_at = ?, ended_by = ? WHERE id = ? AND ended_at IS NULL AND until_at > ?`)
      .run(at, by, id, at).changes;
    return changed === 1 ? this.get(id) : undefined;
  }

  /** Entries not yet over at `now` (active or scheduled). */
  current(now: number): Rec[] {
    return this.list({}, now);
  }

  private where(filter: EntryFilter, now: number): Where {
    const where = new Where();
    if (!filter.all) where.add('ended_at IS NULL AND until_at > ?', now);
    return where;
  }

  list(filter: EntryFilter, now: number): Rec[] {
    const where = this.where(filter, now);
    const order = filter.all ? 'created_at DESC, id DESC' : 'starts_at, until_at, id';
    const page = filter.limit !== undefined || filter.offset !== undefined ? ' LIMIT ? OFFSET ?' : '';
    const params = page ? [...where.params, filter.limit ?? -1, filter.offset ?? 0] : where.params;
    return this.sql
      .get<Row>(`SELECT ${this.columns} FROM ${this.table} ${where.sql} ORDER BY ${order}${page}`)
      .all(...params)
      .map(this.toRecord);
  }

  count(filter: EntryFilter, now: number): number {
    const where = this.where(filter, now);
    return this.sql.get<{ n: number }>(`SELECT count(*) AS n FROM ${this.table} ${where.sql}`).get(...where.params)
      ?.n as number;
  }
}

export class MaintenanceRepo {
  readonly windows: TimedTable<WindowRow, MaintenanceRecord>;
  readonly silences: TimedTable<SilenceRow, SilenceRecord>;

  constructor(db: Database) {
    const sql = new StatementCache(db);
    this.windows = new TimedTable<WindowRow, MaintenanceRecord>(
      sql,
      TABLES.maintenanceWindows,
      ['scope', 'target', 'request_id'],
      (w) => [w.scope, w.target, w.request ?? null],
      (r) => ({ ...common(r), scope: r.scope, target: r.target, ...(r.request_id ? { request: r.request_id } : {}) }),
    );
    this.silences = new TimedTable<SilenceRow, SilenceRecord>(
      sql,
      TABLES.silences,
      ['kind', 'guest'],
      (s) => [s.kind, s.guest],
      (r) => ({ ...common(r), kind: r.kind, guest: r.guest }),
    );
  }
}
