// The wire shapes of incidents: the list (filtered by state, kind and guest; paged with limit/offset and a total),
// one incident with its timeline and the requests it caused, and a person's acknowledgement or resolution.
// The core's machine has the same statuses and severities (machines/incident.machine.ts); actors/incident-queries.ts
// checks at compile time that the two agree.
import { z } from 'zod';
import { ActionSchema, DecisionSchema, id, MAX_REASON_LENGTH, RequestStatusSchema } from './schemas';

export const INCIDENT_STATES = ['open', 'remediating', 'escalated', 'resolved'] as const;
export const INCIDENT_SEVERITIES = ['info', 'warning', 'critical'] as const;
/** The `state` filter: a state, or `unresolved` for every state but resolved. */
export const INCIDENT_STATE_FILTERS = [...INCIDENT_STATES, 'unresolved'] as const;

/** Most incidents in one page of the `incidents` query. */
export const MAX_INCIDENT_PAGE = 1000;
/** Incidents in a page when the payload names no limit. */
export const DEFAULT_INCIDENT_PAGE = 100;

/** A guest as `<cluster>/<vmid>` (the `guest` filter). */
export const GUEST_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\/[0-9]{1,9}$/;

export const IncidentStateSchema = z.enum(INCIDENT_STATES);
export const IncidentSeveritySchema = z.enum(INCIDENT_SEVERITIES);
export const IncidentStateFilterSchema = z.enum(INCIDENT_STATE_FILTERS);
export const GuestSchema = z.string().regex(GUEST_PATTERN, "expected '<cluster>/<vmid>'");

/** A person's word on an incident. */
export const IncidentPersonSchema = z.object({
  /** The principal's id (a token id). */
  by: z.string(),
  name: z.string().optional(),
  at: z.number(),
  note: z.string().optional(),
});

/** An incident as listed. */
export const IncidentViewSchema = z.object({
  id: z.string(),
  kind: z.string(),
  /** The actor it is about: `vm:lab/101`, `host:lab/pve2`, `cluster:lab`, `req:<id>`. */
  subject: z.string(),
  /** `lab/101` when the subject is a guest. */
  guest: z.string().optional(),
  severity: IncidentSeveritySchema,
  state: IncidentStateSchema,
  /** The latest sentence describing the condition. */
  detail: z.string(),
  openedAt: z.number(),
  updatedAt: z.number(),
  lastSeenAt: z.number(),
  occurrences: z.number(),
  remediationAttempts: z.number(),
  acknowledged: IncidentPersonSchema.optional(),
  resolvedAt: z.number().optional(),
  /** Set when a person resolved it. */
  resolvedBy: IncidentPersonSchema.optional(),
  outcome: z.string().optional(),
  cause: z.string().optional(),
});

export const TIMELINE_EVENTS = [
  'opened',
  'seen',
  'remediation',
  'command',
  'notified',
  'escalated',
  'acknowledged',
  'resolved',
] as const;

/** One line of an incident's history, oldest first. */
export const IncidentTimelineEntrySchema = z.object({
  at: z.number(),
  event: z.enum(TIMELINE_EVENTS),
  /** What happened, in one sentence. */
  detail: z.string(),
  /** The action taken (`start`, `reboot`, `command`, ...). */
  action: z.string().optional(),
  /** The request Overseer made for it. */
  requestId: z.string().optional(),
  /** Whether it worked, once known. */
  ok: z.boolean().optional(),
  /** The person, for acknowledgements and resolutions (a principal id) and their name. */
  by: z.string().optional(),
  byName: z.string().optional(),
});

/** A request an incident caused, as it stands now. */
export const IncidentRequestSchema = z.object({
  id: z.string(),
  action: ActionSchema,
  target: z.object({ cluster: z.string(), vmid: z.number().optional() }),
  status: RequestStatusSchema,
  decision: DecisionSchema.optional(),
  reasons: z.array(z.string()),
  error: z.string().optional(),
  submittedAt: z.number(),
  updatedAt: z.number(),
});

export const IncidentDetailSchema = IncidentViewSchema.extend({
  data: z.record(z.string(), z.unknown()).optional(),
  timeline: z.array(IncidentTimelineEntrySchema),
  requests: z.array(IncidentRequestSchema),
});

// --- the queries ---------------------------------------------------------------------------------------------------

/** `incidents`: newest first, matching every filter given. */
export const IncidentListPayloadSchema = z.strictObject({
  state: IncidentStateFilterSchema.optional(),
  kind: z.string().min(1).max(64).optional(),
  guest: GuestSchema.optional(),
  limit: z.number().int().min(1).max(MAX_INCIDENT_PAGE).optional(),
  offset: z.number().int().min(0).optional(),
});

export const IncidentListReplySchema = z.object({
  items: z.array(IncidentViewSchema),
  /** Incidents matching the filters, in every page. */
  total: z.number(),
  limit: z.number(),
  offset: z.number(),
});

export const IncidentGetPayloadSchema = z.strictObject({ id: id() });
export const IncidentGetReplySchema = IncidentDetailSchema.nullable();

/** `incidentAck` and `incidentResolve`: the incident and a note. */
export const IncidentActPayloadSchema = z.strictObject({
  id: id(),
  note: z.string().min(1).max(MAX_REASON_LENGTH).optional(),
});

export const IncidentActReplySchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), incident: IncidentViewSchema }),
  z.object({ ok: z.literal(false), code: z.enum(['not_found', 'conflict']), reason: z.string() }),
]);

export type IncidentState = z.infer<typeof IncidentStateSchema>;
export type IncidentSeverity = z.infer<typeof IncidentSeveritySchema>;
export type IncidentStateFilter = z.infer<typeof IncidentStateFilterSchema>;
export type IncidentView = z.infer<typeof IncidentViewSchema>;
export type IncidentPerson = z.infer<typeof IncidentPersonSchema>;
export type IncidentTimelineEntry = z.infer<typeof IncidentTimelineEntrySchema>;
export type IncidentRequestView = z.infer<typeof IncidentRequestSchema>;
export type IncidentDetail = z.infer<typeof IncidentDetailSchema>;
export type IncidentListPayload = z.infer<typeof IncidentListPayloadSchema>;
export type IncidentListReply = z.infer<typeof IncidentListReplySchema>;
export type IncidentActPayload = z.infer<typeof IncidentActPayloadSchema>;
export type IncidentActReply = z.infer<typeof IncidentActReplySchema>;
