// Labs: the record that outlives a restart besides the lab actor's own snapshot (kept in actor_snapshots under
// labActorId): the file and its parsed spec, the machine's state name, what the lab created on the platform, its
// members, who asked for it, and a status history. A row and its history rows are always written together.
import type { Database } from 'better-sqlite3';
import type { StateValueFrom } from 'xstate';
import type { CreatedThing, MemberPhase, MemberState } from '../machines/lab/lab-types';
import type { LabSpec } from '../machines/lab/spec';
import type { LabMachine } from '../machines/lab.machine';
import type { Requester, Role } from '../machines/types';
import { StateError } from './errors';
import { fromJson, toJson } from './json';
import { jsonList, StatementCache, Where } from './statements';
import { TABLES } from './tables';

/** The lab machine's state names: a lab's status. */
export type LabStatus = Extract<StateValueFrom<LabMachine>, string>;

/** The lab machine's final states: a lab in one of them has ended (its name may be used again on its cluster). */
export const LAB_ENDED_STATUSES: readonly LabStatus[] = ['denied', 'cancelled', 'expired', 'rolled_back', 'destroyed'];
const ENDED = new Set<string>(LAB_ENDED_STATUSES);

/** Kind of the lab actors' rows in actor_snapshots. */
export const LAB_SNAPSHOT_KIND = 'lab';

/** The lab actor's id, under which its persisted snapshot is saved (store.snapshots): `lab:<cluster>/<name>`. */
export const labActorId = (cluster: string, name: string): string => `lab:${cluster}/${name}`;

/** Where one member of a lab is. */
export interface LabMemberRef {
  vmid?: number | undefined;
  node?: string | undefined;
  phase?: MemberPhase | undefined;
}

/** A stored lab. */
export interface LabRecord {
  /** The row's own id: a lab name used again after its lab ended is a new row. */
  id: number;
  name: string;
  cluster: string;
  /** The lab file's text as submitted (YAML or JSON). */
  file: string;
  spec: LabSpec;
  status: LabStatus;
  /** Everything the lab created and has not removed, in order of creation. */
  created: CreatedThing[];
  /** Member name → where it is. */
  members: Record<string, LabMemberRef>;
  requester: Requester;
  createdAt: number;
  updatedAt: number;
  /** When it reached a final state (destroyed, rolled back, denied, ...). */
  endedAt: number | undefined;
  error: string | undefined;
}

export interface NewLab {
  file: string;
  /** Its name and cluster are the lab's. */
  spec: LabSpec;
  status: LabStatus;
  requester: Requester;
  createdAt: number;
  created?: CreatedThing[] | undefined;
  members?: Record<string, LabMemberRef> | undefined;
  error?: string | undefined;
}

/**
 * Changes to a lab. An absent (undefined) field is left as it is; `null` clears the error. When `status` differs
 * from the stored one a history row is appended, carrying `by` and `note`; a final status sets `endedAt`.
 */
export interface LabPatch {
  status?: LabStatus | undefined;
  /** An edited lab file: give its text and its spec together. The spec must keep the lab's name and cluster. */
  file?: string | undefined;
  spec?: LabSpec | undefined;
  created?: CreatedThing[] | undefined;
  members?: Record<string, LabMemberRef> | undefined;
  error?: string | null | undefined;
  /** Who caused the status change (a requester id, or 'overseer'). */
  by?: string | undefined;
  note?: string | undefined;
}

export interface LabUpdateResult {
  previousStatus: LabStatus;
  status: LabStatus;
  statusChanged: boolean;
  endedAt: number | undefined;
}

export interface LabStatusChange {
  status: LabStatus;
  at: number;
  by?: string | undefined;
  note?: string | undefined;
}

export interface LabFilter {
  cluster?: string | undefined;
  status?: LabStatus | readonly LabStatus[] | undefined;
  /** true: only labs not ended; false: only ended ones. */
  live?: boolean | undefined;
  /** Most rows returned (newest first). */
  limit?: number | undefined;
  /** Rows skipped before the first one returned (with `limit`: a page). */
  offset?: number | undefined;
}

/** A live lab of that name is already on the cluster. */
export class DuplicateLabError extends StateError {
  override name = 'DuplicateLabError';
  constructor(
    readonly cluster: string,
    readonly lab: string,
    /** The status of the live lab that holds the name. */
    readonly existingStatus: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(
      `lab '${lab}' already exists on cluster '${cluster}'${existingStatus ? ` (${existingStatus})` : ''}`,
      options,
    );
  }
}

export class LabNotFoundError extends StateError {
  override name = 'LabNotFoundError';
  constructor(
    readonly cluster: string,
    readonly lab: string,
  ) {
    super(`lab '${lab}' does not exist on cluster '${cluster}'`);
  }
}

/** A lab that ended keeps its final status. */
export class LabEndedError extends StateError {
  override name = 'LabEndedError';
  constructor(
    readonly cluster: string,
    readonly lab: string,
    readonly status: string,
    readonly requested: string,
  ) {
    super(`lab '${lab}' on cluster '${cluster}' has ended (${status}); its status cannot become '${requested}'`);
  }
}

