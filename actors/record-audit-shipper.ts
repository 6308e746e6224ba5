// The audit half of the record shipper (record-shipper.ts): the rows this runtime appended to its chain since the
// last batch go to the cluster's audit record in batches (at most maxBatchRows rows and about maxBatchBytes of data),
// each appended with the last sequence this database holds as the expected one, so a deposed owner's append is
// refused. Rows imported from the record at the start are never sent back (shipping starts after them).
import { isDeepStrictEqual } from 'node:util';
import type { Log } from '../adapters/log';
import {
  RecordConflictError,
  type RecordStore,
  RecordStoreError,
  RecordStoreTimeoutError,
  recordAuditSubject,
} from '../adapters/nats/record-store';
import { type AuditBatch, RecordValueError } from '../protocol';
import type { AuditRow, StateStore } from '../state';
import { auditBatchOf, auditRecordSeq, markAuditPublished } from './record-audit';
import { isTransientRecordError, RecordShipError } from './record-shipper-errors';

export interface AuditShipperDeps {
  cluster: string;
  core: string;
  store: StateStore;
  records: RecordStore;
  fence: () => void;
  log: Log;
  maxBatchRows?: number | undefined;
  maxBatchBytes?: number | undefined;
  /** Another core appended: the error to throw (the shipper stops for good). */
  lose: (key: string, cause: unknown) => Error;
}

const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

export class AuditShipper {
  /** The seq of the last row of this chain that is in the record (or was there at the start). */
  private shipped: number;
  private batchBytes: number;
  /** The batch whose append got no answer: if the retry is refused, the record may hold exactly it. */
  private uncertain: { expected: number; batch: AuditBatch } | undefined;
  batches = 0;

  constructor(private readonly deps: AuditShipperDeps) {
    this.shipped = deps.store.audit.lastRow().seq;
    this.batchBytes = deps.maxBatchBytes ?? 256 * 1024;
  }

  /** Rows of this chain not in the record yet. */
  pending(): number {
    return Math.max(0, this.deps.store.audit.lastRow().seq - this.shipped);
  }

  /** Appends every row not shipped yet, batch after batch. */
  async ship(): Promise<void> {
    const { store, records, cluster } = this.deps;
    for (;;) {
      const rows = store.audit.list({ sinceSeq: this.shipped, limit: this.deps.maxBatchRows ?? 500 });
      if (rows.length === 0) return;
      const batch = this.batchOf(this.chunk(rows));
      if (!batch) continue;
      const expected = auditRecordSeq(store, cluster);
      this.deps.fence();
      let seq: number;
      try {
        seq = await records.appendAudit(cluster, batch.value, expected);
      } catch (error) {
        if (error instanceof RecordStoreTimeoutError) this.uncertain = { expected, batch: batch.value };
        if (error instanceof RecordStoreError && !(error instanceof RecordConflictError)) {
          if (!isTransientRecordError(error)) throw this.unshippable(batch.value, error);
        }
        if (!(error instanceof RecordConflictError)) throw error;
        if (!(await this.adoptUncertain())) throw this.deps.lose(recordAuditSubject(cluster), error);
        continue;
      }
      this.uncertain = undefined;
      markAuditPublished(store, cluster, seq);
      this.shipped = batch.last;
      this.batches++;
    }
  }

  /**
   * A batch the record refuses before sending it (over the server's payload limit): a single row is skipped (it can
   * never be shipped), else the batches are made smaller for the next round.
   */
  private unshippable(batch: AuditBatch, error: RecordStoreError): RecordShipError {
    const { cluster, log } = this.deps;
    const first = batch.entries[0]?.seq;
    const what = batch.entries.length === 1 ? `audit row ${first}` : `an audit batch of ${batch.entries.length} rows`;
    if (batch.entries.length === 1 && first !== undefined) this.shipped = first;
    else this.batchBytes = Math.max(1_024, Math.floor(this.batchBytes / 2));
    log.error(`record: ${what} of cluster ${cluster} cannot be appended to the record`, error);
    return new RecordShipError(`${what} cannot be appended to the record: ${error.message}`, cluster, what, {
      cause: error,
    });
  }

  /** The rows of one batch: up to the batch size in bytes of data (at least one row). */
  private chunk(rows: AuditRow[]): AuditRow[] {
    let size = 0;
    let n = 0;
    for (const row of rows) {
      size += (JSON.stringify(row.data)?.length ?? 4) + 128;
      if (n > 0 && size > this.batchBytes) break;
      n++;
    }
    return rows.slice(0, n);
  }

  /** The batch of `rows`; a row that is not a valid entry is reported, skipped, and never blocks those after it. */
  private batchOf(rows: AuditRow[]): { value: AuditBatch; last: number } | undefined {
    const { cluster, core, log } = this.deps;
    const last = rows[rows.length - 1]?.seq ?? this.shipped;
    try {
      return { value: auditBatchOf(cluster, core, rows), last };
    } catch (error) {
      if (!(error instanceof RecordValueError)) throw error;
      const good = rows.filter((r) => {
        try {
          auditBatchOf(cluster, core, [r]);
          return true;
        } catch (bad) {
          log.error(`record: audit row ${r.seq} cannot be shipped (${(bad as Error).message}); skipped`);
          return false;
        }
      });
      if (good.length === 0) {
        this.shipped = last;
        return undefined;
      }
      return { value: auditBatchOf(cluster, core, good), last };
    }
  }

  /** After a refused append that followed a lost answer: the batch found after the expected sequence is ours. */
  private async adoptUncertain(): Promise<boolean> {
    const sent = this.uncertain;
    this.uncertain = undefined;
    if (!sent) return false;
    const { records, store, cluster } = this.deps;
    const [found] = await records.readAudit(cluster, sent.expected + 1, 1);
    if (!found || !('batch' in found) || !isDeepStrictEqual(plain(found.batch), plain(sent.batch))) return false;
    markAuditPublished(store, cluster, found.seq);
    this.shipped = sent.batch.entries[sent.batch.entries.length - 1]?.seq ?? this.shipped;
    this.batches++;
    return true;
  }
}
