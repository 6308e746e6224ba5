// Small key/value settings kept with the data (instance id, last sync marker, ...).
import type { Database } from 'better-sqlite3';
import { StatementCache } from './statements';
import { TABLES } from './tables';

const T = TABLES;

/** Every key the code itself keeps in the meta table, in one place. */
export const META_KEYS = {
  /** The audit chain's keying marker: from which row it is keyed, under which key, with the key's MAC. */
  auditKeying: 'audit.keyed_from',
  /** Prefix of `record.entity.<record key>`: the version, digest and revision of a record entity this core has. */
  recordEntity: 'record.entity.',
  /** Prefix of `record.audit.<cluster>`: the last sequence of the cluster's audit record this core has. */
  recordAudit: 'record.audit.',
} as const;

export class MetaRepo {
  private readonly stmts: StatementCache;

  constructor(db: Database) {
    this.stmts = new StatementCache(db);
  }

  get(key: string): string | undefined {
    return this.stmts.get<{ value: string }>(`SELECT value FROM ${T.meta} WHERE key = ?`).get(key)?.value;
  }

  set(key: string, value: string): void {
    this.stmts
      .get(`INSERT INTO ${T.meta} (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`)
      .run(key, value);
  }

  delete(key: string): boolean {
    return this.stmts.get(`DELETE FROM ${T.meta} WHERE key = ?`).run(key).changes > 0;
  }
}
