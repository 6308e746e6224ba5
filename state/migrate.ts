// Applies the migrations a database lacks, each in its own IMMEDIATE transaction, recording each in
// schema_migrations. Refuses a database newer than the code.
import type { Database } from 'better-sqlite3';
import { MigrationError, SchemaTooNewError } from './errors';
import { MIGRATIONS, type Migration } from './migrations';
import { TABLES } from './tables';

export interface MigrationReport {
  /** Version before. 0 for a new database. */
  from: number;
  /** Version after. */
  to: number;
  /** Versions applied by this call, in order. */
  applied: number[];
}

export interface AppliedMigration {
  version: number;
  name: string;
  appliedAt: number;
}

const T = TABLES;

/** Throws MigrationError unless versions run 1, 2, 3, ... in order. */
export function assertMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new MigrationError(
        `migration list is malformed: entry ${i} ('${m.name}') has version ${m.version}, expected ${i + 1}`,
        m.version,
      );
    }
  });
}

function ensureMigrationsTable(db: Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS ${T.schemaMigrations} (
    version    INTEGER NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
  ) STRICT`);
}

/** The highest applied migration; 0 for a database never migrated. */
export function schemaVersion(db: Database): number {
  const exists = db
    .prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?`)
    .pluck()
    .get(T.schemaMigrations);
  if (!exists) return 0;
  return (db.prepare(`SELECT coalesce(max(version), 0) FROM ${T.schemaMigrations}`).pluck().get() as number) ?? 0;
}

/** Every applied migration, oldest first. */
export function appliedMigrations(db: Database): AppliedMigration[] {
  if (schemaVersion(db) === 0) return [];
  return db
    .prepare(`SELECT version, name, applied_at AS appliedAt FROM ${T.schemaMigrations} ORDER BY version`)
    .all() as AppliedMigration[];
}

/**
 * Brings `db` up to the last of `migrations`. Safe to call on every open (applies nothing when current) and from
 * several processes at once (each step re-reads the version inside its write transaction).
 */
export function migrate(
  db: Database,
  migrations: readonly Migration[] = MIGRATIONS,
  now: () => number = Date.now,
): MigrationReport {
  assertMigrationList(migrations);
  const known = migrations.length;
  db.transaction(() => ensureMigrationsTable(db)).immediate();
  const from = schemaVersion(db);
  if (from > known) throw new SchemaTooNewError(from, known);

  const applied: number[] = [];
  for (const migration of migrations.slice(from)) {
    const step = db.transaction(() => {
      const current = schemaVersion(db);
      if (current > known) throw new SchemaTooNewError(current, known);
      if (current >= migration.version) return false;
      migration.up(db);
      db.prepare(`INSERT INTO ${T.schemaMigrations} (version, name, applied_at) VALUES (?, ?, ?)`).run(
        migration.version,
        migration.name,
        now(),
      );
      return true;
    });
    try {
      if (step.immediate()) applied.push(migration.version);
    } catch (cause) {
      if (cause instanceof MigrationError) throw cause;
      throw new MigrationError(
        `migration ${migration.version} ('${migration.name}') failed and was rolled back: ${(cause as Error).message}`,
        migration.version,
        { cause },
      );
    }
  }
  return { from, to: schemaVersion(db), applied };
}
