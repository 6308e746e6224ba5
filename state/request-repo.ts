// Requests: the spec as submitted, the gate's decision with every check, platform task ids, and the status
// history. A row and its history rows are always written together.
import type { Database } from 'better-sqlite3';
import {
  type Action,
  type BulkMember,
  type CheckResult,
  type Decision,
  REQUEST_STATUSES,
  type RequestSpec,
  type RequestStatus,
  type Role,
  type StatusChange,
  TERMINAL_REQUEST_STATUSES,
} from '../machines/types';
import { DuplicateRequestError, RequestNotFoundError } from './errors';
import { fromJson, toJson } from './json';
import { jsonList, StatementCache, Where } from './statements';
import { TABLES } from './tables';

/** A platform task started for a request (a PVE UPID and the node that runs it). */
export interface TaskRef {
  upid: string;
  node: string;
  /** The VM the task worked on (for a clone: the VMID it created). */
  vmid?: number | undefined;
}

/** A stored request: its spec plus everything that happened to it. */
export interface RequestRecord extends RequestSpec {
  origin: 'human' | 'overseer';
  status: RequestStatus;
  decision: Decision | undefined;
  reasons: string[];
  checks: CheckResult[];
  taskIds: TaskRef[];
  idempotencyKey: string | undefined;
  updatedAt: number;
  error: string | undefined;
  /** Every status it went through, oldest first; the first entry is the status it was inserted with. */
  history: StatusChange[];
  /** A bulk request's members as decided. */
  members: BulkMember[] | undefined;
}

/**
 * Changes to a request. An absent (undefined) field is left as it is; `null` clears decision or error.
 * When `status` differs from the stored one a history row is appended, carrying `by` and `note`.
 */
export interface RequestPatch {
  status?: RequestStatus | undefined;
  decision?: Decision | null | undefined;
  reasons?: string[] | undefined;
  checks?: CheckResult[] | undefined;
  taskIds?: TaskRef[] | undefined;
  error?: string | null | undefined;
  /** A bulk request's members as the gate expanded them. */
  members?: BulkMember[] | undefined;
  /** Who caused the status change (a requester id, or 'overseer'). */
  by?: string | undefined;
  note?: string | undefined;
}

export interface RequestUpdateResult {
  previousStatus: RequestStatus;
  status: RequestStatus;
  statusChanged: boolean;
}

export interface RequestFilter {
  status?: RequestStatus | readonly RequestStatus[] | undefined;
  /** Requester id. */
  requester?: string | undefined;
  action?: Action | undefined;
  cluster?: string | undefined;
  /** Only requests whose id starts with this. */
  idPrefix?: string | undefined;
  /** Only the children of this bulk request. */
  parent?: string | undefined;
  /** Only requests about this guest (with `cluster`): its target, or a member a bulk request lists. */
  vmid?: number | undefined;
  /** Most rows returned (newest first). */
  limit?: number | undefined;
  /** Rows skipped before the first one returned (with `limit`: a page). */
  offset?: number | undefined;
}

interface RequestRow {
  id: string;
  action: string;
  cluster: string;
  vmid: number | null;
  params: string;
  force: number;
  requester_id: string;
  requester_role: string;
  requester_name: string | null;
  requester_person: string | null;
  origin: string;
  status: string;
  decision: string | null;
  reasons: string;
  checks: string;
  task_ids: string;
  idempotency_key: string | null;
  submitted_at: number;
  updated_at: number;
  error: string | null;
  selector: string | null;
  node: string | null;
  parent_id: string | null;
  members: string | null;
}

interface HistoryRow {
  request_id: string;
  status: string;
  at: number;
  by: string | null;
  note: string | null;
}

const T = TABLES;
const COLUMNS = `id, action, cluster, vmid, params, force, requester_id, requester_role, origin, status, decision,
  reasons, checks, task_ids, idempotency_key, submitted_at, updated_at, error, requester_name, requester_person,
  selector, node, parent_id, members`;
/** One `?` per column, for an insert of a whole row. */
const ROW_PARAMETERS = COLUMNS.split(',').fill('?').join(', ');
const ACTIVE_STATUSES = REQUEST_STATUSES.filter((s) => !TERMINAL_REQUEST_STATUSES.has(s));

