// The database's integrity check (PRAGMA quick_check) off the main thread. On a large file it blocks long enough to
// stall every decision waiting behind it (92 ms with 10k VMs tracked, bench/sync-latency.ts, growing with the file),
// so a worker thread opens the file read-only, checks it and answers. A small file (a few milliseconds of checking)
// and an in-memory database are checked in place, as is any file when the worker cannot run.
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Database } from 'better-sqlite3';

/** The worker's whole program (CommonJS, evaluated): one check of `file`, answered once. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
let db;
try {
  db = new Database(workerData.file, { readonly: true, fileMustExist: true });
  parentPort.postMessage({ result: String(db.pragma('quick_check(1)', { simple: true })) });
} catch (error) {
  parentPort.postMessage({ error: String((error && error.message) || error) });
} finally {
  if (db) db.close();
}
`;

/** better-sqlite3's entry, resolved once from here (the worker's own require would start from the working dir). */
let driverPath: string | undefined;
const driver = (): string => {
  driverPath ??= createRequire(import.meta.url).resolve('better-sqlite3');
  return driverPath;
};

const inPlace = (db: Database): string => String(db.pragma('quick_check(1)', { simple: true }));

/** Below this size a file is checked in place: about as long as starting a worker takes. */
export const IN_PLACE_BELOW_BYTES = 8 * 1024 * 1024;

const sizeOf = (file: string): number => {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
};

/**
 * `PRAGMA quick_check(1)` of `db`: 'ok', or the first problem found. A file database is checked by a worker thread on
 * its own read-only connection; when the worker cannot open or run it, the check runs here after all.
 */
export async function quickCheck(db: Database, inPlaceBelowBytes = IN_PLACE_BELOW_BYTES): Promise<string> {
  if (db.memory || sizeOf(db.name) < inPlaceBelowBytes) return inPlace(db);
  let answer: { result?: string; error?: string };
  try {
    answer = await new Promise((resolve, reject) => {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module: driver(), file: db.name } });
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the check's worker exited (${code})`)));
      worker.unref();
    });
  } catch {
    return inPlace(db);
  }
  return answer.result ?? inPlace(db);
}
