// Opening the SQLite file: WAL, foreign keys, busy timeout, durability level, then migrations.
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { DatabaseOpenError, StateError } from './errors';
import { migrate } from './migrate';
import type { Migration } from './migrations';

export type { Database };

export const BUSY_TIMEOUT_MS = 5000;

export interface OpenDatabaseOptions {
  /**
   * 'normal' (default): in WAL mode a commit survives a crash of the process but may be lost on power loss.
   * 'full': every commit is synced, so it also survives power loss (slower writes).
   */
  synchronous?: 'normal' | 'full';
  /** Clock for schema_migrations.applied_at. Default Date.now. */
  now?: () => number;
  /** The migration list to apply. Default: every migration this code knows (tests pass their own). */
  migrations?: readonly Migration[];
}

const isMemory = (path: string): boolean => path === ':memory:' || path === '';

/**
 * Opens (creating if needed) the database at `path`, configures it and applies pending migrations.
 * Throws SchemaTooNewError for a database written by a newer Overseer, MigrationError when a migration fails,
 * DatabaseOpenError when the file cannot be used. On failure the connection is closed.
 */
export function openDatabase(path: string, opts: OpenDatabaseOptions = {}): Database {
  let db: Database;
  try {
    db = new BetterSqlite3(path, { timeout: BUSY_TIMEOUT_MS });
  } catch (cause) {
    throw new DatabaseOpenError(`cannot open database ${path}: ${(cause as Error).message}`, path, { cause });
  }
  try {
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal' && !isMemory(path)) {
      throw new DatabaseOpenError(`database ${path} refused WAL mode (journal_mode is ${String(mode)})`, path);
    }
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma(`synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    migrate(db, opts.migrations, opts.now);
    return db;
  } catch (err) {
    db.close();
    if (err instanceof StateError) throw err;
    throw new DatabaseOpenError(`cannot open database ${path}: ${(err as Error).message}`, path, { cause: err });
  }
}

/**
 * Runs `fn` in one transaction: committed when it returns, rolled back when it throws. Top level is BEGIN
 * IMMEDIATE (takes the write lock up front, so two processes never deadlock upgrading a read); nested calls
 * become savepoints. `fn` must be synchronous.
 */
export function transaction<T>(db: Database, fn: () => T): T {
  let run = runners.get(db);
  if (!run) {
    // better-sqlite3's wrapper, made once per connection with the work as its argument: db.transaction(fn) for each
    // transaction made five functions and defined five properties on each of four of them, every commit.
    run = db.transaction((work: () => unknown) => work()).immediate;
    runners.set(db, run);
  }
  return run(fn) as T;
}

const runners = new WeakMap<Database, (work: () => unknown) => unknown>();
