// The audit part of the record (DESIGN §14): the owner of a Proxmox cluster appends its audit rows for that cluster
// to the record's audit stream in batches; every other core appends what it reads to its OWN chain, linked under its
// own key, so each core's chain verifies on its own. An imported row keeps its time, actor, kind and data, and its
// data says where it came from (`_record`: the core, the cluster, the row's seq in that core's chain and the batch's
// sequence in the record).

import { z } from 'zod';
import { type AuditBatch, parseAuditBatch, RECORD_FORMAT, RecordValueError } from '../protocol';
import type { AuditEntry, AuditHead, AuditRow, StateStore } from '../state';
import { recordRows } from './record-entities';

/** The member of an imported row's data that says where it came from. */
export const AUDIT_ORIGIN_FIELD = '_record';

/** Where an imported audit row came from. */
export interface AuditOrigin {
  /** The core that wrote it. */
  core: string;
  cluster: string;
  /** Its seq in that core's chain. */
  seq: number;
  /** The sequence of its batch in the record's audit stream. */
  record: number;
  /** True when the original data was not a plain object and is kept under `value`. */
  wrapped?: true | undefined;
}

const OriginSchema = z.object({
  core: z.string(),
  cluster: z.string(),
  seq: z.number().int(),
  record: z.number().int(),
  wrapped: z.literal(true).optional(),
});

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

/** The data an imported row stores: the original's members plus `_record`, or `{value, _record}` for other data. */
export function withAuditOrigin(data: unknown, origin: Omit<AuditOrigin, 'wrapped'>): Record<string, unknown> {
  if (isPlainObject(data) && !(AUDIT_ORIGIN_FIELD in data)) return { ...data, [AUDIT_ORIGIN_FIELD]: origin };
  return { value: data ?? null, [AUDIT_ORIGIN_FIELD]: { ...origin, wrapped: true } };
}

/** Where a row's data came from and the original data, or undefined for a row this core wrote itself. */
export function auditOriginOf(data: unknown): { origin: AuditOrigin; data: unknown } | undefined {
  if (!isPlainObject(data)) return undefined;
  const parsed = OriginSchema.safeParse(data[AUDIT_ORIGIN_FIELD]);
  if (!parsed.success) return undefined;
  const { [AUDIT_ORIGIN_FIELD]: _origin, ...rest } = data;
  return { origin: parsed.data as AuditOrigin, data: parsed.data.wrapped ? rest.value : rest };
}

/** A batch of this core's audit rows of `cluster`, to append to the record. */
export function auditBatchOf(cluster: string, core: string, rows: readonly AuditRow[]): AuditBatch {
  const batch = {
    v: RECORD_FORMAT,
    cluster,
    core,
    entries: rows.map((r) => ({ seq: r.seq, at: r.at, actor: r.actor, kind: r.kind, data: r.data })),
  };
  return parseAuditBatch(`audit batch of ${cluster}`, batch);
}

export interface AuditImportResult {
  /** Rows appended to this core's chain (0 when the batch was here already). */
  appended: number;
  /** The chain's head after the import. */
  head: AuditHead;
}

/** The last sequence of `cluster`'s audit record this core holds (imported or appended itself); 0 when none. */
export function auditRecordSeq(store: StateStore, cluster: string): number {
  return recordRows(store).auditMark(cluster);
}

/** Records that this core appended a batch of `cluster` to the record at `seq` (so it never imports it back). */
export function markAuditPublished(store: StateStore, cluster: string, seq: number): void {
  if (!Number.isSafeInteger(seq) || seq < 1) throw new RangeError(`audit record sequence ${seq} is not one`);
  const rows = recordRows(store);
  store.transaction(() => {
    if (seq > rows.auditMark(cluster)) rows.setAuditMark(cluster, seq);
  });
}

/**
 * Appends the rows of `raw` (the batch at sequence `seq` of the record's audit stream) to this core's chain, with
 * where they came from, in one transaction with the mark of `seq`. A batch at or below the sequence held changes
 * nothing. RecordValueError (nothing written) when `raw` is not a batch.
 */
export function importAudit(store: StateStore, raw: unknown, seq: number): AuditImportResult {
  const where = `record audit #${seq}`;
  if (!Number.isSafeInteger(seq) || seq < 1) {
    throw new RecordValueError(`${where}: ${seq} is not a stream sequence`, where);
  }
  const batch = parseAuditBatch(where, raw, seq);
  const rows = recordRows(store);
  return store.transaction(() => {
    if (seq <= rows.auditMark(batch.cluster)) return { appended: 0, head: store.audit.lastRow() };
    const entries: AuditEntry[] = batch.entries.map((e) => ({
      at: e.at,
      actor: e.actor,
      kind: e.kind,
      data: withAuditOrigin(e.data, { core: batch.core, cluster: batch.cluster, seq: e.seq, record: seq }),
    }));
    const head = store.audit.appendMany(entries);
    rows.setAuditMark(batch.cluster, seq);
    return { appended: entries.length, head };
  });
}
