// Between a core's SQLite and the record (DESIGN §14): the owner of a Proxmox cluster exports the latest full state of
// each entity it changed (a request with its history and snapshot, an incident, a lab, an API token, a maintenance
// window, a silence: record-maintenance.ts) and publishes it;
// every other core imports what it reads, each entity in one transaction, the newer version only.
//
// Versions: each entity value carries `version`. This database keeps, per record key, the version it holds, that
// value's digest and the record revision it was at (state/record-rows.ts marks). An export whose content is the one
// held keeps that version (`changed: false`: nothing to publish); any other content is version + 1, to be put with
// the revision held as the expected one (compare-and-set: a deposed owner's put fails). markPublished() records a
// put that succeeded; importEntity() applies a value only when its version is above the one held.
// The owner of a cluster does not import its own cluster's keys: its SQLite is ahead of what it published.
import { createHash } from 'node:crypto';
import { incidentActorId } from '../machines/incident.machine';
import { parseSubject } from '../machines/monitor';
import { actorId } from '../machines/types';
import {
  type IncidentEntity,
  type LabEntity,
  type MaintenanceEntity,
  parseRecordValue,
  type RecordSnapshot,
  type RecordValue,
  RecordValueError,
  type RequestEntity,
  recordKey,
  type SilenceEntity,
  silenceCluster,
  type TokenEntity,
  windowCluster,
} from '../protocol';
import {
  canonicalJson,
  IncidentResolvedError,
  LAB_SNAPSHOT_KIND,
  type LabRowValue,
  type LabStatusChange,
  labActorId,
  type RecordMark,
  RecordRowConflictError,
  RecordRows,
  type RequestRecord,
  type StateStore,
} from '../state';
import { MissingEntryError, maintenanceBody, silenceBody, writeMaintenance, writeSilence } from './record-maintenance';

