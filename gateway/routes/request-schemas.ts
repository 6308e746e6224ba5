// The HTTP shapes of requests: the body of POST /v1/requests, the list filters, the answers.
// The body is checked for shape and types here (400 naming the field); value rules (VMID range, name syntax,
// limits) are the core gate's schema check, which answers "denied" with the reason.
import { z } from 'zod';
import type { Action } from '../../protocol';
import {
  BulkMemberSchema,
  CheckResultSchema,
  DecisionSchema,
  GuestSchema,
  MAX_ID_LENGTH,
  MAX_REASON_LENGTH,
  RequestStatusSchema,
} from '../../protocol';
import { IdSchema, LimitSchema, OffsetSchema } from '../http-schemas';
import { ClusterTargetSchema, GuestTargetSchema, NodeTargetSchema } from './request-targets';

const force = z
  .boolean()
  .optional()
  .describe('Needed for disruptive actions (stop, destroy, rollback, ...) on production guests');

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

/** rollback and delsnapshot: the snapshot they are about. */
export const SnapshotRefParamsSchema = z.strictObject({
  snapname: z.string({ error: 'expected the snapshot name' }).min(1).max(64).describe('An existing snapshot'),
});

export const MigrateParamsSchema = z.strictObject({
  target: z
    .string({ error: 'expected the node to move to' })
    .min(1)
    .max(64)
    .describe('The node the guest moves to (not the one it is on)'),
  online: z
    .boolean()
    .optional()
    .describe('Live migration (default: true when the guest runs); a container is restarted on the target instead'),
  withLocalDisks: z.boolean().optional().describe('Also move local disks (QEMU with-local-disks)'),
});

export const DrainParamsSchema = z.strictObject({
  concurrency: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .describe('How many guests move at once (default: the core’s execution.bulkConcurrency)'),
});

const NoParamsSchema = z.strictObject({}).optional();

/** Actions on a guest that take no parameters. */
export const VM_ACTIONS = ['destroy', 'start', 'stop', 'shutdown', 'reboot', 'suspend', 'resume'] as const;
/** The actions of each body variant; together they cover every action (checked at compile time below). */
const SNAPSHOT_REF_ACTIONS = ['rollback', 'delsnapshot'] as const;
/** Actions only Overseer's own work makes (a lab configures its members): never submitted over HTTP. */
type InternalAction = 'configure';
type Covered =
  | InternalAction
  | 'deploy'
  | 'snapshot'
  | 'command'
  | 'migrate'
  | 'drain'
  | 'undrain'
  | (typeof VM_ACTIONS)[number]
  | (typeof SNAPSHOT_REF_ACTIONS)[number];
const everyActionCovered: Exclude<Action, Covered> extends never ? true : never = true;
void everyActionCovered;

const dryRun = z
  .boolean()
  .optional()
  .describe('Decide only: the gate’s answer and the expansion, nothing recorded or run (as ?dryRun=true)');

/** One variant of the body: its action(s), target, parameters; force and dryRun for all. */
const variant = <A extends z.ZodType, T extends z.ZodType, P extends z.ZodType>(action: A, target: T, params: P) =>
  z.strictObject({ action, target, params, force, dryRun });

export const SubmitBodySchema = z.discriminatedUnion('action', [
  variant(z.literal('deploy'), ClusterTargetSchema, DeployParamsSchema),
  variant(z.literal('snapshot'), GuestTargetSchema, SnapshotParamsSchema),
  variant(z.literal('command'), GuestTargetSchema, CommandParamsSchema),
  variant(z.enum(SNAPSHOT_REF_ACTIONS), GuestTargetSchema, SnapshotRefParamsSchema),
  variant(z.literal('migrate'), GuestTargetSchema, MigrateParamsSchema),
  variant(z.enum(VM_ACTIONS), GuestTargetSchema, NoParamsSchema),
  variant(z.literal('drain'), NodeTargetSchema, DrainParamsSchema.optional()),
  variant(z.literal('undrain'), NodeTargetSchema, NoParamsSchema),
]);
export type SubmitBody = z.infer<typeof SubmitBodySchema>;

/** ?dryRun=true on POST /v1/requests. */
export const SubmitQuerySchema = z.strictObject({
  dryRun: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe('`true`: decide only (the gate’s answer and the expansion), nothing recorded or run'),
});

const answerFields = {
  decision: DecisionSchema,
  reasons: z.array(z.string()),
  checks: z.array(CheckResultSchema),
  members: z
    .array(BulkMemberSchema)
    .optional()
    .describe('A selector’s or a drain’s expansion as decided: each member runs as its own request'),
};

export const SubmitAnswerSchema = z.object({ id: z.string(), ...answerFields, status: RequestStatusSchema });

/** The answer to a dry run (200): what the gate would decide, and for a bulk request its members. */
export const DryRunAnswerSchema = z.object({
  dryRun: z.literal(true).describe('Nothing was recorded or run'),
  ...answerFields,
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
  guest: GuestSchema.optional().describe(
    'Only requests about this guest, `<cluster>/<vmid>`: its own, and bulk requests that list it as a member',
  ),
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