const isSqliteCode = (err: unknown, code: string): boolean =>
  err instanceof Error && (err as Error & { code?: unknown }).code === code;

export class RequestRepo {
  private readonly stmts: StatementCache;
  private readonly insertTx: (spec: RequestSpec, status: RequestStatus, key: string | undefined) => RequestRecord;
  private readonly updateTx: (id: string, patch: RequestPatch, at: number) => RequestUpdateResult;
  private readonly applyTx: (id: string, changes: readonly StatusChange[], patch: RequestPatch, at: number) => void;
  private readonly insertChangedTx: (
    spec: RequestSpec,
    key: string | undefined,
    changes: readonly StatusChange[],
    patch: RequestPatch,
    at: number,
  ) => void;

  constructor(db: Database) {
    this.stmts = new StatementCache(db);
    const insert = db.transaction(this.insertRows.bind(this));
    this.insertTx = (spec, status, key) => insert.immediate(spec, status, key);
    const update = db.transaction(this.updateRows.bind(this));
    this.updateTx = (id, patch, at) => update.immediate(id, patch, at);
    const apply = db.transaction(this.applyRows.bind(this));
    this.applyTx = (id, changes, patch, at) => apply.immediate(id, changes, patch, at);
    const insertChanged = db.transaction(this.insertChangedRows.bind(this));
    this.insertChangedTx = (spec, key, changes, patch, at) => insertChanged.immediate(spec, key, changes, patch, at);
  }

  /**
   * Stores a new request with its first history entry (status `status` at `spec.submittedAt`, by the requester).
   * Throws DuplicateRequestError when the id, or the requester's idempotency key, is already stored.
   */
  insert(spec: RequestSpec, status: RequestStatus, idempotencyKey?: string): RequestRecord {
    return this.mapDuplicate(spec, idempotencyKey, () => this.insertTx(spec, status, idempotencyKey));
  }

  /** `write`'s result; a constraint it broke as the DuplicateRequestError that names the id or idempotency key. */
  private mapDuplicate<T>(spec: RequestSpec, idempotencyKey: string | undefined, write: () => T): T {
    try {
      return write();
    } catch (err) {
      if (isSqliteCode(err, 'SQLITE_CONSTRAINT_PRIMARYKEY')) {
        throw new DuplicateRequestError(`request ${spec.id} already exists`, 'id', spec.id, { cause: err });
      }
      if (isSqliteCode(err, 'SQLITE_CONSTRAINT_UNIQUE')) {
        const earlier = idempotencyKey ? this.findByIdempotencyKey(spec.requester.id, idempotencyKey) : undefined;
        throw new DuplicateRequestError(
          `requester ${spec.requester.id} already submitted request ${earlier?.id ?? '?'} with idempotency key ${idempotencyKey}`,
          'idempotencyKey',
          earlier?.id ?? spec.id,
          { cause: err },
        );
      }
      throw err;
    }
  }

  /**
   * A new request with the status changes it went through before it was first written, and `patch` (as applyChanges
   * takes them): the same rows as insert(spec, 'received', idempotencyKey) followed by applyChanges(id, changes,
   * patch, at), written as one row insert and its history (nothing read back, no update of the row just written).
   * Throws DuplicateRequestError as insert does.
   */
  insertWithChanges(
    spec: RequestSpec,
    idempotencyKey: string | undefined,
    changes: readonly StatusChange[],
    patch: RequestPatch,
    at: number,
  ): void {
    this.mapDuplicate(spec, idempotencyKey, () => this.insertChangedTx(spec, idempotencyKey, changes, patch, at));
  }

  /** Applies `patch` at time `at` in one transaction. Throws RequestNotFoundError for an unknown id. */
  update(id: string, patch: RequestPatch, at: number): RequestUpdateResult {
    return this.updateTx(id, patch, at);
  }

  /**
   * The status changes a request went through, in order, then `patch` (its `status`, `by` and `note` are ignored),
   * in one transaction: the same rows as one update() per change followed by update(id, patch, at) — a history
   * row for each change to another status, the row itself written once. Throws RequestNotFoundError.
   */
  applyChanges(id: string, changes: readonly StatusChange[], patch: RequestPatch, at: number): void {
    this.applyTx(id, changes, patch, at);
  }

