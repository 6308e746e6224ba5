// StateStore: one database connection with every repository on it, and a transaction helper so writes that
// belong together (a request row, its audit entry, the actor snapshot) commit or roll back as one.
import type { Database } from 'better-sqlite3';
import type { AuditKey } from './audit-hash';
import { AuditLog } from './audit-log';
import { type OpenDatabaseOptions, openDatabase, transaction } from './database';
import { IncidentRepo } from './incident-repo';
import { InventoryRepo } from './inventory-repo';
import { KnowledgeRepo } from './knowledge-repo';
import { LabRepo } from './lab-repo';
import { MaintenanceRepo } from './maintenance-repo';
import { MetaRepo } from './meta-repo';
import { RequestRepo } from './request-repo';
import { SnapshotRepo } from './snapshot-repo';
import type { SystemSummary } from './summary-store';
import { TokenRepo } from './token-repo';
import { WalCheckpointer } from './wal-checkpointer';

export interface StateStoreOptions extends OpenDatabaseOptions {
  /**
   * The audit key (kept outside the database): the audit chain is keyed from the next row on, and every new row is
   * linked with HMAC-SHA256 under it. `serve` always passes one; tests that do not care may leave it out, but a
   * chain once keyed then refuses appends without it.
   */
  auditKey?: AuditKey | undefined;
  /**
   * Checkpoint the WAL from a worker thread instead of inside commits (state/wal-checkpointer.ts): the long-running
   * services' stores. Problems are told to `onProblem`.
   */
  backgroundCheckpoints?: { onProblem?: (message: string) => void } | undefined;
}

/** The most of the file mapped by withMappedReads (a database beyond it is read the usual way past this point). */
const MAPPED_READ_BYTES = 1 << 30;

export class StateStore {
  /** The background WAL checkpointer, when the store was opened with one. */
  private checkpointer: WalCheckpointer | undefined;
  readonly inventory: InventoryRepo;
  readonly requests: RequestRepo;
  readonly snapshots: SnapshotRepo;
  readonly audit: AuditLog;
  readonly meta: MetaRepo;
  readonly tokens: TokenRepo;
  readonly incidents: IncidentRepo;
  readonly knowledge: KnowledgeRepo;
  /** Maintenance windows and silences. */
  readonly maintenance: MaintenanceRepo;
  /** Labs and their status history (the lab actors' snapshots are in `snapshots`). */
  readonly labs: LabRepo;

  /** Opens (and migrates) the database at `path`. */
  static open(path: string, opts: StateStoreOptions = {}): StateStore {
    const db = openDatabase(path, opts);
    try {
      const store = new StateStore(db, opts);
      if (opts.backgroundCheckpoints) store.checkpointer = WalCheckpointer.start(db, opts.backgroundCheckpoints);
      return store;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Wraps an already opened and migrated connection (see openDatabase). */
  constructor(
    readonly db: Database,
    opts: Pick<StateStoreOptions, 'auditKey' | 'now'> = {},
  ) {
    this.inventory = new InventoryRepo(db);
    this.requests = new RequestRepo(db);
    this.snapshots = new SnapshotRepo(db);
    this.audit = new AuditLog(db, { key: opts.auditKey, now: opts.now });
    this.meta = new MetaRepo(db);
    this.tokens = new TokenRepo(db);
    this.incidents = new IncidentRepo(db);
    this.knowledge = new KnowledgeRepo(db);
    this.maintenance = new MaintenanceRepo(db);
    this.labs = new LabRepo(db);
  }

  /** Runs `fn` in one transaction (nested calls become savepoints). `fn` must be synchronous. */
  transaction<T>(fn: () => T): T {
    return transaction(this.db, fn);
  }

  /**
   * Runs `fn`, a burst of reads over most of the file (a restart restoring every actor), with the file memory-mapped:
   * SQLite then reads its pages in place instead of one pread() each into its page cache (measured: a cold read of
   * every snapshot 48 → 10 ms of SQLite's time for 11k rows). The mapping is dropped when `fn` returns, so the pages
   * do not stay in the process's resident memory. Writes are unchanged (SQLite never writes through the map).
   */
  withMappedReads<T>(fn: () => T): T {
    if (!this.db.open || this.db.memory) return fn();
    this.db.pragma(`mmap_size = ${MAPPED_READ_BYTES}`);
    try {
      return fn();
    } finally {
      this.db.pragma('mmap_size = 0');
    }
  }

  /** Counts by state of everything stored: the `reset` event of the summary store. */
  countSummary(): SystemSummary {
    return {
      vms: this.inventory.countVmsByState(),
      hosts: this.inventory.countHostsByState(),
      requests: this.requests.countByStatus(),
    };
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  /** Closes the connection (checkpointing the WAL). Safe to call twice. */
  close(): void {
    if (!this.db.open) return;
    this.checkpointer?.stop();
    try {
      this.db.pragma('optimize');
    } finally {
      this.db.close();
    }
  }
}

/** Opens the database at `path` and returns the StateStore on it. */
export const openStateStore = (path: string, opts?: StateStoreOptions): StateStore => StateStore.open(path, opts);
