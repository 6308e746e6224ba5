// Rows written as the record has them (DESIGN §14): a request with its whole status history, a lab with its events,
// an API token with its hash, each put as-is rather than built up change by change as the owner's repositories do,
// and the marks that say which version of each record entity, and which audit batch of each cluster, this database
// holds. Used by actors/record-entities.ts inside one transaction per entity; nothing here opens its own.
import type { Database } from 'better-sqlite3';
import type { Role } from '../machines/types';
import { StateError } from './errors';
import { fromJson, toJson } from './json';
import type { LabRecord, LabStatus, LabStatusChange } from './lab-repo';
import { META_KEYS } from './meta-repo';
import type { RequestRecord } from './request-repo';
import { StatementCache } from './statements';
import { TABLES } from './tables';
import type { TokenRecord } from './token-repo';

/** Which version of a record entity this database holds, its digest, and the record revision it was at. */
export interface RecordMark {
  version: number;
  digest: string;
  revision: number;
}

/** An api_tokens row with its hash (TokenRecord leaves the hash out). */
export interface TokenRow extends Omit<TokenRecord, 'lastUsedAt'> {
  hash: string;
}

/** A lab row as the record has it: no row id (each database numbers its own). */
export type LabRowValue = Omit<LabRecord, 'id'>;