  get(id: string): RequestRecord | undefined {
    const row = this.stmts.get<RequestRow>(`SELECT ${COLUMNS} FROM ${T.requests} WHERE id = ?`).get(id);
    return row && this.withHistory([row])[0];
  }

  /** Requests matching every given field, newest first. */
  list(filter: RequestFilter = {}): RequestRecord[] {
    const where = this.whereOf(filter);
    // LIMIT -1: no limit (SQLite), so an offset alone works too.
    const page = filter.limit !== undefined || filter.offset !== undefined ? ' LIMIT ? OFFSET ?' : '';
    const params = page ? [...where.params, filter.limit ?? -1, filter.offset ?? 0] : where.params;
    const rows = this.stmts
      .get<RequestRow>(`SELECT ${COLUMNS} FROM ${T.requests} ${where.sql} ORDER BY submitted_at DESC, id${page}`)
      .all(...params);
    return this.withHistory(rows);
  }

  /** How many requests match every given field (`limit` and `offset` are ignored). */
  count(filter: RequestFilter = {}): number {
    const where = this.whereOf(filter);
    const row = this.stmts
      .get<{ n: number }>(`SELECT count(*) AS n FROM ${T.requests} ${where.sql}`)
      .get(...where.params);
    return row?.n ?? 0;
  }

  private whereOf(filter: RequestFilter): Where {
    const where = new Where()
      .eq(filter.requester, 'requester_id = ?')
      .eq(filter.action, 'action = ?')
      .eq(filter.cluster, 'cluster = ?')
      .eq(filter.parent, 'parent_id = ?');
    if (filter.status !== undefined) {
      const statuses = typeof filter.status === 'string' ? [filter.status] : filter.status;
      where.add('status IN (SELECT value FROM json_each(?))', jsonList(statuses));
    }
    if (filter.vmid !== undefined) {
      where.add(
        "(vmid = ? OR (members IS NOT NULL AND EXISTS (SELECT 1 FROM json_each(members) WHERE json_extract(value, '$.vmid') = ?)))",
        filter.vmid,
        filter.vmid,
      );
    }
    if (filter.idPrefix) {
      // A range on the primary key (index) rather than LIKE, whose '_' and '%' an id may contain.
      const prefix = filter.idPrefix;
      const upper = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
      where.add('id >= ? AND id < ?', prefix, upper);
    }
    return where;
  }

  /** Requests not yet in a terminal status, oldest first (the order to resume them in). */
  listActive(): RequestRecord[] {
    const rows = this.stmts
      .get<RequestRow>(
        `SELECT ${COLUMNS} FROM ${T.requests} WHERE status IN (SELECT value FROM json_each(?))
         ORDER BY submitted_at, id`,
      )
      .all(jsonList(ACTIVE_STATUSES));
    return this.withHistory(rows);
  }

  findByIdempotencyKey(requesterId: string, key: string): RequestRecord | undefined {
    const row = this.stmts
      .get<RequestRow>(`SELECT ${COLUMNS} FROM ${T.requests} WHERE requester_id = ? AND idempotency_key = ?`)
      .get(requesterId, key);
    return row && this.withHistory([row])[0];
  }

  /** The id of the request that recorded the platform task `upid`, if any (read on restart, not on a hot path). */
  findIdByTaskUpid(upid: string): string | undefined {
    const row = this.stmts
      .get<{ id: string }>(
        `SELECT id FROM ${T.requests} WHERE EXISTS (SELECT 1 FROM json_each(task_ids) WHERE json_extract(value, '$.upid') = ?)`,
      )
      .get(upid);
    return row?.id;
  }

  /** Number of requests per status (of the children of `parent`, when given). */
  countByStatus(filter: { parent?: string | undefined } = {}): Record<string, number> {
    const counts: Record<string, number> = {};
    const where = new Where().eq(filter.parent, 'parent_id = ?');
    const rows = this.stmts
      .get<{ status: string; n: number }>(
        `SELECT status, count(*) AS n FROM ${T.requests} ${where.sql} GROUP BY status`,
      )
      .all(...where.params);
    for (const { status, n } of rows) counts[status] = n;
    return counts;
  }

  // ---- writes (run inside the transactions built in the constructor) ---------------------------------------

