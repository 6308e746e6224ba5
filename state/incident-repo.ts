// Incidents: one row per incident, at most one not-yet-resolved row per dedupe key (a partial UNIQUE index), so
// the same condition seen again updates its incident instead of opening another. The `detail` JSON column holds the
// sentence and the facts that change as the condition is seen again; `actions` holds what Overseer did.
import type { Database } from 'better-sqlite3';
import type { IncidentActionEntry, IncidentContext, IncidentStatus } from '../machines/incident.machine';
import type { Severity } from '../machines/monitor/types';
import { StateError } from './errors';
import { fromJson, toJson } from './json';
import { StatementCache, Where } from './statements';
import { TABLES } from './tables';

/** A stored incident: the incident actor's context plus its status. */
export interface IncidentRecord extends IncidentContext {
  status: IncidentStatus;
}

/** What opening an incident needs; the rest starts empty (status `open`, seen once, no actions). */
export interface NewIncident {
  id: string;
  kind: string;
  subject: string;
  dedupeKey: string;
  severity: Severity;
  detail: string;
  data?: Readonly<Record<string, unknown>> | undefined;
  openedAt: number;
  status?: IncidentStatus | undefined;
  cause?: string | undefined;
}

export interface IncidentOpenResult {
  incident: IncidentRecord;
  /** False when an incident with the same dedupe key was already open (and is returned instead). */
  created: boolean;
}

/** Changes to an incident. An absent field is left as it is; `null` clears cause, outcome or data. */
export interface IncidentPatch {
  status?: IncidentStatus | undefined;
  severity?: Severity | undefined;
  detail?: string | undefined;
  data?: Readonly<Record<string, unknown>> | null | undefined;
  occurrences?: number | undefined;
  lastSeenAt?: number | undefined;
  remediationAttempts?: number | undefined;
  actions?: readonly IncidentActionEntry[] | undefined;
  cause?: string | null | undefined;
  outcome?: string | null | undefined;
  /** When it was resolved; defaults to `at` when the status becomes `resolved`. */
  resolvedAt?: number | undefined;
}

export interface IncidentFilter {
  status?: IncidentStatus | readonly IncidentStatus[] | undefined;
  subject?: string | undefined;
  kind?: string | undefined;
  /** Most rows returned (newest first). */
  limit?: number | undefined;
  /** Rows skipped before the first returned (paging; with `limit`). */
  offset?: number | undefined;
}

/** How many incidents not yet resolved there are of one kind and severity. */
export interface OpenIncidentCount {
  kind: string;
  severity: Severity;
  count: number;
}

export class IncidentNotFoundError extends StateError {
  override name = 'IncidentNotFoundError';
  constructor(readonly incidentId: string) {
    super(`incident ${incidentId} does not exist`);
  }
}

/** A resolved incident is closed for good: the condition coming back opens a new one. */
export class IncidentResolvedError extends StateError {
  override name = 'IncidentResolvedError';
  constructor(readonly incidentId: string) {
    super(`incident ${incidentId} is resolved and cannot be reopened`);
  }
}

/** The `detail` column: the sentence and the facts that change on every sighting. */
interface DetailJson {
  text: string;
  data?: Readonly<Record<string, unknown>> | undefined;
  occurrences: number;
  lastSeenAt: number;
  remediationAttempts: number;
}

interface IncidentRow {
  id: string;
  kind: string;
  subject: string;
  dedupe_key: string;
  severity: string;
  status: string;
  opened_at: number;
  updated_at: number;
  resolved_at: number | null;
  detail: string;
  actions: string;
  cause: string | null;
  outcome: string | null;
}

const T = TABLES.incidents;
const COLUMNS =
  'id, kind, subject, dedupe_key, severity, status, opened_at, updated_at, resolved_at, detail, actions, cause, outcome';
const RESOLVED: IncidentStatus = 'resolved';
/**
 * `status <> 'resolved'` written out: SQLite uses the partial index of open incidents (migration v3) only when the
 * query's condition is that literal, not a bound parameter; with a parameter every such read scans the whole table,
 * which keeps every incident ever opened.
 */
const OPEN = `status <> '${RESOLVED}'`;

