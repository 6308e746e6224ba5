// The wire contract of labs (issue 12): a plan of a lab file against a cluster, without doing anything.
import { z } from 'zod';

/** The longest lab file accepted (bytes of text). */
export const MAX_LAB_FILE_LENGTH = 512 * 1024;

export const LabPlanPayloadSchema = z.strictObject({
  /** The lab file's text: YAML, or JSON. */
  file: z.string().min(1).max(MAX_LAB_FILE_LENGTH),
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
