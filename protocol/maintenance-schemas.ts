// The wire shapes of maintenance windows and silences. A window covers a guest (`<cluster>/<vmid>`), a node
// (`<cluster>/<node>`) or a tag for a time: Overseer neither remediates nor pages for what it covers, and the gate
// names it. A silence does the same for one incident kind on one guest. Both are set for `durationSeconds` or until
// `until` (epoch ms), from `from` (default: now), and end early by a person's word; each change is audited.
import { z } from 'zod';
import { MAINTENANCE_SCOPES } from '../machines/maintenance';
import { CONDITION_KINDS } from '../machines/monitor/types';
import { GUEST_PATTERN, GuestSchema } from './incident-schemas';
import { id, MAX_REASON_LENGTH } from './schemas';

/** The longest a window or silence may be set for: 30 days (a forgotten one runs out). */
export const MAX_MAINTENANCE_SECONDS = 30 * 86_400;
/** Most entries in one page of a list. */
export const MAX_MAINTENANCE_PAGE = 1000;

/** A node as `<cluster>/<node>`. */
export const NODE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\/[A-Za-z0-9][A-Za-z0-9.-]{0,63}$/;
/** A PVE tag. */
export const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_+.-]{0,63}$/;

/** What each scope's target looks like, for messages. */
type ScopeTarget = { pattern: RegExp; shape: string };
export const SCOPE_TARGETS: Readonly<Record<(typeof MAINTENANCE_SCOPES)[number], ScopeTarget>> = {
  guest: { pattern: GUEST_PATTERN, shape: "'<cluster>/<vmid>', e.g. lab/101" },
  node: { pattern: NODE_PATTERN, shape: "'<cluster>/<node>', e.g. lab/pve2" },
  tag: { pattern: TAG_PATTERN, shape: 'a tag of letters, digits and _ + . -' },
};

/** Incident kinds about a guest: the ones a silence can name. */
export const SILENCEABLE_KINDS = CONDITION_KINDS.filter((k) => k.startsWith('vm-') || k.startsWith('guest-'));

export { MAINTENANCE_SCOPES };
export const MaintenanceScopeSchema = z.enum(MAINTENANCE_SCOPES);
export const MaintenanceEntryStateSchema = z.enum(['scheduled', 'active', 'ended', 'expired']);
export const SilenceableKindSchema = z.enum(SILENCEABLE_KINDS as [string, ...string[]]);

const time = () => z.number().int().nonnegative();

/** Fields every window and silence has. */
const entry = {
  id: z.string(),
  /** epoch ms */
  from: z.number(),
  /** epoch ms, not included */
  until: z.number(),
  reason: z.string(),
  /** Who set it: the principal's id (a token id), and its name. */
  by: z.string(),
  byName: z.string().optional(),
  createdAt: z.number(),
  /** Where it stands now. */
  state: MaintenanceEntryStateSchema,
  /** Set when a person ended it before `until`. */
  endedAt: z.number().optional(),
  endedBy: z.string().optional(),
};

export const MaintenanceViewSchema = z.object({
  ...entry,
  scope: MaintenanceScopeSchema,
  /** guest `<cluster>/<vmid>`, node `<cluster>/<node>`, tag `<tag>` */
  target: z.string(),
  /** The drain request that set this node window (an undrain ends it). */
  request: z.string().optional(),
});

export const SilenceViewSchema = z.object({
  ...entry,
  kind: z.string(),
  /** `<cluster>/<vmid>` */
  guest: z.string(),
});

/** When it holds: exactly one of `durationSeconds` and `until`; `from` defaults to now. */
const when = {
  from: time().optional(),
  until: time().optional(),
  durationSeconds: z.number().int().min(1).max(MAX_MAINTENANCE_SECONDS).optional(),
  reason: z.string().trim().min(1).max(MAX_REASON_LENGTH),
};

function oneEnd(value: { until?: number | undefined; durationSeconds?: number | undefined }, ctx: z.RefinementCtx) {
  if ((value.until === undefined) === (value.durationSeconds === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: ['durationSeconds'],
      message: 'give exactly one of durationSeconds and until',
    });
  }
}

// --- the queries ---------------------------------------------------------------------------------------------------

export const MaintenanceStartPayloadSchema = z
  .strictObject({ scope: MaintenanceScopeSchema, target: z.string().min(1).max(200), ...when })
  .superRefine((value, ctx) => {
    const { pattern, shape } = SCOPE_TARGETS[value.scope];
    if (!pattern.test(value.target)) {
      ctx.addIssue({ code: 'custom', path: ['target'], message: `a ${value.scope} is ${shape}` });
    }
    oneEnd(value, ctx);
  });

export const SilenceAddPayloadSchema = z
  .strictObject({ kind: SilenceableKindSchema, guest: GuestSchema, ...when })
  .superRefine(oneEnd);

/** A list: by default what is not over yet (active or scheduled); `all` adds what ended or ran out, newest first. */
export const MaintenanceListPayloadSchema = z.strictObject({
  all: z.boolean().optional(),
  limit: z.number().int().min(1).max(MAX_MAINTENANCE_PAGE).optional(),
  offset: z.number().int().min(0).optional(),
});

export const MaintenanceIdPayloadSchema = z.strictObject({ id: id() });

const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), total: z.number(), limit: z.number(), offset: z.number() });

export const MaintenanceListReplySchema = page(MaintenanceViewSchema);
export const SilenceListReplySchema = page(SilenceViewSchema);

const refusal = z.object({ ok: z.literal(false), code: z.enum(['not_found', 'conflict']), reason: z.string() });
export const MaintenanceEndReplySchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), window: MaintenanceViewSchema }),
  refusal,
]);
export const SilenceRemoveReplySchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), silence: SilenceViewSchema }),
  refusal,
]);

export type MaintenanceScope = z.infer<typeof MaintenanceScopeSchema>;
export type MaintenanceView = z.infer<typeof MaintenanceViewSchema>;
export type SilenceView = z.infer<typeof SilenceViewSchema>;
export type MaintenanceEntryState = z.infer<typeof MaintenanceEntryStateSchema>;
export type MaintenanceStartPayload = z.infer<typeof MaintenanceStartPayloadSchema>;
export type SilenceAddPayload = z.infer<typeof SilenceAddPayloadSchema>;
export type MaintenanceListPayload = z.infer<typeof MaintenanceListPayloadSchema>;
export type MaintenanceListReply = z.infer<typeof MaintenanceListReplySchema>;
export type SilenceListReply = z.infer<typeof SilenceListReplySchema>;
export type MaintenanceEndReply = z.infer<typeof MaintenanceEndReplySchema>;
export type SilenceRemoveReply = z.infer<typeof SilenceRemoveReplySchema>;
