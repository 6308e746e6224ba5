// The write paths of RequestRepo (state/request-repo.ts): the bodies of its transactions, each writing a request's
// row and its history rows together, and the statements they run. Nothing here opens a transaction of its own.
import type { RequestSpec, RequestStatus, StatusChange } from '../machines/types';
import { RequestNotFoundError } from './errors';
import { toJson } from './json';
import type { RequestPatch, RequestRecord, RequestUpdateResult } from './request-repo';
import { COLUMNS, type RequestRow } from './request-rows';
import type { StatementCache } from './statements';
import { TABLES } from './tables';

const T = TABLES;
/** One `?` per column, for an insert of a whole row. */
const ROW_PARAMETERS = COLUMNS.split(',').fill('?').join(', ');

/** Run inside the transactions RequestRepo's constructor builds (it binds these methods). */
export class RequestWrites {
  constructor(private readonly stmts: StatementCache) {}

  /** RequestRepo.insert()'s rows. */
  insertRows(spec: RequestSpec, status: RequestStatus, idempotencyKey: string | undefined): RequestRecord {
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

  /** RequestRepo.insertWithChanges()'s rows. */
  insertChangedRows(
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

  /** RequestRepo.update()'s rows. */
  updateRows(id: string, patch: RequestPatch, at: number): RequestUpdateResult {
    const current = this.currentRow(id);
    const previousStatus = current.status as RequestStatus;
    const status = patch.status ?? previousStatus;
    this.writeRow(id, current, status, patch, at);
    const statusChanged = status !== previousStatus;
    if (statusChanged) this.appendHistory(id, { status, at, by: patch.by, note: patch.note });
    return { previousStatus, status, statusChanged };
  }

  /** RequestRepo.applyChanges()'s rows. */
  applyRows(id: string, changes: readonly StatusChange[], patch: RequestPatch, at: number): void {
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
}
