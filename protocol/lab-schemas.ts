// The wire contract of labs (issue 12): a plan of a lab file against a cluster, without doing anything.
import { z } from 'zod';

/** The longest lab file accepted (bytes of text). */
export const MAX_LAB_FILE_LENGTH = 512 * 1024;

export const LabPlanPayloadSchema = z.strictObject({
  /** The lab file's text: YAML, or JSON. */
  file: z
    .string()
    .min(1, 'the file is empty')
    .max(MAX_LAB_FILE_LENGTH, `the lab file is longer than ${MAX_LAB_FILE_LENGTH} characters`),
  /** Its name, for the format (`.json`: JSON; anything else: YAML). */
  fileName: z.string().min(1).max(256).optional(),
});

export const LabIssueSchema = z.object({
  /** `vms[2].networks[0].vnet`; empty for the file as a whole. */
  path: z.string(),
  message: z.string(),
  line: z.number().optional(),
  column: z.number().optional(),
});

export const LabPlanReplySchema = z.object({
  /** True when the file is valid against the cluster (then `items` is what an apply would do). */
  ok: z.boolean(),
  lab: z.string().optional(),
  cluster: z.string().optional(),
  issues: z.array(LabIssueSchema),
  warnings: z.array(LabIssueSchema),
  /** What an apply would do, in order: create, change, replace, start, remove, apply (SDN). */
  items: z.array(z.object({ kind: z.string(), op: z.string(), description: z.string() })),
  /** The plan as terraform-like lines (`+ create …`), and a last line that counts them. */
  lines: z.array(z.string()),
});

export type LabPlanPayload = z.infer<typeof LabPlanPayloadSchema>;
export type LabPlanReply = z.infer<typeof LabPlanReplySchema>;

// ---- labs applied: apply, list, show, approve, deny, cancel, destroy, snapshot, revert ----

/** A lab's name (as in its file: a DNS label). */
const LabNameSchema = z.string().regex(/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/i, 'a lab name: letters, digits and -');

export const LabApplyPayloadSchema = LabPlanPayloadSchema;

/** Which lab: its name, and its cluster when the same name runs on two clusters. */
export const LabRefPayloadSchema = z.strictObject({
  name: LabNameSchema,
  cluster: z.string().min(1).max(64).optional(),
});

export const LabActPayloadSchema = LabRefPayloadSchema.extend({ reason: z.string().max(500).optional() });

export const LabSnapshotPayloadSchema = LabRefPayloadSchema.extend({
  /** The snapshot's name on every member (PVE's pve-configid, at most 40 characters). */
  snapshot: z
    .string()
    .regex(/^[a-z][a-z0-9_-]+$/i, 'a snapshot name: a letter, then letters, digits, _ and -')
    .max(40),
});

export const LabListPayloadSchema = z.strictObject({
  cluster: z.string().min(1).max(64).optional(),
  /** true: labs not ended (the default); false: ended ones too. */
  live: z.boolean().optional(),
  limit: z.number().int().min(1).max(500).optional(),
  offset: z.number().int().min(0).optional(),
});

const StepProgressSchema = z.object({
  todo: z.array(z.string()),
  running: z.array(z.string()),
  done: z.array(z.string()),
  failed: z.array(z.string()),
});

export const LabMemberViewSchema = z.object({
  name: z.string(),
  vm: z.string(),
  /** Its PVE guest name (`<lab>-<member>`). */
  guestName: z.string(),
  wave: z.number(),
  dependsOn: z.array(z.string()),
  phase: z.string(),
  vmid: z.number().optional(),
  node: z.string().optional(),
  readyAt: z.number().optional(),
  error: z.string().optional(),
});

export const LabViewSchema = z.object({
  name: z.string(),
  cluster: z.string(),
  /** The lab actor's state: planning, gating, awaiting_approval, networks, cloning, ..., ready, destroyed. */
  status: z.string(),
  generation: z.number(),
  requester: z.object({ id: z.string(), name: z.string().optional(), role: z.string() }),
  createdAt: z.number(),
  updatedAt: z.number(),
  endedAt: z.number().optional(),
  decision: z.string().optional(),
  reasons: z.array(z.string()),
  checks: z.array(z.object({ check: z.string(), outcome: z.string(), reason: z.string() })),
  approvedBy: z.object({ id: z.string(), at: z.number(), reason: z.string().optional() }).optional(),
  members: z.array(LabMemberViewSchema),
  /** The apply under way: each step's members. */
  progress: z
    .object({
      reason: z.string(),
      clone: StepProgressSchema,
      configure: StepProgressSchema,
      start: StepProgressSchema,
      ready: StepProgressSchema,
    })
    .optional(),
  /** What the lab made on the platform and has not removed, oldest first. */
  created: z.array(z.object({ kind: z.string(), id: z.union([z.string(), z.number()]), generation: z.number() })),
  snapshots: z.array(z.object({ name: z.string(), at: z.number(), members: z.array(z.string()) })),
  /** The last plan, as lines (`+ create …`). */
  plan: z.array(z.string()),
  failure: z.object({ step: z.string(), member: z.string().optional(), error: z.string() }).optional(),
  drift: z.array(z.object({ member: z.string(), state: z.string(), at: z.number() })),
  /** When the lab's time-to-live ends (it is then torn down). */
  expiresAt: z.number().optional(),
  /** True when the lab has ended (destroyed, rolled back, denied, ...). */
  ended: z.boolean(),
});

export const LabListReplySchema = z.object({ items: z.array(LabViewSchema), total: z.number() });

export type LabRefPayload = z.infer<typeof LabRefPayloadSchema>;
export type LabActPayload = z.infer<typeof LabActPayloadSchema>;
export type LabSnapshotPayload = z.infer<typeof LabSnapshotPayloadSchema>;
export type LabListPayload = z.infer<typeof LabListPayloadSchema>;
export type LabView = z.infer<typeof LabViewSchema>;
export type LabMemberView = z.infer<typeof LabMemberViewSchema>;
export type LabListReply = z.infer<typeof LabListReplySchema>;
