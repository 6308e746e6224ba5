// WAL checkpoints off the main thread. SQLite checkpoints a WAL database from inside the commit that pushes the log
// past 1,000 pages: that commit then copies the log into the file and syncs it twice, and every decision waiting on it
// waits 50–70 ms (bench/sync-latency.ts). With a checkpointer, the main connection never checkpoints on its own
// (wal_autocheckpoint = 0); a worker thread with its own connection runs PASSIVE checkpoints (which never wait for a
// lock, and never block a writer) every interval. Should the worker fail to start or die, the main connection's own
// checkpoints are switched back on, so the log never grows without bound.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Database } from 'better-sqlite3';

/** The worker's whole program (CommonJS, evaluated). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file, { fileMustExist: true });
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    parentPort.postMessage({ error: String((error && error.message) || error) });
  }
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
parentPort.postMessage({ ready: true });
`;

/** SQLite's own default: a checkpoint from the committing connection once the log passes 1,000 pages. */
const AUTO_CHECKPOINT_PAGES = 1000;

export interface WalCheckpointerOptions {
  /** Between checkpoints; default 1 s. */
  intervalMs?: number;
  /** A checkpoint that failed, or the worker's end (the main connection checkpoints again). */
  onProblem?: (message: string) => void;
}

export class WalCheckpointer {
  private stopped = false;

  private constructor(
    private readonly db: Database,
    private readonly worker: Worker,
  ) {}

  /** Starts checkpointing `db`'s file from a worker; undefined for an in-memory database (nothing to checkpoint). */
  static start(db: Database, opts: WalCheckpointerOptions = {}): WalCheckpointer | undefined {
    if (db.memory) return undefined;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        module: createRequire(import.meta.url).resolve('better-sqlite3'),
        file: db.name,
        intervalMs: opts.intervalMs ?? 1_000,
      },
    });
    worker.unref();
    const checkpointer = new WalCheckpointer(db, worker);
    worker.on('message', (message: { ready?: boolean; error?: string }) => {
      if (message.ready && !checkpointer.stopped) db.pragma('wal_autocheckpoint = 0');
      if (message.error) opts.onProblem?.(`a background WAL checkpoint failed: ${message.error}`);
    });
    const fallBack = (why: string) => {
      if (checkpointer.stopped || !db.open) return;
      db.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
      opts.onProblem?.(`the WAL checkpointer ${why}; the database checkpoints on its own again`);
    };
    worker.on('error', (error) => fallBack(`failed: ${error.message}`));
    worker.on('exit', (code) => fallBack(`stopped (exit ${code})`));
    return checkpointer;
  }

  /** Stops the worker (its connection closes); the main connection checkpoints on its own again while it is open. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
    this.worker.postMessage('stop');
  }
}
