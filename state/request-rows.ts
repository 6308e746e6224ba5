// The requests table's rows as SQLite returns them, and their decoding into RequestRecords with their status
// histories (rows -> records). RequestRepo's reads return them; its writes (state/request-writes.ts) store them.
import type { Action, Decision, RequestSpec, RequestStatus, Role, StatusChange } from '../machines/types';
import { fromJson } from './json';
import type { RequestRecord } from './request-repo';
import { jsonList, type StatementCache } from './statements';
import { TABLES } from './tables';

/** A requests row. */
export interface RequestRow {
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

/** A request status history row. */
interface HistoryRow {
  request_id: string;
  status: string;
  at: number;
  by: string | null;
  note: string | null;
}

const T = TABLES;
/** The requests table's columns, in the order an insert of a whole row binds them. */
export const COLUMNS = `id, action, cluster, vmid, params, force, requester_id, requester_role, origin, status, decision,
  reasons, checks, task_ids, idempotency_key, submitted_at, updated_at, error, requester_name, requester_person,
  selector, node, parent_id, members`;

/** Records for `rows` with their histories, read in one query. */
export function withHistory(stmts: StatementCache, rows: RequestRow[]): RequestRecord[] {
  if (rows.length === 0) return [];
  const histories = new Map<string, StatusChange[]>();
  const historyRows = stmts
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
  return rows.map((row) => record(row, histories.get(row.id) ?? []));
}

/** The record a row holds, with its `history`. */
function record(row: RequestRow, history: StatusChange[]): RequestRecord {
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