/** An edited spec names another lab or cluster than the lab it is stored for. */
export class LabIdentityError extends StateError {
  override name = 'LabIdentityError';
  constructor(
    readonly cluster: string,
    readonly lab: string,
    readonly specCluster: string,
    readonly specName: string,
  ) {
    super(`lab '${lab}' on cluster '${cluster}' cannot take a spec of lab '${specName}' on cluster '${specCluster}'`);
  }
}

/** The members of a lab actor's context as the record keeps them. */
export function labMembersOf(members: Readonly<Record<string, MemberState>>): Record<string, LabMemberRef> {
  const out: Record<string, LabMemberRef> = {};
  for (const [name, m] of Object.entries(members)) {
    const ref: LabMemberRef = { phase: m.phase };
    if (m.vmid !== undefined) ref.vmid = m.vmid;
    if (m.node !== undefined) ref.node = m.node;
    out[name] = ref;
  }
  return out;
}

interface LabRow {
  id: number;
  cluster: string;
  name: string;
  file: string;
  spec: string;
  status: string;
  created: string;
  members: string;
  requester_id: string;
  requester_role: string;
  requester_name: string | null;
  requester_person: string | null;
  created_at: number;
  updated_at: number;
  ended_at: number | null;
  error: string | null;
}

interface EventRow {
  status: string;
  at: number;
  by: string | null;
  note: string | null;
}

const T = TABLES;
const COLUMNS = `id, cluster, name, file, spec, status, created, members, requester_id, requester_role, requester_name,
  requester_person, created_at, updated_at, ended_at, error`;
/** The row a (cluster, name) means: the live lab, else the newest that ended. */
const CURRENT = `SELECT ${COLUMNS} FROM ${T.labs} WHERE cluster = ? AND name = ?
  ORDER BY ended_at IS NULL DESC, id DESC LIMIT 1`;

const isSqliteCode = (err: unknown, code: string): boolean =>
  err instanceof Error && (err as Error & { code?: unknown }).code === code;

export class LabRepo {
  private readonly stmts: StatementCache;
  private readonly insertTx: (lab: NewLab) => LabRecord;
  private readonly updateTx: (cluster: string, name: string, patch: LabPatch, at: number) => LabUpdateResult;

  constructor(db: Database) {
    this.stmts = new StatementCache(db);
    const insert = db.transaction(this.insertRows.bind(this));
    this.insertTx = (lab) => insert.immediate(lab);
    const update = db.transaction(this.updateRows.bind(this));
    this.updateTx = (cluster, name, patch, at) => update.immediate(cluster, name, patch, at);
  }

  /**
   * Stores a new lab with its first history entry (its status at `createdAt`, by the requester). Throws
   * DuplicateLabError when a live lab of the same name is on the cluster.
   */
  insert(lab: NewLab): LabRecord {
    try {
      return this.insertTx(lab);
    } catch (err) {
      if (isSqliteCode(err, 'SQLITE_CONSTRAINT_UNIQUE')) {
        const existing = this.get(lab.spec.cluster, lab.spec.name);
        throw new DuplicateLabError(lab.spec.cluster, lab.spec.name, existing?.status, { cause: err });
      }
      throw err;
    }
  }

  /** Applies `patch` at time `at` in one transaction. Throws LabNotFoundError for an unknown lab. */
  update(cluster: string, name: string, patch: LabPatch, at: number): LabUpdateResult {
    return this.updateTx(cluster, name, patch, at);
  }

  /** The live lab of that name on the cluster, else the newest one that ended. */
  get(cluster: string, name: string): LabRecord | undefined {
    const row = this.stmts.get<LabRow>(CURRENT).get(cluster, name);
    return row && toRecord(row);
  }

  /** Labs matching every given field, newest first. */
  list(filter: LabFilter = {}): LabRecord[] {
    const where = whereOf(filter);
    // LIMIT -1: no limit (SQLite), so an offset alone works too.
    const page = filter.limit !== undefined || filter.offset !== undefined ? ' LIMIT ? OFFSET ?' : '';
    const params = page ? [...where.params, filter.limit ?? -1, filter.offset ?? 0] : where.params;
    return this.stmts
      .get<LabRow>(`SELECT ${COLUMNS} FROM ${T.labs} ${where.sql} ORDER BY created_at DESC, id DESC${page}`)
      .all(...params)
      .map(toRecord);
  }

  /** How many labs match every given field (`limit` and `offset` are ignored). */
  count(filter: LabFilter = {}): number {
    const where = whereOf(filter);
    const row = this.stmts.get<{ n: number }>(`SELECT count(*) AS n FROM ${T.labs} ${where.sql}`).get(...where.params);
    return row?.n ?? 0;
  }

  /** Labs not ended, oldest first: the ones to restore at start. */
  live(): LabRecord[] {
    return this.stmts
      .get<LabRow>(`SELECT ${COLUMNS} FROM ${T.labs} WHERE ended_at IS NULL ORDER BY created_at, id`)
      .all()
      .map(toRecord);
  }

