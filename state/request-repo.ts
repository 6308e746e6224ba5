// Requests: the spec as submitted, the gate's decision with every check, platform task ids, and the status
// history. A row and its history rows are always written together (state/request-writes.ts); rows are read back as
// records by state/request-rows.ts.
import type { Database } from 'better-sqlite3';
import {
  type Action,
  type BulkMember,
  type CheckResult,
  type Decision,
  REQUEST_STATUSES,
  type RequestSpec,
  type RequestStatus,
  type StatusChange,
  TERMINAL_REQUEST_STATUSES,
} from '../machines/types';
import { DuplicateRequestError } from './errors';
import { COLUMNS, type RequestRow, withHistory } from './request-rows';
import { RequestWrites } from './request-writes';
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

const T = TABLES;
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
    const writes = new RequestWrites(this.stmts);
    const insert = db.transaction(writes.insertRows.bind(writes));
    this.insertTx = (spec, status, key) => insert.immediate(spec, status, key);
    const update = db.transaction(writes.updateRows.bind(writes));
    this.updateTx = (id, patch, at) => update.immediate(id, patch, at);
    const apply = db.transaction(writes.applyRows.bind(writes));
    this.applyTx = (id, changes, patch, at) => apply.immediate(id, changes, patch, at);
    const insertChanged = db.transaction(writes.insertChangedRows.bind(writes));
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
    return row && withHistory(this.stmts, [row])[0];
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
    return withHistory(this.stmts, rows);
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
    return withHistory(this.stmts, rows);
  }

  findByIdempotencyKey(requesterId: string, key: string): RequestRecord | undefined {
    const row = this.stmts
      .get<RequestRow>(`SELECT ${COLUMNS} FROM ${T.requests} WHERE requester_id = ? AND idempotency_key = ?`)
      .get(requesterId, key);
    return row && withHistory(this.stmts, [row])[0];
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
}