  private insertRows(spec: RequestSpec, status: RequestStatus, idempotencyKey: string | undefined): RequestRecord {
    const origin = spec.origin ?? 'human';
    this.insertRow(spec, idempotencyKey, status, {}, spec.submittedAt);
    this.insertHistory(spec.id, 1, { status, at: spec.submittedAt, by: spec.requester.id });
    return {
      ...spec,
      params: spec.params ?? {},
      origin,
      status,
      decision: undefined,
      reasons: [],
      checks: [],
      taskIds: [],
      idempotencyKey,
      updatedAt: spec.submittedAt,
      error: undefined,
      history: [{ status, at: spec.submittedAt, by: spec.requester.id }],
      members: undefined,
    };
  }

  private insertChangedRows(
    spec: RequestSpec,
    idempotencyKey: string | undefined,
    changes: readonly StatusChange[],
    patch: RequestPatch,
    at: number,
  ): void {
    // The history as insert() then applyChanges() leave it: `received`, then each change to another status.
    const history: StatusChange[] = [{ status: 'received', at: spec.submittedAt, by: spec.requester.id }];
    for (const change of changes) {
      if (change.status !== history[history.length - 1]?.status) history.push(change);
    }
    const last = history[history.length - 1] as StatusChange;
    this.insertRow(spec, idempotencyKey, last.status, patch, at);
    for (let i = 0; i < history.length; i++) this.insertHistory(spec.id, i + 1, history[i] as StatusChange);
  }

  /** A new request's row, in `status`, with what `patch` sets (its status, by and note aside). */
  private insertRow(
    spec: RequestSpec,
    idempotencyKey: string | undefined,
    status: RequestStatus,
    patch: RequestPatch,
    at: number,
  ): void {
    this.stmts
      .get(`INSERT INTO ${T.requests} (${COLUMNS}) VALUES (${ROW_PARAMETERS})`)
      .run(
        spec.id,
        spec.action,
        spec.target.cluster,
        spec.target.vmid ?? null,
        toJson(spec.params ?? {}, 'request params'),
        spec.force ? 1 : 0,
        spec.requester.id,
        spec.requester.role,
        spec.origin ?? 'human',
        status,
        patch.decision ?? null,
        patch.reasons === undefined ? '[]' : toJson(patch.reasons, 'request reasons'),
        patch.checks === undefined ? '[]' : toJson(patch.checks, 'request checks'),
        patch.taskIds === undefined ? '[]' : toJson(patch.taskIds, 'request task ids'),
        idempotencyKey ?? null,
        spec.submittedAt,
        at,
        patch.error ?? null,
        spec.requester.name ?? null,
        spec.requester.person ?? null,
        spec.target.selector ?? null,
        spec.target.node ?? null,
        spec.parent ?? null,
        patch.members === undefined ? null : toJson(patch.members, 'request members'),
      );
  }

  private updateRows(id: string, patch: RequestPatch, at: number): RequestUpdateResult {
    const current = this.currentRow(id);
    const previousStatus = current.status as RequestStatus;
    const status = patch.status ?? previousStatus;
    this.writeRow(id, current, status, patch, at);
    const statusChanged = status !== previousStatus;
    if (statusChanged) this.appendHistory(id, { status, at, by: patch.by, note: patch.note });
    return { previousStatus, status, statusChanged };
  }

  private applyRows(id: string, changes: readonly StatusChange[], patch: RequestPatch, at: number): void {
    const current = this.currentRow(id);
    let status = current.status as RequestStatus;
    for (const change of changes) {
      if (change.status === status) continue;
      status = change.status;
      this.appendHistory(id, change);
    }
    this.writeRow(id, current, status, patch, at);
  }

  private currentRow(
    id: string,
  ): Pick<RequestRow, 'status' | 'decision' | 'reasons' | 'checks' | 'task_ids' | 'error' | 'members'> {
    const current = this.stmts
      .get<Pick<RequestRow, 'status' | 'decision' | 'reasons' | 'checks' | 'task_ids' | 'error' | 'members'>>(
        `SELECT status, decision, reasons, checks, task_ids, error, members FROM ${T.requests} WHERE id = ?`,
      )
      .get(id);
    if (!current) throw new RequestNotFoundError(id);
    return current;
  }

