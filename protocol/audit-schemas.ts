// The wire shapes of the audit log: the checkpoint the core keeps in JetStream (OVERSEER_AUDIT), and the `audit`
// query (a page of rows and the chain's verification, admin only). The core's state layer has the same types
// (state/audit-log.ts); actors/audit-queries.ts checks at compile time that the two agree.
import { z } from 'zod';
import { MAX_ID_LENGTH } from './schemas';

/** Most rows in one page of the `audit` query. */
export const MAX_AUDIT_PAGE = 1000;
/** Rows in a page when the payload names no limit. */
export const DEFAULT_AUDIT_PAGE = 100;

/** What a broken chain can look like (state/audit-log.ts describes each). */
export const AUDIT_PROBLEM_KINDS = [
  'edited',
  'deleted',
  'forged-head',
  'rewritten-tail',
  'behind-checkpoint',
  'wrong-key',
  'bad-checkpoint',
] as const;
export const AuditProblemKindSchema = z.enum(AUDIT_PROBLEM_KINDS);

const seq = () => z.number().int().nonnegative();
const digest = () => z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits');

export const AuditHeadSchema = z.object({ seq: seq(), hash: z.string() });

export const AuditProblemSchema = z.object({
  row: z.number().int(),
  kind: AuditProblemKindSchema,
  /** What was found, in one sentence. */
  sentence: z.string(),
  /** Set when the problem was found earlier and is carried by the checkpoints: when it was found (epoch ms). */
  recordedAt: z.number().int().optional(),
});

/** The first problem found, as every later checkpoint carries it. */
export const AuditBreakRecordSchema = z.strictObject({
  row: z.number().int(),
  kind: AuditProblemKindSchema,
  sentence: z.string().max(2000),
  foundAt: z.number().int(),
});

/**
 * One checkpoint of the chain head, on `overseer.audit.checkpoint.<keyId>` in the OVERSEER_AUDIT stream. `mac` is
 * HMAC-SHA256 under the audit key over the canonical JSON of every other field.
 */
export const AuditCheckpointSchema = z.strictObject({
  v: z.literal(1),
  seq: seq(),
  hash: digest(),
  keyedFrom: z.number().int().positive(),
  keyId: z.string().regex(/^[0-9a-f]{16}$/, 'expected 16 lowercase hex digits'),
  at: z.number().int(),
  broken: AuditBreakRecordSchema.optional(),
  mac: digest(),
});

export const AuditVerificationSchema = z.object({
  ok: z.boolean(),
  /** Rows whose links were checked. */
  rows: z.number().int().nonnegative(),
  /** The first keyed row; null when the chain is not keyed. */
  keyedFrom: z.number().int().positive().nullable(),
  /** The last checkpoint the table was compared with, or null. */
  checkpoint: z.object({ seq: seq(), hash: z.string(), at: z.number().int() }).nullable(),
  /** The table's last row. */
  head: AuditHeadSchema,
  /** The first problem; absent when ok. */
  problem: AuditProblemSchema.optional(),
  /** What could not be checked (e.g. the checkpoint stream was unreachable, so the tail was not compared). */
  note: z.string().optional(),
});

export const AuditRowViewSchema = z.object({
  seq: z.number().int(),
  at: z.number().int(),
  actor: z.string(),
  kind: z.string(),
  data: z.unknown(),
  prevHash: z.string(),
  hash: z.string(),
});

// --- the two reads, and the `audit` query that answers both -------------------------------------------------------

/** A page of rows, oldest first: those after `afterSeq`, matching `kind` and `actor` exactly. */
export const AuditListPayloadSchema = z.strictObject({
  afterSeq: seq().optional(),
  limit: z.number().int().min(1).max(MAX_AUDIT_PAGE).optional(),
  kind: z.string().min(1).max(MAX_ID_LENGTH).optional(),
  actor: z.string().min(1).max(MAX_ID_LENGTH).optional(),
});

export const AuditListReplySchema = z.object({
  items: z.array(AuditRowViewSchema),
  /** The `afterSeq` of the next page; null when this page is the last. */
  next: seq().nullable(),
});

export const AuditVerifyPayloadSchema = z.strictObject({});
export const AuditVerifyReplySchema = AuditVerificationSchema;

/** The `audit` query (admin): a page of rows and the chain's verification against the last checkpoint. */
export const AuditQueryPayloadSchema = AuditListPayloadSchema;
export const AuditQueryReplySchema = AuditListReplySchema.extend({ verification: AuditVerificationSchema });

export type AuditProblemKindView = z.infer<typeof AuditProblemKindSchema>;
export type AuditCheckpointMessage = z.infer<typeof AuditCheckpointSchema>;
export type AuditVerificationView = z.infer<typeof AuditVerificationSchema>;
export type AuditRowView = z.infer<typeof AuditRowViewSchema>;
export type AuditListPayload = z.infer<typeof AuditListPayloadSchema>;
export type AuditListReply = z.infer<typeof AuditListReplySchema>;
export type AuditQueryPayload = z.infer<typeof AuditQueryPayloadSchema>;
export type AuditQueryReply = z.infer<typeof AuditQueryReplySchema>;
