// The values of the record (DESIGN §14): what a core taking over a Proxmox cluster needs, replicated through
// JetStream. Each entity value is the latest full state of one request, incident, lab, API token, maintenance window
// or silence (key: see
// record-keys.ts); audit rows travel in batches on a stream. Every value carries `v: 1` (its format) and each entity
// a `version` that grows by one with every change published, so an importer can tell a newer value from one it has.
import { z } from 'zod';
import { IncidentSeveritySchema, IncidentStateSchema } from './incident-schemas';
import { type ParsedRecordKey, parseRecordKey, RecordKeyError, recordKey } from './record-keys';
import { checkEntryCluster, RecordMaintenanceSchema, RecordSilenceSchema } from './record-schemas-maintenance';
import {
  ActionSchema,
  BulkMemberSchema,
  CheckResultSchema,
  DecisionSchema,
  RequestStatusSchema,
  RoleSchema,
} from './schemas';

export * from './record-schemas-maintenance';

/** The format of every record value this code writes and reads. */
export const RECORD_FORMAT = 1;

/** A record value (or audit batch) that is not one this code can use: not JSON, another format, a bad field. */
export class RecordValueError extends Error {
  override name = 'RecordValueError';
  constructor(
    message: string,
    /** The key (or audit subject) it was read from. */
    readonly key: string,
    /** Its revision (stream sequence), when it was read from NATS. */
    readonly revision?: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const time = () => z.number().int().nonnegative();
const text = () => z.string().min(1);

const RequesterSchema = z.object({
  id: text(),
  role: RoleSchema,
  name: z.string().optional(),
  person: z.string().optional(),
});

/** An actor's persisted snapshot (XState's getPersistedSnapshot()) and when it was written. */
export const RecordSnapshotSchema = z.object({ at: time(), value: z.record(z.string(), z.unknown()) });

/** Every entity value: its format, kind and version. */
const entity = <K extends string, S extends z.ZodRawShape>(kind: K, shape: S) =>
  z.object({ v: z.literal(RECORD_FORMAT), kind: z.literal(kind), version: z.number().int().positive(), ...shape });

// --- requests ------------------------------------------------------------------------------------------------------

export const RecordTaskRefSchema = z.object({
  upid: text(),
  node: z.string(),
  vmid: z.number().int().optional(),
});

export const RecordStatusChangeSchema = z.object({
  status: RequestStatusSchema,
  at: time(),
  by: z.string().optional(),
  note: z.string().optional(),
});

/** The requests row as the store reads it (state/request-repo.ts RequestRecord), without its history. */
export const RecordRequestSchema = z.object({
  id: text(),
  action: ActionSchema,
  target: z.object({
    cluster: text(),
    vmid: z.number().int().nonnegative().optional(),
    selector: z.string().optional(),
    node: z.string().optional(),
  }),
  params: z.record(z.string(), z.unknown()),
  force: z.boolean(),
  requester: RequesterSchema,
  submittedAt: time(),
  origin: z.enum(['human', 'overseer']),
  parent: z.string().optional(),
  status: RequestStatusSchema,
  decision: DecisionSchema.optional(),
  reasons: z.array(z.string()),
  checks: z.array(CheckResultSchema),
  /** The platform tasks started for it: a new owner polls these, never issues them again. */
  taskIds: z.array(RecordTaskRefSchema),
  idempotencyKey: z.string().optional(),
  updatedAt: time(),
  error: z.string().optional(),
  members: z.array(BulkMemberSchema).optional(),
});

/** A request: its row, every status it went through (oldest first), and its actor's snapshot (`req:<id>`). */
export const RequestEntitySchema = entity('request', {
  request: RecordRequestSchema,
  history: z.array(RecordStatusChangeSchema).min(1),
  /** Null until the actor wrote its first snapshot (a request recorded as `received` only). */
  snapshot: RecordSnapshotSchema.nullable(),
});

// --- incidents -----------------------------------------------------------------------------------------------------

export const RecordIncidentActionSchema = z.object({
  at: time(),
  action: text(),
  requestId: z.string().optional(),
  result: z.string().optional(),
  ok: z.boolean().optional(),
  by: z.string().optional(),
  byName: z.string().optional(),
});

/** The incidents row as the store reads it (state/incident-repo.ts IncidentRecord). */
export const RecordIncidentSchema = z.object({
  id: text(),
  kind: text(),
  subject: text(),
  dedupeKey: text(),
  severity: IncidentSeveritySchema,
  status: IncidentStateSchema,
  openedAt: time(),
  updatedAt: time(),
  lastSeenAt: time(),
  occurrences: z.number().int().nonnegative(),
  detail: z.string(),
  data: z.record(z.string(), z.unknown()).optional(),
  actions: z.array(RecordIncidentActionSchema),
  remediationAttempts: z.number().int().nonnegative(),
  cause: z.string().optional(),
  outcome: z.string().optional(),
  resolvedAt: time().optional(),
});

/** An incident: its row and its actor's snapshot (`incident:<id>`). */
export const IncidentEntitySchema = entity('incident', {
  /** The Proxmox cluster it belongs to (its subject's, or its request's). */
  cluster: text(),
  incident: RecordIncidentSchema,
  snapshot: RecordSnapshotSchema.nullable(),
});

// --- labs ----------------------------------------------------------------------------------------------------------

export const RecordLabEventSchema = z.object({
  status: text(),
  at: time(),
  by: z.string().optional(),
  note: z.string().optional(),
});

/** The labs row as the store reads it (state/lab-repo.ts LabRecord), without the row id each core gives it. */
export const RecordLabSchema = z.object({
  cluster: text(),
  name: text(),
  createdAt: time(),
  file: z.string(),
  /** The parsed lab file (machines/lab/spec.ts LabSpec); its name and cluster are the lab's. */
  spec: z.looseObject({ name: text(), cluster: text() }),
  status: text(),
  created: z.array(z.record(z.string(), z.unknown())),
  members: z.record(
    z.string(),
    z.object({ vmid: z.number().int().optional(), node: z.string().optional(), phase: z.string().optional() }),
  ),
  requester: RequesterSchema,
  updatedAt: time(),
  endedAt: time().optional(),
  error: z.string().optional(),
});

/**
 * A lab: its row, its status history, and the lab actor's snapshot (`lab:<cluster>/<name>`) when this lab is the one
 * its name stands for (the live lab, else the newest that ended); null for an older lab of the same name.
 */
export const LabEntitySchema = entity('lab', {
  lab: RecordLabSchema,
  events: z.array(RecordLabEventSchema).min(1),
  snapshot: RecordSnapshotSchema.nullable(),
});

// --- API tokens ----------------------------------------------------------------------------------------------------

/** An api_tokens row: the SHA-256 of the token, never the token. When it was last used is each core's own. */
export const RecordTokenSchema = z.object({
  id: text(),
  name: text(),
  role: RoleSchema,
  hash: z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in lower-case hex'),
  createdAt: time(),
  createdBy: text(),
  person: text(),
  revokedAt: time().optional(),
});

export const TokenEntitySchema = entity('token', { token: RecordTokenSchema });

// --- maintenance windows and silences (record-schemas-maintenance.ts) --------------------------------------------

/** A maintenance window, under the cluster its target names (a tag window: the cluster of the core that set it). */
export const MaintenanceEntitySchema = entity('maintenance', {
  cluster: text(),
  window: RecordMaintenanceSchema,
}).superRefine(checkEntryCluster);

/** A silence, under the cluster of its guest. */
export const SilenceEntitySchema = entity('silence', { cluster: text(), silence: RecordSilenceSchema }).superRefine(
  checkEntryCluster,
);

// --- every entity --------------------------------------------------------------------------------------------------

export const RecordValueSchema = z.discriminatedUnion('kind', [
  RequestEntitySchema,
  IncidentEntitySchema,
  LabEntitySchema,
  TokenEntitySchema,
  MaintenanceEntitySchema,
  SilenceEntitySchema,
]);

export type RequestEntity = z.infer<typeof RequestEntitySchema>;
export type IncidentEntity = z.infer<typeof IncidentEntitySchema>;
export type LabEntity = z.infer<typeof LabEntitySchema>;
export type TokenEntity = z.infer<typeof TokenEntitySchema>;
export type MaintenanceEntity = z.infer<typeof MaintenanceEntitySchema>;
export type SilenceEntity = z.infer<typeof SilenceEntitySchema>;
export type RecordValue = z.infer<typeof RecordValueSchema>;
export type RecordSnapshot = z.infer<typeof RecordSnapshotSchema>;

/** The key `value` is kept under. */
export function recordKeyOf(value: RecordValue): string {
  switch (value.kind) {
    case 'request':
      return recordKey.request(value.request.target.cluster, value.request.id);
    case 'incident':
      return recordKey.incident(value.cluster, value.incident.id);
    case 'lab':
      return recordKey.lab(value.lab.cluster, value.lab.name, value.lab.createdAt);
    case 'token':
      return recordKey.token(value.token.id);
    case 'maintenance':
      return recordKey.maintenance(value.cluster, value.window.id);
    case 'silence':
      return recordKey.silence(value.cluster, value.silence.id);
  }
}

/** The first problem of a failed parse, with its path: `request.taskIds.0.upid: expected string`. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  return issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message;
}

function checkFormat(raw: unknown, key: string, revision: number | undefined): void {
  const format = raw !== null && typeof raw === 'object' ? (raw as { v?: unknown }).v : undefined;
  if (format !== RECORD_FORMAT) {
    throw new RecordValueError(
      `record value at '${key}' has format ${JSON.stringify(format) ?? 'none'}; this core reads format ${RECORD_FORMAT}`,
      key,
      revision,
    );
  }
}

/**
 * The value `raw` (decoded JSON) as an entity of `key`: RecordValueError naming the key when it is not one, or when
 * it belongs under another key (a request of another cluster, an incident under a lab key, ...).
 */
export function parseRecordValue(key: string, raw: unknown, revision?: number): RecordValue {
  let parsedKey: ParsedRecordKey;
  try {
    parsedKey = parseRecordKey(key);
  } catch (err) {
    throw new RecordValueError((err as Error).message, key, revision, { cause: err });
  }
  checkFormat(raw, key, revision);
  const parsed = RecordValueSchema.safeParse(raw);
  if (!parsed.success) {
    throw new RecordValueError(`record value at '${key}' is not valid: ${firstIssue(parsed.error)}`, key, revision, {
      cause: parsed.error,
    });
  }
  const value = parsed.data;
  let own: string;
  try {
    own = recordKeyOf(value);
  } catch (err) {
    if (!(err instanceof RecordKeyError)) throw err;
    throw new RecordValueError(`record value at '${key}' cannot be keyed: ${err.message}`, key, revision, {
      cause: err,
    });
  }
  if (own !== key) {
    throw new RecordValueError(
      `record value at '${key}' is a ${value.kind} kept under '${own}', not under '${key}' (${parsedKey.kind} key)`,
      key,
      revision,
    );
  }
  return value;
}

/** Decodes a stored payload (UTF-8 JSON) and parses it as the value of `key`. */
export function decodeRecordValue(key: string, data: Uint8Array, revision?: number): RecordValue {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch (err) {
    throw new RecordValueError(`record value at '${key}' is not UTF-8 JSON`, key, revision, { cause: err });
  }
  return parseRecordValue(key, raw, revision);
}

// --- audit batches -------------------------------------------------------------------------------------------------

/** One audit row as its core appended it. */
export const RecordAuditEntrySchema = z.object({
  /** Its seq in the chain of the core that wrote it. */
  seq: z.number().int().positive(),
  at: z.number().int(),
  actor: text(),
  kind: text(),
  data: z.unknown(),
});

/** Audit rows of one cluster's owner, appended to `<ns>.record.audit.<cluster>` in one message. */
export const AuditBatchSchema = z.object({
  v: z.literal(RECORD_FORMAT),
  cluster: text(),
  /** The core that wrote them (its id). */
  core: text(),
  entries: z.array(RecordAuditEntrySchema).min(1),
});

export type RecordAuditEntry = z.infer<typeof RecordAuditEntrySchema>;
export type AuditBatch = z.infer<typeof AuditBatchSchema>;

/** `raw` as an audit batch read from `where` (a subject); RecordValueError naming it when it is not one. */
export function parseAuditBatch(where: string, raw: unknown, revision?: number): AuditBatch {
  checkFormat(raw, where, revision);
  const parsed = AuditBatchSchema.safeParse(raw);
  if (!parsed.success) {
    throw new RecordValueError(`audit batch at '${where}' is not valid: ${firstIssue(parsed.error)}`, where, revision, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}