const isUniqueViolation = (err: unknown): boolean =>
  err instanceof Error && (err as Error & { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE';

function toRecord(row: IncidentRow): IncidentRecord {
  const detail = fromJson<DetailJson>(row.detail, T, row.id);
  return {
    id: row.id,
    kind: row.kind,
    subject: row.subject,
    dedupeKey: row.dedupe_key,
    severity: row.severity as Severity,
    status: row.status as IncidentStatus,
    openedAt: row.opened_at,
    updatedAt: row.updated_at,
    lastSeenAt: detail.lastSeenAt ?? row.opened_at,
    occurrences: detail.occurrences ?? 1,
    detail: detail.text ?? '',
    ...(detail.data !== undefined ? { data: detail.data } : {}),
    actions: fromJson<IncidentActionEntry[]>(row.actions, T, row.id),
    remediationAttempts: detail.remediationAttempts ?? 0,
    ...(row.cause !== null ? { cause: row.cause } : {}),
    ...(row.outcome !== null ? { outcome: row.outcome } : {}),
    ...(row.resolved_at !== null ? { resolvedAt: row.resolved_at } : {}),
  };
}

const detailJson = (
  r: Pick<IncidentRecord, 'detail' | 'data' | 'occurrences' | 'lastSeenAt' | 'remediationAttempts'>,
) =>
  toJson(
    {
      text: r.detail,
      data: r.data,
      occurrences: r.occurrences,
      lastSeenAt: r.lastSeenAt,
      remediationAttempts: r.remediationAttempts,
    } satisfies DetailJson,
    `incident detail`,
  );

export class IncidentRepo {
  private readonly sql: StatementCache;
  private readonly openTx: (incident: NewIncident) => IncidentOpenResult;
  private readonly updateTx: (id: string, patch: IncidentPatch, at: number) => IncidentRecord;

  constructor(db: Database) {
    this.sql = new StatementCache(db);
    const open = db.transaction(this.openRow.bind(this));
    this.openTx = (incident) => open.immediate(incident);
    const update = db.transaction(this.updateRow.bind(this));
    this.updateTx = (id, patch, at) => update.immediate(id, patch, at);
  }

  /**
   * Opens an incident, unless one with the same dedupe key is still open: then that one is returned
   * (`created: false`) and nothing is written. Opening a `resolved` incident records it without deduplication.
   */
  open(incident: NewIncident): IncidentOpenResult {
    try {
      return this.openTx(incident);
    } catch (err) {
      // Another connection opened the same key between our read and our write: theirs stands.
      const existing = isUniqueViolation(err) ? this.findOpenByDedupeKey(incident.dedupeKey) : undefined;
      if (existing) return { incident: existing, created: false };
      throw err;
    }
  }

  /** Applies `patch` at time `at`; returns the incident as stored. */
  update(id: string, patch: IncidentPatch, at: number): IncidentRecord {
    return this.updateTx(id, patch, at);
  }

  get(id: string): IncidentRecord | undefined {
    const row = this.sql.get<IncidentRow>(`SELECT ${COLUMNS} FROM ${T} WHERE id = ?`).get(id);
    return row ? toRecord(row) : undefined;
  }

  /** The incident not yet resolved with this dedupe key, if any. */
  findOpenByDedupeKey(dedupeKey: string): IncidentRecord | undefined {
    const row = this.sql
      .get<IncidentRow>(`SELECT ${COLUMNS} FROM ${T} WHERE dedupe_key = ? AND ${OPEN}`)
      .get(dedupeKey);
    return row ? toRecord(row) : undefined;
  }

  /** Incidents matching every given field, newest first (`offset` rows skipped, at most `limit`). */
  list(filter: IncidentFilter = {}): IncidentRecord[] {
    const where = this.where(filter);
    const limit = filter.limit !== undefined || filter.offset !== undefined ? ' LIMIT ? OFFSET ?' : '';
    const params = limit ? [...where.params, filter.limit ?? -1, filter.offset ?? 0] : where.params;
    return this.sql
      .get<IncidentRow>(`SELECT ${COLUMNS} FROM ${T} ${where.sql} ORDER BY opened_at DESC, id${limit}`)
      .all(...params)
      .map(toRecord);
  }

  /** How many incidents match every given field (`limit` and `offset` are ignored). */
  count(filter: IncidentFilter = {}): number {
    const where = this.where(filter);
    const row = this.sql.get<{ n: number }>(`SELECT count(*) AS n FROM ${T} ${where.sql}`).get(...where.params);
    return row?.n ?? 0;
  }

  /** Incidents not yet resolved, counted by kind and severity. */
  openCounts(): OpenIncidentCount[] {
    return this.sql
      .get<OpenIncidentCount>(
        `SELECT kind, severity, count(*) AS count FROM ${T} WHERE ${OPEN} GROUP BY kind, severity
         ORDER BY kind, severity`,
      )
      .all();
  }

  private where(filter: IncidentFilter): Where {
    const where = new Where().eq(filter.subject, 'subject = ?').eq(filter.kind, 'kind = ?');
    if (filter.status !== undefined) {
      const statuses = typeof filter.status === 'string' ? [filter.status] : filter.status;
      where.add('status IN (SELECT value FROM json_each(?))', JSON.stringify(statuses));
    }
    return where;
  }

  /** Incidents not yet resolved (open, remediating, escalated), oldest first: the ones to restore actors for. */
  listOpen(): IncidentRecord[] {
    return this.sql
      .get<IncidentRow>(`SELECT ${COLUMNS} FROM ${T} WHERE ${OPEN} ORDER BY opened_at, id`)
      .all()
      .map(toRecord);
  }

  private openRow(incident: NewIncident): IncidentOpenResult {
    const status = incident.status ?? 'open';
    if (status !== RESOLVED) {
      const existing = this.findOpenByDedupeKey(incident.dedupeKey);
      if (existing) return { incident: existing, created: false };
    }
    const record: IncidentRecord = {
      id: incident.id,
      kind: incident.kind,
      subject: incident.subject,
      dedupeKey: incident.dedupeKey,
      severity: incident.severity,
      status,
      openedAt: incident.openedAt,
      updatedAt: incident.openedAt,
      lastSeenAt: incident.openedAt,
      occurrences: 1,
      detail: incident.detail,
      ...(incident.data !== undefined ? { data: incident.data } : {}),
      actions: [],
      remediationAttempts: 0,
      ...(incident.cause !== undefined ? { cause: incident.cause } : {}),
      ...(status === RESOLVED ? { resolvedAt: incident.openedAt } : {}),
    };
    this.sql
      .get(`INSERT INTO ${T} (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(
        record.id,
        record.kind,
        record.subject,
        record.dedupeKey,
        record.severity,
        record.status,
        record.openedAt,
        record.updatedAt,
        record.resolvedAt ?? null,
        detailJson(record),
        toJson(record.actions, 'incident actions'),
        record.cause ?? null,
        null,
      );
    return { incident: record, created: true };
  }

  private updateRow(id: string, patch: IncidentPatch, at: number): IncidentRecord {
    const current = this.get(id);
    if (!current) throw new IncidentNotFoundError(id);
    if (current.status === RESOLVED && patch.status !== undefined && patch.status !== RESOLVED) {
      throw new IncidentResolvedError(id);
    }
    const status = patch.status ?? current.status;
    const resolvedAt =
      status === RESOLVED ? (patch.resolvedAt ?? current.resolvedAt ?? at) : (patch.resolvedAt ?? current.resolvedAt);
    const data = patch.data === null ? undefined : (patch.data ?? current.data);
    const next: IncidentRecord = {
      ...current,
      status,
      severity: patch.severity ?? current.severity,
      detail: patch.detail ?? current.detail,
      data,
      occurrences: patch.occurrences ?? current.occurrences,
      lastSeenAt: patch.lastSeenAt ?? current.lastSeenAt,
      remediationAttempts: patch.remediationAttempts ?? current.remediationAttempts,
      actions: patch.actions ? [...patch.actions] : current.actions,
      cause: patch.cause === null ? undefined : (patch.cause ?? current.cause),
      outcome: patch.outcome === null ? undefined : (patch.outcome ?? current.outcome),
      resolvedAt,
      updatedAt: at,
    };
    this.sql
      .get(
        `UPDATE ${T} SET severity = ?, status = ?, updated_at = ?, resolved_at = ?, detail = ?, actions = ?,
           cause = ?, outcome = ? WHERE id = ?`,
      )
      .run(
        next.severity,
        next.status,
        next.updatedAt,
        next.resolvedAt ?? null,
        detailJson(next),
        toJson(next.actions, 'incident actions'),
        next.cause ?? null,
        next.outcome ?? null,
        id,
      );
    return this.get(id) as IncidentRecord;
  }
}
