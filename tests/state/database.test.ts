import fs from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  appliedMigrations,
  DatabaseOpenError,
  LATEST_SCHEMA_VERSION,
  MIGRATIONS,
  type Migration,
  MigrationError,
  openDatabase,
  SchemaTooNewError,
  schemaVersion,
  TABLES,
  transaction,
} from '../../state';
import { dbPath } from './helpers';

const tableNames = (db: BetterSqlite3.Database): string[] =>
  (
    db.prepare(`SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') ORDER BY name`).all() as {
      name: string;
    }[]
  ).map((r) => r.name);

describe('database', () => {
  it('database - opens in WAL mode with foreign keys, busy timeout and synchronous NORMAL', () => {
    const db = openDatabase(dbPath());
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
      expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    } finally {
      db.close();
    }
  });

  it('database - synchronous full is applied when asked', () => {
    const db = openDatabase(dbPath(), { synchronous: 'full' });
    try {
      expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    } finally {
      db.close();
    }
  });

  it('database - a new file gets every table (and view) of the schema', () => {
    const db = openDatabase(dbPath());
    try {
      expect(schemaVersion(db)).toBe(LATEST_SCHEMA_VERSION);
      expect(tableNames(db)).toEqual(expect.arrayContaining(Object.values(TABLES)));
    } finally {
      db.close();
    }
  });

  it('database - migrations are idempotent on reopen', () => {
    const file = dbPath();
    let t = 100;
    const now = () => t++;
    const first = openDatabase(file, { now });
    const recorded = appliedMigrations(first);
    first.prepare(`INSERT INTO ${TABLES.meta} (key, value) VALUES ('k', 'v')`).run();
    first.close();

    for (let i = 0; i < 3; i++) {
      const db = openDatabase(file, { now });
      expect(appliedMigrations(db)).toEqual(recorded);
      expect(db.prepare(`SELECT value FROM ${TABLES.meta} WHERE key = 'k'`).pluck().get()).toBe('v');
      db.close();
    }
    expect(recorded).toEqual(MIGRATIONS.map((m, i) => ({ version: m.version, name: m.name, appliedAt: 100 + i })));
  });

  it('database - a DB with an unknown newer version refuses to open', () => {
    const file = dbPath();
    openDatabase(file).close();
    const raw = new BetterSqlite3(file);
    raw
      .prepare(`INSERT INTO ${TABLES.schemaMigrations} (version, name, applied_at) VALUES (?, ?, ?)`)
      .run(LATEST_SCHEMA_VERSION + 1, 'from the future', 0);
    raw.close();

    let error: unknown;
    try {
      openDatabase(file);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SchemaTooNewError);
    expect(error).toBeInstanceOf(MigrationError);
    expect(error).toMatchObject({
      name: 'SchemaTooNewError',
      dbVersion: LATEST_SCHEMA_VERSION + 1,
      knownVersion: LATEST_SCHEMA_VERSION,
    });
  });

  it('database - a later migration is applied on reopen, once', () => {
    const file = dbPath();
    openDatabase(file).close();
    let runs = 0;
    const next = LATEST_SCHEMA_VERSION + 1;
    const v2: Migration = {
      version: next,
      name: 'add notes',
      up: (db) => {
        runs++;
        db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL) STRICT');
      },
    };
    const migrations = [...MIGRATIONS, v2];
    openDatabase(file, { migrations }).close();
    const db = openDatabase(file, { migrations });
    try {
      expect(runs).toBe(1);
      expect(schemaVersion(db)).toBe(next);
      expect(tableNames(db)).toContain('notes');
    } finally {
      db.close();
    }
    // The code without v2 now meets a newer database.
    expect(() => openDatabase(file)).toThrow(SchemaTooNewError);
  });

  it('database - a failing migration is rolled back and reported with its version', () => {
    const file = dbPath();
    openDatabase(file).close();
    const broken: Migration = {
      version: LATEST_SCHEMA_VERSION + 1,
      name: 'half done',
      up: (db) => {
        db.exec('CREATE TABLE half (id INTEGER PRIMARY KEY)');
        throw new Error('boom');
      },
    };
    let error: unknown;
    try {
      openDatabase(file, { migrations: [...MIGRATIONS, broken] });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(MigrationError);
    expect(error).toMatchObject({ name: 'MigrationError', version: LATEST_SCHEMA_VERSION + 1 });
    expect((error as MigrationError).cause).toBeInstanceOf(Error);

    const db = openDatabase(file);
    try {
      expect(schemaVersion(db)).toBe(LATEST_SCHEMA_VERSION);
      expect(tableNames(db)).not.toContain('half');
    } finally {
      db.close();
    }
  });

  it('database - a malformed migration list is refused', () => {
    const gap: Migration = { version: LATEST_SCHEMA_VERSION + 2, name: 'skips one', up: () => {} };
    expect(() => openDatabase(dbPath(), { migrations: [...MIGRATIONS, gap] })).toThrow(MigrationError);
  });

  it('database - a file that is not a database fails with DatabaseOpenError', () => {
    const file = dbPath();
    fs.writeFileSync(file, 'this is not sqlite, just text that is long enough to have a header '.repeat(20));
    expect(() => openDatabase(file)).toThrow(DatabaseOpenError);
  });

  it('database - transaction commits on return and rolls back on throw', () => {
    const db = openDatabase(dbPath());
    try {
      const insert = db.prepare(`INSERT INTO ${TABLES.meta} (key, value) VALUES (?, ?)`);
      expect(transaction(db, () => insert.run('a', '1').changes)).toBe(1);
      expect(() =>
        transaction(db, () => {
          insert.run('b', '2');
          throw new Error('no');
        }),
      ).toThrow('no');
      // A nested failure rolls back only its savepoint.
      transaction(db, () => {
        insert.run('c', '3');
        try {
          transaction(db, () => {
            insert.run('d', '4');
            throw new Error('inner');
          });
        } catch {
          // swallowed on purpose
        }
      });
      const keys = db.prepare(`SELECT key FROM ${TABLES.meta} ORDER BY key`).pluck().all();
      expect(keys).toEqual(['a', 'c']);
    } finally {
      db.close();
    }
  });
});
