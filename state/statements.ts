// Prepared statements, prepared once per SQL text and reused for the life of the connection.
import type { Database, Statement } from 'better-sqlite3';

export class StatementCache {
  private readonly cache = new Map<string, Statement<unknown[], unknown>>();

  constructor(private readonly db: Database) {}

  /** The prepared statement for `sql` (prepared on first use). */
  get<R = unknown>(sql: string): Statement<unknown[], R> {
    let stmt = this.cache.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.cache.set(sql, stmt);
    }
    return stmt as Statement<unknown[], R>;
  }
}

/** `[...]` of the values as one JSON bind parameter, for `IN (SELECT value FROM json_each(?))`. */
export const jsonList = (values: readonly unknown[]): string => JSON.stringify(values);

/** A WHERE clause built from optional filter fields. Conditions are AND-ed. */
export class Where {
  private readonly parts: string[] = [];
  readonly params: unknown[] = [];

  /** Adds `condition` (with one `?`, bound to `value`) unless `value` is undefined. */
  eq(value: unknown, condition: string): this {
    if (value !== undefined) this.add(condition, value);
    return this;
  }

  add(condition: string, ...params: unknown[]): this {
    this.parts.push(condition);
    this.params.push(...params);
    return this;
  }

  /** `WHERE a AND b`, or '' when there is no condition. */
  get sql(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}