/** A record entity cannot be put: another row holds what it needs (an idempotency key, a live lab's name, ...). */
export class RecordRowConflictError extends StateError {
  override name = 'RecordRowConflictError';
  constructor(
    message: string,
    readonly table: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const T = TABLES;
const LAB_COLUMNS = `id, cluster, name, file, spec, status, created, members, requester_id, requester_role,
  requester_name, requester_person, created_at, updated_at, ended_at, error`;

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

const isUnique = (err: unknown): boolean =>
  err instanceof Error && (err as Error & { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE';

export class RecordRows {
  private readonly stmts: StatementCache;

  constructor(db: Database) {
    this.stmts = new StatementCache(db);
  }

  // ---- marks ------------------------------------------------------------------------------------------------------

  /** The mark of a record key, if this database holds a version of it (an unreadable mark counts as none). */
  mark(key: string): RecordMark | undefined {
    const text = this.meta(`${META_KEYS.recordEntity}${key}`);
    if (text === undefined) return undefined;
    try {
      const m = JSON.parse(text) as Partial<RecordMark> | null;
      if (m && Number.isSafeInteger(m.version) && typeof m.digest === 'string' && Number.isSafeInteger(m.revision)) {
        return { version: m.version as number, digest: m.digest, revision: m.revision as number };
      }
    } catch {
      // falls through: a mark that cannot be read is no mark; the next import writes a good one
    }
    return undefined;
  }

  setMark(key: string, mark: RecordMark): void {
    this.setMeta(`${META_KEYS.recordEntity}${key}`, toJson(mark, `record mark of ${key}`));
  }

  /** The last sequence of `cluster`'s audit record this database holds (0: none). */
  auditMark(cluster: string): number {
    const value = Number(this.meta(`${META_KEYS.recordAudit}${cluster}`) ?? 0);
    return Number.isSafeInteger(value) && value > 0 ? value : 0;
  }

  setAuditMark(cluster: string, seq: number): void {
    this.setMeta(`${META_KEYS.recordAudit}${cluster}`, String(seq));
  }

  private meta(key: string): string | undefined {
    return this.stmts.get<{ value: string }>(`SELECT value FROM ${T.meta} WHERE key = ?`).get(key)?.value;
  }

  private setMeta(key: string, value: string): void {
    this.stmts
      .get(`INSERT INTO ${T.meta} (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`)
      .run(key, value);
  }

  // ---- requests ---------------------------------------------------------------------------------------------------

  /** Writes the requests row as `record` has it and replaces its status history with `record.history`. */
  putRequest(record: RequestRecord): void {
    const r = record;
    try {
      this.stmts
        .get(
          `INSERT INTO ${T.requests} (id, action, cluster, vmid, params, force, requester_id, requester_role, origin,
             status, decision, reasons, checks, task_ids, idempotency_key, submitted_at, updated_at, error,
             requester_name, requester_person, selector, node, parent_id, members)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET action = excluded.action, cluster = excluded.cluster, vmid = excluded.vmid,
             params = excluded.params, force = excluded.force, requester_id = excluded.requester_id,
             requester_role = excluded.requester_role, origin = excluded.origin, status = excluded.status,
             decision = excluded.decision, reasons = excluded.reasons, checks = excluded.checks,
             task_ids = excluded.task_ids, idempotency_key = excluded.idempotency_key,
             submitted_at = excluded.submitted_at, updated_at = excluded.updated_at, error = excluded.error,
             requester_name = excluded.requester_name, requester_person = excluded.requester_person,
             selector = excluded.selector, node = excluded.node, parent_id = excluded.parent_id,
             members = excluded.members`,
        )
        .run(
          r.id,
          r.action,
          r.target.cluster,
          r.target.vmid ?? null,
          toJson(r.params ?? {}, 'request params'),
          r.force ? 1 : 0,
          r.requester.id,
          r.requester.role,
          r.origin,
          r.status,
          r.decision ?? null,
          toJson(r.reasons, 'request reasons'),
          toJson(r.checks, 'request checks'),
          toJson(r.taskIds, 'request task ids'),
          r.idempotencyKey ?? null,
          r.submittedAt,
          r.updatedAt,
          r.error ?? null,
          r.requester.name ?? null,
          r.requester.person ?? null,
          r.target.selector ?? null,
          r.target.node ?? null,
          r.parent ?? null,
          r.members === undefined ? null : toJson(r.members, 'request members'),
        );
    } catch (err) {
      if (!isUnique(err)) throw err;
      throw new RecordRowConflictError(
        `request ${r.id}: requester ${r.requester.id} has another request with idempotency key ${r.idempotencyKey}`,
        T.requests,
        { cause: err },
      );
    }
    this.stmts.get(`DELETE FROM ${T.requestStatusHistory} WHERE request_id = ?`).run(r.id);
    const insert = this.stmts.get(
      `INSERT INTO ${T.requestStatusHistory} (request_id, seq, status, at, by, note) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    r.history.forEach((h, i) => {
      insert.run(r.id, i + 1, h.status, h.at, h.by ?? null, h.note ?? null);
    });
  }

  // ---- labs -------------------------------------------------------------------------------------------------------

  /** The row id of the lab `name` on `cluster` created at `createdAt`, if this database has it. */
  labIdByCreation(cluster: string, name: string, createdAt: number): number | undefined {
    return this.stmts
      .get<{ id: number }>(
        `SELECT id FROM ${T.labs} WHERE cluster = ? AND name = ? AND created_at = ? ORDER BY id DESC LIMIT 1`,
      )
      .get(cluster, name, createdAt)?.id;
  }

  /** The row id the name stands for on the cluster: the live lab, else the newest that ended (as LabRepo.get). */
  currentLabId(cluster: string, name: string): number | undefined {
    return this.stmts
      .get<{ id: number }>(
        `SELECT id FROM ${T.labs} WHERE cluster = ? AND name = ? ORDER BY ended_at IS NULL DESC, id DESC LIMIT 1`,
      )
      .get(cluster, name)?.id;
  }

  labById(id: number): LabRecord | undefined {
    const row = this.stmts.get<LabRow>(`SELECT ${LAB_COLUMNS} FROM ${T.labs} WHERE id = ?`).get(id);
    return row && labRecord(row);
  }

  /** Every lab row of the cluster, oldest first. */
  labsOf(cluster: string): LabRecord[] {
    return this.stmts
      .get<LabRow>(`SELECT ${LAB_COLUMNS} FROM ${T.labs} WHERE cluster = ? ORDER BY created_at, id`)
      .all(cluster)
      .map(labRecord);
  }

  /** Every status the lab row went through, oldest first. */
  labEvents(id: number): LabStatusChange[] {
    return this.stmts
      .get<{ status: string; at: number; by: string | null; note: string | null }>(
        `SELECT status, at, by, note FROM ${T.labEvents} WHERE lab_id = ? ORDER BY seq`,
      )
      .all(id)
      .map(({ status, at, by, note }) => ({
        status: status as LabStatus,
        at,
        ...(by !== null ? { by } : {}),
        ...(note !== null ? { note } : {}),
      }));
  }

  /**
   * Writes the lab row as `lab` has it (the row created at `lab.createdAt`, or a new row) and replaces its events.
   * Returns its row id. RecordRowConflictError when another live lab holds the name on the cluster.
   */
  putLab(lab: LabRowValue, events: readonly LabStatusChange[]): number {
    const existing = this.labIdByCreation(lab.cluster, lab.name, lab.createdAt);
    const values = [
      lab.file,
      toJson(lab.spec, 'lab spec'),
      lab.status,
      toJson(lab.created, 'lab created things'),
      toJson(lab.members, 'lab members'),
      lab.requester.id,
      lab.requester.role,
      lab.requester.name ?? null,
      lab.requester.person ?? null,
      lab.updatedAt,
      lab.endedAt ?? null,
      lab.error ?? null,
    ];
    let id: number;
    try {
      if (existing !== undefined) {
        this.stmts
          .get(
            `UPDATE ${T.labs} SET file = ?, spec = ?, status = ?, created = ?, members = ?, requester_id = ?,
               requester_role = ?, requester_name = ?, requester_person = ?, updated_at = ?, ended_at = ?, error = ?
             WHERE id = ?`,
          )
          .run(...values, existing);
        id = existing;
      } else {
        const { lastInsertRowid } = this.stmts
          .get(
            `INSERT INTO ${T.labs} (cluster, name, created_at, file, spec, status, created, members, requester_id,
               requester_role, requester_name, requester_person, updated_at, ended_at, error)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(lab.cluster, lab.name, lab.createdAt, ...values);
        id = Number(lastInsertRowid);
      }
    } catch (err) {
      if (!isUnique(err)) throw err;
      throw new RecordRowConflictError(
        `lab '${lab.name}' on cluster '${lab.cluster}' (created ${lab.createdAt}): another live lab of that name is here`,
        T.labs,
        { cause: err },
      );
    }
    this.stmts.get(`DELETE FROM ${T.labEvents} WHERE lab_id = ?`).run(id);
    const insert = this.stmts.get(
      `INSERT INTO ${T.labEvents} (lab_id, seq, status, at, by, note) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    events.forEach((e, i) => {
      insert.run(id, i + 1, e.status, e.at, e.by ?? null, e.note ?? null);
    });
    return id;
  }

  // ---- tokens -----------------------------------------------------------------------------------------------------

  /** The token row with its hash. */
  token(id: string): TokenRow | undefined {
    const row = this.stmts
      .get<{
        id: string;
        name: string;
        role: Role;
        hash: string;
        created_at: number;
        created_by: string;
        person: string | null;
        revoked_at: number | null;
      }>(`SELECT id, name, role, hash, created_at, created_by, person, revoked_at FROM ${T.apiTokens} WHERE id = ?`)
      .get(id);
    if (!row) return undefined;
    return {
      id: row.id,
      name: row.name,
      role: row.role,
      hash: row.hash,
      createdAt: row.created_at,
      createdBy: row.created_by,
      person: row.person ?? row.id,
      ...(row.revoked_at !== null ? { revokedAt: row.revoked_at } : {}),
    };
  }

  /** Writes the token row as `token` has it; when it was last used here is kept. */
  putToken(token: TokenRow): void {
    try {
      this.stmts
        .get(
          `INSERT INTO ${T.apiTokens} (id, name, role, hash, created_at, created_by, person, revoked_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role, hash = excluded.hash,
             created_at = excluded.created_at, created_by = excluded.created_by, person = excluded.person,
             revoked_at = excluded.revoked_at`,
        )
        .run(
          token.id,
          token.name,
          token.role,
          token.hash,
          token.createdAt,
          token.createdBy,
          token.person,
          token.revokedAt ?? null,
        );
    } catch (err) {
      if (!isUnique(err)) throw err;
      throw new RecordRowConflictError(`token ${token.id}: another token here has the same hash`, T.apiTokens, {
        cause: err,
      });
    }
  }
}

function labRecord(row: LabRow): LabRecord {
  const key = `${row.cluster}/${row.name}#${row.id}`;
  return {
    id: row.id,
    name: row.name,
    cluster: row.cluster,
    file: row.file,
    spec: fromJson(row.spec, T.labs, key),
    status: row.status as LabStatus,
    created: fromJson(row.created, T.labs, key),
    members: fromJson(row.members, T.labs, key),
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
