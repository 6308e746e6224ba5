// A cluster runtime's local view, rebuilt from the record (DESIGN §14, issue 15): the cluster's SQLite file is removed
// and created again (the record is the truth; a file left from an earlier ownership may hold writes that never
// reached it), then every entity of the cluster, every API token (`_global`) and every audit batch of the cluster
// are imported, so the file holds exactly what the last owner published.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import type { RecordEntry, RecordStore } from '../adapters/nats/record-store';
import { GLOBAL_RECORD_SCOPE, RecordValueError } from '../protocol';
import { type AuditKey, StateStore } from '../state';
import type { OverseerConfig } from './config';
import { LEASE_TOKEN } from './lease-types';
import { importAudit, markAuditPublished } from './record-audit';
import { importAll } from './record-entities';

/** A cluster runtime could not be started: which cluster, at which step, and why. */
export class ClusterRuntimeError extends Error {
  override name = 'ClusterRuntimeError';
  constructor(
    message: string,
    readonly cluster: string,
    readonly step: 'name' | 'database' | 'record' | 'start',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface ClusterImportReport {
  /** Entities (the cluster's and the tokens) written, and those that could not be (each logged). */
  entities: number;
  failed: number;
  /** Keys whose value is not a record value (each logged). */
  invalid: number;
  auditBatches: number;
  auditRows: number;
  /** The last sequence of the cluster's audit record when it was read (0: none). */
  auditSeq: number;
}

export interface RebuildOptions {
  cluster: string;
  dataDir: string;
  records: RecordStore;
  config: OverseerConfig;
  clock: Clock;
  log: Log;
  auditKey?: AuditKey | undefined;
}

/** `<dataDir>/clusters/<cluster>.db` (the name checked: a lease's cluster name). */
export function clusterDbPath(dataDir: string, cluster: string): string {
  if (!LEASE_TOKEN.test(cluster)) {
    throw new ClusterRuntimeError(
      `invalid cluster name '${cluster}' for a cluster runtime: 1 to 128 letters, digits, '-', '_' or '='`,
      cluster,
      'name',
    );
  }
  return join(dataDir, 'clusters', `${cluster}.db`);
}

const AUDIT_PAGE = 1000;

/** Removes and creates the cluster's SQLite file, then imports the record into it. Closes it on failure. */
export async function rebuildClusterStore(
  opts: RebuildOptions,
): Promise<{ store: StateStore; report: ClusterImportReport }> {
  const { cluster, log } = opts;
  const path = clusterDbPath(opts.dataDir, cluster);
  let store: StateStore;
  try {
    mkdirSync(join(opts.dataDir, 'clusters'), { recursive: true });
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${path}${suffix}`, { force: true });
    store = StateStore.open(path, {
      synchronous: opts.config.state.synchronous,
      auditKey: opts.auditKey,
      now: () => opts.clock.now(),
      backgroundCheckpoints: { onProblem: (message) => log.warn(`cluster ${cluster}: ${message}`) },
    });
  } catch (cause) {
    throw new ClusterRuntimeError(
      `cluster ${cluster}: its database ${path} could not be created: ${(cause as Error).message}`,
      cluster,
      'database',
      { cause },
    );
  }
  try {
    const report = await importRecord(store, opts);
    log.info(
      `cluster ${cluster}: ${report.entities} entities and ${report.auditRows} audit rows (${report.auditBatches} ` +
        `batches) imported from the record${report.failed + report.invalid > 0 ? `; ${report.failed + report.invalid} not` : ''}`,
    );
    return { store, report };
  } catch (cause) {
    store.close();
    throw new ClusterRuntimeError(
      `cluster ${cluster}: the record could not be read: ${(cause as Error).message}`,
      cluster,
      'record',
      { cause },
    );
  }
}

async function importRecord(store: StateStore, opts: RebuildOptions): Promise<ClusterImportReport> {
  const { cluster, records, log } = opts;
  const [loaded, tokens] = await Promise.all([records.loadCluster(cluster), globalEntries(records)]);
  const invalid = [...loaded.invalid, ...tokens.invalid];
  for (const bad of invalid) log.warn(`record: ${bad.key} not imported: ${bad.error.message}`);
  const imported = importAll(store, [...tokens.entries, ...loaded.entries]);
  for (const f of imported.failed) log.error(`record: ${f.key} (${f.revision}) not imported: ${f.error.message}`);

  const report: ClusterImportReport = {
    entities: imported.applied + imported.unchanged,
    failed: imported.failed.length,
    invalid: invalid.length,
    auditBatches: 0,
    auditRows: 0,
    auditSeq: 0,
  };
  for (let from = 1; ; ) {
    const items = await records.readAudit(cluster, from, AUDIT_PAGE);
    for (const item of items) {
      report.auditSeq = item.seq;
      if ('error' in item) {
        log.error(`record: audit batch ${item.seq} of cluster ${cluster} not imported: ${item.error.message}`);
        continue;
      }
      report.auditRows += importAudit(store, item.batch, item.seq).appended;
      report.auditBatches++;
    }
    if (items.length < AUDIT_PAGE) break;
    from = report.auditSeq + 1;
  }
  // A batch that could not be read still counts as the record's last: the next append expects the real last one.
  if (report.auditSeq > 0) markAuditPublished(store, cluster, report.auditSeq);
  return report;
}

/** Every API token of the record (they are every core's); a value that is not one is reported apart. */
async function globalEntries(
  records: RecordStore,
): Promise<{ entries: RecordEntry[]; invalid: { key: string; error: RecordValueError }[] }> {
  const keys = await records.keys(`${GLOBAL_RECORD_SCOPE}.`);
  const out: Awaited<ReturnType<typeof globalEntries>> = { entries: [], invalid: [] };
  await Promise.all(
    keys.map(async (key) => {
      try {
        const entry = await records.get(key);
        if (entry) out.entries.push(entry);
      } catch (error) {
        if (!(error instanceof RecordValueError)) throw error;
        out.invalid.push({ key, error });
      }
    }),
  );
  return out;
}