/** An entity to export does not exist here, or cannot be placed in a cluster. */
export class RecordEntityError extends Error {
  override name = 'RecordEntityError';
  constructor(
    message: string,
    readonly entity: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A valid value that cannot be written here (it clashes with a row this database has); nothing was written. */
export class RecordImportError extends Error {
  override name = 'RecordImportError';
  constructor(
    message: string,
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface RecordExport<V extends RecordValue = RecordValue> {
  key: string;
  value: V;
  /** False when the value is the version this database already holds (published or imported): nothing to put. */
  changed: boolean;
  /** What a put must expect: the revision held for the key, or 'new' when this database never held it. */
  expectedRevision: number | 'new';
}

export interface RecordImportResult {
  key: string;
  kind: RecordValue['kind'];
  version: number;
  /** False when this database already held that version or a later one: nothing was written. */
  applied: boolean;
}

const rowsOf = new WeakMap<StateStore, RecordRows>();
/** The record rows on `store`'s connection (one per store, its statements prepared once). */
export function recordRows(store: StateStore): RecordRows {
  let rows = rowsOf.get(store);
  if (!rows) {
    rows = new RecordRows(store.db);
    rowsOf.set(store, rows);
  }
  return rows;
}

/** The digest of a value's content: everything but its version. */
function digestOf(value: RecordValue): string {
  const { version: _version, ...content } = value;
  return createHash('sha256').update(canonicalJson(content, 'record value')).digest('hex');
}

/**
 * `body` (an entity without its version) as the value of `key`: checked to be a valid value, and versioned against
 * this database's mark of the key (the version held when the content is the one held, else the next one).
 */
function exported<V extends RecordValue>(store: StateStore, key: string, body: object): RecordExport<V> {
  // The JSON round trip drops undefined fields; a row this database cannot describe as a valid value is reported
  // here (RecordValueError), never published.
  const value = parseRecordValue(key, JSON.parse(JSON.stringify({ ...body, version: 1 }))) as V;
  const mark = recordRows(store).mark(key);
  const same = mark !== undefined && mark.digest === digestOf(value);
  value.version = same ? mark.version : (mark?.version ?? 0) + 1;
  return { key, value, changed: !same, expectedRevision: mark?.revision ?? 'new' };
}

const snapshotOf = (store: StateStore, id: string): RecordSnapshot | null => {
  const row = store.snapshots.get(id);
  return row ? { at: row.at, value: row.snapshot as Record<string, unknown> } : null;
};

// ---- export -------------------------------------------------------------------------------------------------------

/** A request: its row, its whole status history and its actor's snapshot. */
export function exportRequest(store: StateStore, id: string): RecordExport<RequestEntity> {
  const r = store.requests.get(id);
  if (!r) throw new RecordEntityError(`request ${id} does not exist here`, `request ${id}`);
  const { history, ...request } = r;
  return exported<RequestEntity>(store, recordKey.request(r.target.cluster, id), {
    v: 1,
    kind: 'request',
    request,
    history,
    snapshot: snapshotOf(store, actorId.request(id)),
  });
}

/**
 * The Proxmox cluster an incident belongs to: its subject's (`vm:`, `host:`, `cluster:`, `lab:`), or its request's
 * (`req:<id>`). Undefined for an incident of the core itself (the audit chain's).
 */
export function incidentCluster(store: StateStore, subject: string): string | undefined {
  const lab = /^lab:([^/]+)\/[^/]+$/.exec(subject);
  if (lab) return lab[1];
  const parsed = parseSubject(subject);
  if (!parsed) return undefined;
  return parsed.kind === 'req' ? store.requests.get(parsed.id)?.target.cluster : parsed.cluster;
}

/** An incident: its row and its actor's snapshot. `cluster` defaults to the one its subject names. */
export function exportIncident(store: StateStore, id: string, cluster?: string): RecordExport<IncidentEntity> {
  const incident = store.incidents.get(id);
  if (!incident) throw new RecordEntityError(`incident ${id} does not exist here`, `incident ${id}`);
  const owner = cluster ?? incidentCluster(store, incident.subject);
  if (!owner) {
    throw new RecordEntityError(
      `incident ${id} (subject ${incident.subject}) belongs to no Proxmox cluster: name the cluster to export it`,
      `incident ${id}`,
    );
  }
  return exported<IncidentEntity>(store, recordKey.incident(owner, id), {
    v: 1,
    kind: 'incident',
    cluster: owner,
    incident,
    snapshot: snapshotOf(store, incidentActorId(id)),
  });
}

/**
 * A lab: its row (the one created at `createdAt`; by default the one its name stands for: the live lab, else the
 * newest that ended), its events, and the lab actor's snapshot when the row is the one its name stands for.
 */
export function exportLab(
  store: StateStore,
  cluster: string,
  name: string,
  createdAt?: number,
): RecordExport<LabEntity> {
  const rows = recordRows(store);
  const current = rows.currentLabId(cluster, name);
  const id = createdAt === undefined ? current : rows.labIdByCreation(cluster, name, createdAt);
  const lab = id === undefined ? undefined : rows.labById(id);
  if (id === undefined || !lab) {
    const which = createdAt === undefined ? '' : ` created at ${createdAt}`;
    throw new RecordEntityError(`lab '${name}'${which} on cluster '${cluster}' does not exist here`, `lab ${name}`);
  }
  const { id: _rowId, ...row } = lab;
  return exported<LabEntity>(store, recordKey.lab(cluster, name, lab.createdAt), {
    v: 1,
    kind: 'lab',
    lab: row,
    events: rows.labEvents(id),
    snapshot: id === current ? snapshotOf(store, labActorId(cluster, name)) : null,
  });
}

/** An API token: its row with the token's hash (never the token). */
export function exportToken(store: StateStore, id: string): RecordExport<TokenEntity> {
  const token = recordRows(store).token(id);
  if (!token) throw new RecordEntityError(`token ${id} does not exist here`, `token ${id}`);
  return exported<TokenEntity>(store, recordKey.token(id), { v: 1, kind: 'token', token });
}

/** A body from record-maintenance.ts, versioned; a window or silence that is not here is a RecordEntityError. */
function exportedEntry<V extends RecordValue>(
  store: StateStore,
  what: string,
  build: () => { key: string; body: object },
): RecordExport<V> {
  let built: { key: string; body: object };
  try {
    built = build();
  } catch (err) {
    if (!(err instanceof MissingEntryError)) throw err;
    throw new RecordEntityError(err.message, what, { cause: err });
  }
  return exported<V>(store, built.key, built.body);
}

/**
 * A maintenance window: its row, under the cluster its target names. A tag window names none: `cluster` says whose
 * it is (the cluster of the core that set it).
 */
export function exportMaintenance(store: StateStore, id: string, cluster?: string): RecordExport<MaintenanceEntity> {
  return exportedEntry(store, `maintenance ${id}`, () => maintenanceBody(store, id, cluster));
}

/** A silence: its row, under the cluster of its guest. */
export function exportSilence(store: StateStore, id: string): RecordExport<SilenceEntity> {
  return exportedEntry(store, `silence ${id}`, () => silenceBody(store, id));
}

/**
 * Every request, incident, lab, maintenance window and silence of `cluster` this database has (a first publication
 * of a cluster). Tag windows name no cluster: each cluster's export has them (its guests may carry the tag).
 */
export function exportCluster(store: StateStore, cluster: string): RecordExport[] {
  const out: RecordExport[] = [];
  for (const r of store.requests.list({ cluster })) out.push(exportRequest(store, r.id));
  for (const i of store.incidents.list({})) {
    if (incidentCluster(store, i.subject) === cluster) out.push(exportIncident(store, i.id, cluster));
  }
  for (const lab of recordRows(store).labsOf(cluster)) out.push(exportLab(store, cluster, lab.name, lab.createdAt));
  for (const w of store.maintenance.windows.list({ all: true }, 0)) {
    if ((windowCluster(w) ?? cluster) === cluster) out.push(exportMaintenance(store, w.id, cluster));
  }
  for (const s of store.maintenance.silences.list({ all: true }, 0)) {
    if (silenceCluster(s) === cluster) out.push(exportSilence(store, s.id));
  }
  return out;
}

/** Records that `value` was put under `key` at `revision`: this database holds that version. */
export function markPublished(store: StateStore, key: string, value: RecordValue, revision: number): void {
  recordRows(store).setMark(key, { version: value.version, digest: digestOf(value), revision });
}

// ---- import -------------------------------------------------------------------------------------------------------

/**
 * Writes the entity `raw` (a value read from the record at `revision`) into this database, in one transaction: the
 * rows, the history, the snapshot and the mark, or nothing. A version this database already holds, or an older one,
 * changes nothing. RecordValueError when `raw` is not a valid value of `key`; RecordImportError when it clashes with a
 * row here; in both cases nothing is written.
 */
export function importEntity(store: StateStore, key: string, raw: unknown, revision: number): RecordImportResult {
  if (!Number.isSafeInteger(revision) || revision < 1) {
    throw new RecordValueError(`record value at '${key}': revision ${revision} is not a stream sequence`, key);
  }
  const value = parseRecordValue(key, raw, revision);
  const result = { key, kind: value.kind, version: value.version };
  const rows = recordRows(store);
  try {
    return store.transaction(() => {
      const held: RecordMark | undefined = rows.mark(key);
      if (held && held.version >= value.version) return { ...result, applied: false };
      writeEntity(store, rows, value);
      rows.setMark(key, { version: value.version, digest: digestOf(value), revision });
      return { ...result, applied: true };
    });
  } catch (err) {
    if (err instanceof RecordRowConflictError || err instanceof IncidentResolvedError) {
      throw new RecordImportError(`record value at '${key}' cannot be written here: ${err.message}`, key, {
        cause: err,
      });
    }
    throw err;
  }
}

function writeEntity(store: StateStore, rows: RecordRows, value: RecordValue): void {
  switch (value.kind) {
    case 'request': {
      const { request: r, history, snapshot } = value;
      const record: RequestRecord = {
        ...r,
        decision: r.decision,
        idempotencyKey: r.idempotencyKey,
        error: r.error,
        members: r.members,
        history,
      };
      rows.putRequest(record);
      // A finished request has no snapshot (actors/request-writer.ts): one stored here before is not restored either.
      if (snapshot) store.snapshots.save(actorId.request(r.id), 'request', snapshot.value, snapshot.at);
      else store.snapshots.delete(actorId.request(r.id));
      return;
    }
    case 'incident':
      writeIncident(store, value);
      return;
    case 'lab': {
      const { lab, events, snapshot } = value;
      // The schema checks what the record needs; the lab machine's own types are its snapshot's business.
      const id = rows.putLab(lab as unknown as LabRowValue, events as LabStatusChange[]);
      if (snapshot && rows.currentLabId(lab.cluster, lab.name) === id) {
        store.snapshots.save(labActorId(lab.cluster, lab.name), LAB_SNAPSHOT_KIND, snapshot.value, snapshot.at);
      }
      return;
    }
    case 'token':
      rows.putToken(value.token);
      return;
    case 'maintenance':
      writeMaintenance(store, value);
      return;
    case 'silence':
      writeSilence(store, value);
      return;
  }
}

/** Through the incident repository: opened when new (deduplicated as ever), then every field as the record has it. */
function writeIncident(store: StateStore, value: IncidentEntity): void {
  const i = value.incident;
  const here = store.incidents.get(i.id);
  if (!here) {
    const { incident: open, created } = store.incidents.open({
      id: i.id,
      kind: i.kind,
      subject: i.subject,
      dedupeKey: i.dedupeKey,
      severity: i.severity,
      detail: i.detail,
      data: i.data,
      openedAt: i.openedAt,
      status: i.status,
      cause: i.cause,
    });
    if (!created) {
      throw new RecordRowConflictError(
        `incident ${i.id}: incident ${open.id} with the same dedupe key (${i.dedupeKey}) is not resolved here`,
        'incidents',
      );
    }
  } else if (here.subject !== i.subject || here.dedupeKey !== i.dedupeKey || here.openedAt !== i.openedAt) {
    throw new RecordRowConflictError(
      `incident ${i.id}: the one here is about ${here.subject} opened at ${here.openedAt}, the record's about ${i.subject} opened at ${i.openedAt}`,
      'incidents',
    );
  }
  store.incidents.update(
    i.id,
    {
      status: i.status,
      severity: i.severity,
      detail: i.detail,
      data: i.data ?? null,
      occurrences: i.occurrences,
      lastSeenAt: i.lastSeenAt,
      remediationAttempts: i.remediationAttempts,
      actions: i.actions,
      cause: i.cause ?? null,
      outcome: i.outcome ?? null,
      resolvedAt: i.resolvedAt,
    },
    i.updatedAt,
  );
  if (value.snapshot) {
    store.snapshots.save(incidentActorId(i.id), 'incident', value.snapshot.value, value.snapshot.at);
  }
}

export interface RecordEntryLike {
  key: string;
  revision: number;
  value: unknown;
}

export interface ImportAllReport {
  applied: number;
  unchanged: number;
  /** Entries that could not be imported, each with its typed error (RecordValueError or RecordImportError). */
  failed: { key: string; revision: number; error: Error }[];
}

/**
 * Imports entries (a cluster's keys read from the record) in revision order, each in its own transaction: one that
 * fails is reported and the others are still imported.
 */
export function importAll(store: StateStore, entries: readonly RecordEntryLike[]): ImportAllReport {
  const report: ImportAllReport = { applied: 0, unchanged: 0, failed: [] };
  for (const e of [...entries].sort((a, b) => a.revision - b.revision)) {
    try {
      if (importEntity(store, e.key, e.value, e.revision).applied) report.applied++;
      else report.unchanged++;
    } catch (error) {
      if (!(error instanceof RecordValueError || error instanceof RecordImportError)) throw error;
      report.failed.push({ key: e.key, revision: e.revision, error });
    }
  }
  return report;
}
