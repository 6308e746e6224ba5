// The message schemas of the wire contract (DESIGN §6): one zod schema per payload and reply, so both sides
// validate. No payload names who acts: the core resolves the principal from the call's credential.
import { z } from 'zod';
import { ACTIONS, GUEST_TYPES, REQUEST_STATUSES, ROLES } from '../machines/types';
import { REQUEST_COMMANDS } from './subject-tokens';

/** Longest free text (reasons, notes) accepted in a payload. */
export const MAX_REASON_LENGTH = 1000;
/** Longest id (principal, token, request, idempotency key) accepted in a payload. */
export const MAX_ID_LENGTH = 128;

export const RoleSchema = z.enum(ROLES);
export const ActionSchema = z.enum(ACTIONS);
export const RequestStatusSchema = z.enum(REQUEST_STATUSES);
export const DecisionSchema = z.enum(['approved', 'denied', 'awaiting_approval', 'nothing_to_do']);
export const CheckOutcomeSchema = z.enum(['pass', 'deny', 'approval', 'skipped']);
export const RequestCommandSchema = z.enum(REQUEST_COMMANDS);

export const id = () => z.string().min(1).max(MAX_ID_LENGTH);

/** The longest selector accepted (`@tag:web,-105,...`). */
export const MAX_SELECTOR_LENGTH = 512;

export const TargetSchema = z.strictObject({
  cluster: z.string().min(1).max(64),
  vmid: z.number().int().nonnegative().optional(),
  /** Instead of vmid: `@tag:<t>`, `@pool:<p>`, `@node:<n>`, `@all`, with exclusions `-<vmid>` (comma-separated). */
  selector: z.string().min(1).max(MAX_SELECTOR_LENGTH).optional(),
  /** The node of a node action (drain, undrain). */
  node: z.string().min(1).max(64).optional(),
});

export const GuestTypeSchema = z.enum(GUEST_TYPES);

/** One member of a bulk request: what its child request runs. */
export const BulkMemberSchema = z.object({
  vmid: z.number(),
  action: ActionSchema,
  params: z.record(z.string(), z.unknown()),
});

export const CheckResultSchema = z.object({ check: z.string(), outcome: CheckOutcomeSchema, reason: z.string() });

export const EmptySchema = z.strictObject({});
export const paging = {
  limit: z.number().int().min(1).max(10_000).optional(),
  offset: z.number().int().min(0).optional(),
};

// --- submissions and commands -------------------------------------------------------------------

export const SubmitPayloadSchema = z.strictObject({
  action: ActionSchema,
  target: TargetSchema,
  params: z.record(z.string(), z.unknown()),
  force: z.boolean(),
  idempotencyKey: id().optional(),
  /** Decide only: the gate's answer and the expansion, nothing recorded, nothing run. */
  dryRun: z.boolean().optional(),
});

export const SubmitReplySchema = z.object({
  requestId: z.string(),
  decision: DecisionSchema,
  reasons: z.array(z.string()),
  checks: z.array(CheckResultSchema),
  status: RequestStatusSchema,
  /** True when an idempotency key matched an earlier submission and this is its answer. */
  replayed: z.boolean(),
  /** A bulk request's expansion as decided: one child request per member. */
  members: z.array(BulkMemberSchema).optional(),
  /** A dry run: nothing was recorded or run (requestId is empty). */
  dryRun: z.boolean().optional(),
});

export const CommandPayloadSchema = z.strictObject({
  reason: z.string().max(MAX_REASON_LENGTH).optional(),
});

export const CommandReplySchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), status: RequestStatusSchema }),
  z.object({ ok: z.literal(false), code: z.enum(['not_found', 'refused', 'conflict']), reason: z.string() }),
]);

// --- query replies ------------------------------------------------------------------------------

export const LoopViewSchema = z.object({
  state: z.string(),
  cycles: z.number(),
  failures: z.number(),
  lastError: z.string().optional(),
});

