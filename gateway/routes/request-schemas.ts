// The HTTP shapes of requests: the body of POST /v1/requests, the list filters, the answers.
// The body is checked for shape and types here (400 naming the field); value rules (VMID range, name syntax,
// limits) are the core gate's schema check, which answers "denied" with the reason.
import { z } from 'zod';
import type { Action } from '../../protocol';
import {
  CheckResultSchema,
  DecisionSchema,
  MAX_ID_LENGTH,
  MAX_REASON_LENGTH,
  RequestStatusSchema,
} from '../../protocol';
import { CLUSTER_PATTERN, IdSchema, LimitSchema, OffsetSchema } from '../http-schemas';

const CLUSTER_SOURCE = CLUSTER_PATTERN.source.slice(1, -1);
const VM_TARGET = new RegExp(`^${CLUSTER_SOURCE}/[0-9]{1,9}$`);

// A request's target has one shape, in (POST /v1/requests) and out (every request view): an object,
// {"cluster": "lab", "vmid": 101}, or {"cluster": "lab"} for a deploy. The string 'lab/101' ('lab') of earlier
// clients is still accepted on input, and read as that object.
const ClusterNameSchema = z.string().regex(CLUSTER_PATTERN, 'expected a cluster name');
const VmidSchema = z.number().int().min(0).max(999_999_999);

export const VmTargetSchema = z
  .union(
    [
      z.strictObject({ cluster: ClusterNameSchema, vmid: VmidSchema }),
      z
        .string()
        .regex(VM_TARGET)
        .transform((t) => parseTarget(t) as { cluster: string; vmid: number })
        .meta({ deprecated: true, description: "Deprecated: '<cluster>/<vmid>', read as the object" }),
    ],
    { error: 'expected {"cluster": "<cluster>", "vmid": <vmid>}' },
  )
  .describe('The VM: {"cluster": "lab", "vmid": 101}');

export const ClusterTargetSchema = z
  .union(
    [
      z.strictObject({ cluster: ClusterNameSchema }),
      z
        .string()
        .regex(CLUSTER_PATTERN)
        .transform((cluster) => ({ cluster }))
        .meta({ deprecated: true, description: "Deprecated: '<cluster>', read as the object" }),
    ],
    { error: 'expected {"cluster": "<cluster>"} (deploy targets a cluster)' },
  )
  .describe('The cluster to deploy into: {"cluster": "lab"}');
const force = z.boolean().optional().describe('Needed for disruptive actions on production VMs');

export const DeployParamsSchema = z.strictObject({
  template: z.number().int().describe('VMID of the template to clone'),
  node: z.string().min(1).max(64),
  name: z.string().min(1).max(64),
  count: z.number().int().min(1).max(10_000).optional(),
  full: z.boolean().optional(),
});

export const SnapshotParamsSchema = z.strictObject({
  snapname: z.string().min(1).max(64),
  description: z.string().max(MAX_REASON_LENGTH).optional(),
});

/** A shell command for the VM's guest; the core's gate checks it against its allow-list (gate.commands.allowed). */
export const CommandParamsSchema = z.strictObject({
  command: z.string().min(1).max(1000).describe('Exactly as listed in gate.commands.allowed'),
});

/** Actions on one VM that take no parameters. */
export const VM_ACTIONS = ['destroy', 'start', 'stop', 'shutdown', 'reboot', 'suspend', 'resume'] as const;
// Compile-time check that deploy, snapshot, command and VM_ACTIONS together cover every action.
type Uncovered = Exclude<Action, 'deploy' | 'snapshot' | 'command' | (typeof VM_ACTIONS)[number]>;
const everyActionCovered: Uncovered extends never ? true : never = true;
void everyActionCovered;

export const SubmitBodySchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('deploy'), target: ClusterTargetSchema, params: DeployParamsSchema, force }),
  z.strictObject({ action: z.literal('snapshot'), target: VmTargetSchema, params: SnapshotParamsSchema, force }),
  z.strictObject({ action: z.literal('command'), target: VmTargetSchema, params: CommandParamsSchema, force }),
  z.strictObject({
    action: z.enum(VM_ACTIONS),
    target: VmTargetSchema,
    params: z.strictObject({}).optional(),
    force,
  }),
]);
export type SubmitBody = z.infer<typeof SubmitBodySchema>;

export const SubmitAnswerSchema = z.object({
  id: z.string(),
  decision: DecisionSchema,
  reasons: z.array(z.string()),
  checks: z.array(CheckResultSchema),
  status: RequestStatusSchema,
});

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

export const IdempotencyHeaderSchema = z.object({
  [IDEMPOTENCY_HEADER]: z
    .string()
    .min(1)
    .max(MAX_ID_LENGTH)
    .regex(/^[\x21-\x7e]+$/, 'expected 1 to 128 visible ASCII characters'),
});

export const RequestListQuerySchema = z.strictObject({
  status: RequestStatusSchema.optional(),
  requester: z.string().min(1).max(MAX_ID_LENGTH).optional(),
  idPrefix: IdSchema.optional().describe('Only requests whose id starts with this (resolving an abbreviated id)'),
  limit: LimitSchema.optional().describe('Requests in the page (default 100)'),
  offset: OffsetSchema.optional(),
});

export const CommandBodySchema = z.strictObject({
  reason: z
    .string()
    .max(MAX_REASON_LENGTH)
    .optional()
    .describe('Why: kept as the note of the request’s status history entry (and, for approve or deny, its decision)'),
});

export const CommandAnswerSchema = z.object({ id: IdSchema, status: RequestStatusSchema });

/** `lab/114` → {cluster: 'lab', vmid: 114}; `lab` → {cluster: 'lab'} (already checked by the schemas). */
export function parseTarget(target: string): { cluster: string; vmid?: number } {
  const slash = target.indexOf('/');
  if (slash < 0) return { cluster: target };
  return { cluster: target.slice(0, slash), vmid: Number(target.slice(slash + 1)) };
}