  /** Every status the lab (as get() finds it) went through, oldest first; empty for an unknown lab. */
  history(cluster: string, name: string): LabStatusChange[] {
    const current = this.stmts.get<LabRow>(CURRENT).get(cluster, name);
    if (!current) return [];
    return this.stmts
      .get<EventRow>(`SELECT status, at, by, note FROM ${T.labEvents} WHERE lab_id = ? ORDER BY seq`)
      .all(current.id)
      .map(({ status, at, by, note }) => ({
        status: status as LabStatus,
        at,
        ...(by !== null ? { by } : {}),
        ...(note !== null ? { note } : {}),
      }));
  }

  // ---- writes (run inside the transactions built in the constructor) ---------------------------------------

  private insertRows(lab: NewLab): LabRecord {
    const { spec, requester } = lab;
    const endedAt = ENDED.has(lab.status) ? lab.createdAt : null;
    const { lastInsertRowid } = this.stmts
      .get(
        `INSERT INTO ${T.labs} (cluster, name, file, spec, status, created, members, requester_id, requester_role,
           requester_name, requester_person, created_at, updated_at, ended_at, error)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        spec.cluster,
        spec.name,
        lab.file,
        toJson(spec, 'lab spec'),
        lab.status,
        toJson(lab.created ?? [], 'lab created things'),
        toJson(lab.members ?? {}, 'lab members'),
        requester.id,
        requester.role,
        requester.name ?? null,
        requester.person ?? null,
        lab.createdAt,
        lab.createdAt,
        endedAt,
        lab.error ?? null,
      );
    const id = Number(lastInsertRowid);
    this.appendEvent(id, { status: lab.status, at: lab.createdAt, by: requester.id });
    return toRecord(this.stmts.get<LabRow>(`SELECT ${COLUMNS} FROM ${T.labs} WHERE id = ?`).get(id)!);
  }

  private updateRows(cluster: string, name: string, patch: LabPatch, at: number): LabUpdateResult {
    const current = this.stmts.get<LabRow>(CURRENT).get(cluster, name);
    if (!current) throw new LabNotFoundError(cluster, name);
    if (patch.spec && (patch.spec.cluster !== cluster || patch.spec.name !== name)) {
      throw new LabIdentityError(cluster, name, patch.spec.cluster, patch.spec.name);
    }
    const previousStatus = current.status as LabStatus;
    const status = patch.status ?? previousStatus;
    const statusChanged = status !== previousStatus;
    if (statusChanged && current.ended_at !== null) throw new LabEndedError(cluster, name, previousStatus, status);
    const endedAt = current.ended_at ?? (ENDED.has(status) ? at : null);
    this.stmts
      .get(
        `UPDATE ${T.labs} SET status = ?, file = ?, spec = ?, created = ?, members = ?, error = ?, updated_at = ?,
           ended_at = ? WHERE id = ?`,
      )
      .run(
        status,
        patch.file ?? current.file,
        patch.spec === undefined ? current.spec : toJson(patch.spec, 'lab spec'),
        patch.created === undefined ? current.created : toJson(patch.created, 'lab created things'),
        patch.members === undefined ? current.members : toJson(patch.members, 'lab members'),
        patch.error === undefined ? current.error : patch.error,
        at,
        endedAt,
        current.id,
      );
    if (statusChanged) this.appendEvent(current.id, { status, at, by: patch.by, note: patch.note });
    return { previousStatus, status, statusChanged, endedAt: endedAt ?? undefined };
  }

  private appendEvent(id: number, change: LabStatusChange): void {
    this.stmts
      .get(
        `INSERT INTO ${T.labEvents} (lab_id, seq, status, at, by, note)
         VALUES (?, (SELECT coalesce(max(seq), 0) + 1 FROM ${T.labEvents} WHERE lab_id = ?), ?, ?, ?, ?)`,
      )
      .run(id, id, change.status, change.at, change.by ?? null, change.note ?? null);
  }
}

function whereOf(filter: LabFilter): Where {
  const where = new Where().eq(filter.cluster, 'cluster = ?');
  if (filter.status !== undefined) {
    const statuses = typeof filter.status === 'string' ? [filter.status] : filter.status;
    where.add('status IN (SELECT value FROM json_each(?))', jsonList(statuses));
  }
  if (filter.live !== undefined) where.add(filter.live ? 'ended_at IS NULL' : 'ended_at IS NOT NULL');
  return where;
}

function toRecord(row: LabRow): LabRecord {
  const table = T.labs;
  const key = `${row.cluster}/${row.name}#${row.id}`;
  return {
    id: row.id,
    name: row.name,
    cluster: row.cluster,
    file: row.file,
    spec: fromJson(row.spec, table, key),
    status: row.status as LabStatus,
    created: fromJson(row.created, table, key),
    members: fromJson(row.members, table, key),
    requester: {
      id: row.requester_id,
      role: row.requester_role as Role,
      ...(row.requester_name !== null ? { name: row.requester_name } : {}),
      ...(row.requester_person !== null ? { person: row.requester_person } : {}),
    },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    endedAt: row.ended_at ?? undefined,
    error: row.error ?? undefined,
  };
}