export const StatusReplySchema = z.object({
  state: z.string(),
  escalated: z.array(z.string()),
  loops: z.record(z.string(), LoopViewSchema),
  clusters: z.array(z.object({ cluster: z.string(), reachable: z.boolean(), quorate: z.boolean() })),
  startedAt: z.number(),
  now: z.number(),
  /** Incidents not yet resolved: how many, and how many of each severity (absent from older cores). */
  incidents: z.object({ open: z.number(), bySeverity: z.record(z.string(), z.number()) }).optional(),
  /**
   * Several cores (config `cores`): which core owns each cluster, as the answering core sees the leases: the
   * owner, whether it is that core, how long ago the lease was renewed, and how long it stays valid (ms).
   */
  leases: z
    .array(
      z.object({
        cluster: z.string(),
        owner: z.string().optional(),
        ownedByMe: z.boolean(),
        ageMs: z.number(),
        validForMs: z.number(),
      }),
    )
    .optional(),
});

export const SummaryReplySchema = z.object({
  vms: z.record(z.string(), z.number()),
  hosts: z.record(z.string(), z.number()),
  requests: z.record(z.string(), z.number()),
  // What the core publishes at every health cycle adds these (optional: an older core's summary still validates).
  /** When the core made it (its clock, epoch ms). */
  at: z.number().optional(),
  /** Each periodic loop's last heartbeat (epoch ms; null before its first cycle) and whether it is healthy. */
  loops: z.array(z.object({ loop: z.string(), lastBeatAt: z.number().nullable(), ok: z.boolean() })).optional(),
  /** Incidents not yet resolved, by kind and severity. */
  incidents: z.array(z.object({ kind: z.string(), severity: z.string(), count: z.number() })).optional(),
  /** Each cluster's reachability and quorum. */
  clusters: z.array(z.object({ cluster: z.string(), reachable: z.boolean(), quorate: z.boolean() })).optional(),
  /** Each node's state as its host actor has it (online, degraded, offline, unknown). */
  nodes: z.array(z.object({ cluster: z.string(), node: z.string(), state: z.string() })).optional(),
});

export const HealthReplySchema = z.object({
  ok: z.boolean(),
  checks: z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string() })),
});

/** VmInfo (machines/types) as the core knows it, plus its actor's state. */
export const VmViewSchema = z.object({
  cluster: z.string(),
  vmid: z.number(),
  /** qemu (a VM) or lxc (a container). */
  type: GuestTypeSchema.default('qemu'),
  pool: z.string().optional(),
  name: z.string(),
  node: z.string(),
  status: z.enum(['running', 'stopped', 'paused', 'unknown']),
  lock: z.string().optional(),
  tags: z.array(z.string()),
  template: z.boolean(),
  haManaged: z.boolean(),
  cpus: z.number(),
  maxmem: z.number(),
  maxdisk: z.number(),
  mem: z.number(),
  cpu: z.number(),
  uptime: z.number(),
  state: z.string(),
  production: z.boolean(),
  activeRequest: z.object({ id: z.string(), action: ActionSchema }).optional(),
});

/** HostInfo (machines/types) plus its actor's state. */
export const HostViewSchema = z.object({
  cluster: z.string(),
  node: z.string(),
  status: z.enum(['online', 'offline', 'unknown']),
  cpu: z.number(),
  maxcpu: z.number(),
  mem: z.number(),
  maxmem: z.number(),
  disk: z.number(),
  maxdisk: z.number(),
  state: z.string(),
});

/**
 * Who took a request's final decision: the gate, or the person (a token id, and its name when known) who approved
 * or denied it, with the reason they gave.
 */
export const DecidedBySchema = z.object({
  kind: z.enum(['gate', 'person']),
  id: z.string().optional(),
  name: z.string().optional(),
  at: z.number(),
  reason: z.string().optional(),
});