  private writeRow(
    id: string,
    current: Pick<RequestRow, 'decision' | 'reasons' | 'checks' | 'task_ids' | 'error' | 'members'>,
    status: RequestStatus,
    patch: RequestPatch,
    at: number,
  ): void {
    this.stmts
      .get(
        `UPDATE ${T.requests} SET status = ?, decision = ?, reasons = ?, checks = ?, task_ids = ?, error = ?,
           members = ?, updated_at = ? WHERE id = ?`,
      )
      .run(
        status,
        patch.decision === undefined ? current.decision : patch.decision,
        patch.reasons === undefined ? current.reasons : toJson(patch.reasons, 'request reasons'),
        patch.checks === undefined ? current.checks : toJson(patch.checks, 'request checks'),
        patch.taskIds === undefined ? current.task_ids : toJson(patch.taskIds, 'request task ids'),
        patch.error === undefined ? current.error : patch.error,
        patch.members === undefined ? current.members : toJson(patch.members, 'request members'),
        at,
        id,
      );
  }

  /** History entry `seq` of a request (a new request's, whose entries are numbered here). */
  private insertHistory(id: string, seq: number, change: StatusChange): void {
    this.stmts
      .get(`INSERT INTO ${T.requestStatusHistory} (request_id, seq, status, at, by, note) VALUES (?, ?, ?, ?, ?, ?)`)
      .run(id, seq, change.status, change.at, change.by ?? null, change.note ?? null);
  }

  private appendHistory(id: string, change: StatusChange): void {
    this.stmts
      .get(
        `INSERT INTO ${T.requestStatusHistory} (request_id, seq, status, at, by, note)
         VALUES (?, (SELECT coalesce(max(seq), 0) + 1 FROM ${T.requestStatusHistory} WHERE request_id = ?), ?, ?, ?, ?)`,
      )
      .run(id, id, change.status, change.at, change.by ?? null, change.note ?? null);
  }

  // ---- rows -> records -----------------------------------------------------------------------------------------

  /** Records for `rows` with their histories, read in one query. */
  private withHistory(rows: RequestRow[]): RequestRecord[] {
    if (rows.length === 0) return [];
    const histories = new Map<string, StatusChange[]>();
    const historyRows = this.stmts
      .get<HistoryRow>(
        `SELECT request_id, status, at, by, note FROM ${T.requestStatusHistory}
         WHERE request_id IN (SELECT value FROM json_each(?)) ORDER BY request_id, seq`,
      )
      .all(jsonList(rows.map((r) => r.id)));
    for (const h of historyRows) {
      const change: StatusChange = { status: h.status as RequestStatus, at: h.at };
      if (h.by !== null) change.by = h.by;
      if (h.note !== null) change.note = h.note;
      const list = histories.get(h.request_id);
      if (list) list.push(change);
      else histories.set(h.request_id, [change]);
    }
    return rows.map((row) => this.record(row, histories.get(row.id) ?? []));
  }

  private record(row: RequestRow, history: StatusChange[]): RequestRecord {
    const table = T.requests;
    const target: RequestSpec['target'] = { cluster: row.cluster };
    if (row.vmid !== null) target.vmid = row.vmid;
    if (row.selector !== null) target.selector = row.selector;
    if (row.node !== null) target.node = row.node;
    return {
      id: row.id,
      action: row.action as Action,
      target,
      params: fromJson(row.params, table, row.id),
      force: row.force === 1,
      requester: {
        id: row.requester_id,
        role: row.requester_role as Role,
        ...(row.requester_name !== null ? { name: row.requester_name } : {}),
        ...(row.requester_person !== null ? { person: row.requester_person } : {}),
      },
      submittedAt: row.submitted_at,
      origin: row.origin as RequestRecord['origin'],
      status: row.status as RequestStatus,
      decision: (row.decision ?? undefined) as Decision | undefined,
      reasons: fromJson(row.reasons, table, row.id),
      checks: fromJson(row.checks, table, row.id),
      taskIds: fromJson(row.task_ids, table, row.id),
      idempotencyKey: row.idempotency_key ?? undefined,
      updatedAt: row.updated_at,
      error: row.error ?? undefined,
      history,
      members: row.members === null ? undefined : fromJson(row.members, table, row.id),
      ...(row.parent_id !== null ? { parent: row.parent_id } : {}),
    };
  }
}