export const RequestViewSchema = z.object({
  id: z.string(),
  action: ActionSchema,
  target: z.object({
    cluster: z.string(),
    vmid: z.number().optional(),
    selector: z.string().optional(),
    node: z.string().optional(),
  }),
  params: z.record(z.string(), z.unknown()),
  force: z.boolean(),
  requester: z.object({ id: z.string(), role: RoleSchema, name: z.string().optional() }),
  /** A bulk member: the bulk request whose decision covers it. */
  parent: z.string().optional(),
  /** A bulk request's members as decided (each runs as its own child request). */
  members: z.array(BulkMemberSchema).optional(),
  /** A bulk request's children by status (how far it got). */
  progress: z.object({ total: z.number(), completed: z.number(), failed: z.number(), active: z.number() }).optional(),
  // Absent for requests made before origins were recorded: those were human.
  origin: z.enum(['human', 'overseer']).default('human'),
  status: RequestStatusSchema,
  /** The final decision: the gate's, or the approval or denial of the person in `decidedBy`. */
  decision: DecisionSchema.optional(),
  // Absent for requests not yet decided (and in answers of cores older than this field).
  decidedBy: DecidedBySchema.optional(),
  reasons: z.array(z.string()),
  checks: z.array(CheckResultSchema),
  history: z.array(
    z.object({
      status: RequestStatusSchema,
      at: z.number(),
      /** Who caused the change: a token id, or 'overseer'. */
      by: z.string().optional(),
      /** The name of `by` (its token's name; 'overseer' for Overseer); absent when unknown and in older answers. */
      byName: z.string().optional(),
      note: z.string().optional(),
    }),
  ),
  // vmid: the VM the task worked on (for a deploy's clone, the VMID it created); absent in older records.
  tasks: z.array(z.object({ upid: z.string(), node: z.string(), vmid: z.number().optional() })),
  error: z.string().optional(),
  submittedAt: z.number(),
  updatedAt: z.number(),
});

/**
 * Who acts, as the core resolved it from a credential: `id` is the token's id (unique, never a display name),
 * `person` the person it belongs to (the token's own id unless an admin linked it to another token's person).
 */
export const PrincipalSchema = z.object({ id: z.string(), name: z.string(), role: RoleSchema, person: z.string() });

export const TokenInfoSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: RoleSchema,
  createdAt: z.number(),
  createdBy: z.string(),
  person: z.string(),
  revokedAt: z.number().optional(),
  lastUsedAt: z.number().optional(),
});

export const CreatedTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: RoleSchema,
  /** The plaintext token: shown once, stored only hashed. */
  token: z.string(),
});

/** One snapshot of a guest (the `current` pseudo-snapshot left out). */
export const SnapshotViewSchema = z.object({
  name: z.string(),
  description: z.string().optional(),
  /** epoch seconds */
  snaptime: z.number().optional(),
  parent: z.string().optional(),
});

/** Backups as the core read them from the platform. */
export const BackupsReplySchema = z.object({
  jobs: z.array(
    z.object({
      cluster: z.string(),
      id: z.string(),
      enabled: z.boolean(),
      schedule: z.string().optional(),
      storage: z.string().optional(),
      all: z.boolean(),
      vmids: z.array(z.number()),
      pool: z.string().optional(),
    }),
  ),
  /** The newest backup of each guest (guests with none are listed with `newest` absent). */
  guests: z.array(
    z.object({
      cluster: z.string(),
      vmid: z.number(),
      name: z.string().optional(),
      newest: z
        .object({ volid: z.string(), storage: z.string(), ctime: z.number(), format: z.string().optional() })
        .optional(),
      count: z.number(),
    }),
  ),
  /** Storages that could not be read (their backups are unknown, not absent). */
  failedStorages: z.array(z.object({ cluster: z.string(), storage: z.string() })),
});

// --- types ---------------------------------------------------------------------------------------

export type SubmitPayload = z.infer<typeof SubmitPayloadSchema>;
export type SubmitReply = z.infer<typeof SubmitReplySchema>;
export type CommandPayload = z.infer<typeof CommandPayloadSchema>;
export type CommandReply = z.infer<typeof CommandReplySchema>;
export type CheckResultView = z.infer<typeof CheckResultSchema>;
export type StatusReply = z.infer<typeof StatusReplySchema>;
export type SummaryReply = z.infer<typeof SummaryReplySchema>;
export type HealthReply = z.infer<typeof HealthReplySchema>;
export type VmView = z.infer<typeof VmViewSchema>;
export type HostView = z.infer<typeof HostViewSchema>;
export type RequestView = z.infer<typeof RequestViewSchema>;
export type DecidedBy = z.infer<typeof DecidedBySchema>;
export type Principal = z.infer<typeof PrincipalSchema>;
export type TokenInfo = z.infer<typeof TokenInfoSchema>;
export type CreatedToken = z.infer<typeof CreatedTokenSchema>;
export type SnapshotView = z.infer<typeof SnapshotViewSchema>;
export type BackupsReply = z.infer<typeof BackupsReplySchema>;
export type BulkMemberView = z.infer<typeof BulkMemberSchema>;
