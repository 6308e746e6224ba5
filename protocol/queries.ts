// The query table: every `overseer.query.<what>` with its payload and reply schemas and the lowest role the
// core answers it for. The core enforces the role itself; the gateway's route roles are only an early answer.
import { z } from 'zod';
import type { Role } from '../machines/types';
import {
  ActorInspectPayloadSchema,
  ActorInspectReplySchema,
  ActorListPayloadSchema,
  ActorListReplySchema,
} from './actor-schemas';
import { AuditQueryPayloadSchema, AuditQueryReplySchema } from './audit-schemas';
import {
  GuestSchema,
  IncidentActPayloadSchema,
  IncidentActReplySchema,
  IncidentGetPayloadSchema,
  IncidentGetReplySchema,
  IncidentListPayloadSchema,
  IncidentListReplySchema,
} from './incident-schemas';
import {
  LabActPayloadSchema,
  LabApplyPayloadSchema,
  LabListPayloadSchema,
  LabListReplySchema,
  LabPlanPayloadSchema,
  LabPlanReplySchema,
  LabRefPayloadSchema,
  LabSnapshotPayloadSchema,
  LabViewSchema,
} from './lab-schemas';
import {
  MaintenanceEndReplySchema,
  MaintenanceIdPayloadSchema,
  MaintenanceListPayloadSchema,
  MaintenanceListReplySchema,
  MaintenanceStartPayloadSchema,
  MaintenanceViewSchema,
  SilenceAddPayloadSchema,
  SilenceListReplySchema,
  SilenceRemoveReplySchema,
  SilenceViewSchema,
} from './maintenance-schemas';
import {
  BackupsReplySchema,
  CreatedTokenSchema,
  EmptySchema,
  HealthReplySchema,
  HostViewSchema,
  id,
  PrincipalSchema,
  paging,
  RequestStatusSchema,
  RequestViewSchema,
  RoleSchema,
  SnapshotViewSchema,
  StatusReplySchema,
  SummaryReplySchema,
  TokenInfoSchema,
  VmViewSchema,
} from './schemas';

interface QuerySpec {
  payload: z.ZodType;
  reply: z.ZodType;
  /** Lowest role answered; `any` needs only a valid credential (the `auth` query itself). */
  role: Role | 'any';
}

/** Token names: letters, digits and `_ . @ -`; the Overseer's own name is reserved. */
export const TokenNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]*$/, "expected letters, digits, '_', '.', '@' or '-'");

export const querySchemas = {
  status: { payload: EmptySchema, reply: StatusReplySchema, role: 'observer' },
  summary: { payload: EmptySchema, reply: SummaryReplySchema, role: 'observer' },
  health: { payload: EmptySchema, reply: HealthReplySchema, role: 'observer' },
  vms: {
    payload: z.strictObject({
      cluster: z.string().max(64).optional(),
      node: z.string().max(64).optional(),
      /** qemu (VMs) or lxc (containers). */
      type: z.enum(['qemu', 'lxc']).optional(),
      state: z.string().max(64).optional(),
      tag: z.string().max(64).optional(),
      ...paging,
    }),
    reply: z.object({ items: z.array(VmViewSchema), total: z.number() }),
    role: 'observer',
  },
  vm: {
    payload: z.strictObject({ cluster: z.string().min(1).max(64), vmid: z.number().int().nonnegative() }),
    reply: VmViewSchema.nullable(),
    role: 'observer',
  },
  hosts: {
    payload: z.strictObject({ cluster: z.string().max(64).optional(), ...paging }),
    reply: z.object({ items: z.array(HostViewSchema), total: z.number() }),
    role: 'observer',
  },
  requests: {
    payload: z.strictObject({
      status: RequestStatusSchema.optional(),
      requester: id().optional(),
      /** Only requests whose id starts with this (a CLI resolving an abbreviated id). */
      idPrefix: id()
        .regex(/^[A-Za-z0-9_:-]+$/, "expected letters, digits, '_', ':' or '-'")
        .optional(),
      /**
       * Only requests about this guest, `<cluster>/<vmid>`: those whose target is it, and bulk requests that list it
       * as a member.
       */
      guest: GuestSchema.optional(),
      ...paging,
    }),
    reply: z.object({ items: z.array(RequestViewSchema), total: z.number() }),
    role: 'observer',
  },
  request: { payload: z.strictObject({ id: id() }), reply: RequestViewSchema.nullable(), role: 'observer' },
  sync: { payload: EmptySchema, reply: z.object({ started: z.literal(true) }), role: 'operator' },
  /** Who the call's credential belongs to. */
  auth: { payload: EmptySchema, reply: z.object({ principal: PrincipalSchema }), role: 'any' },
  tokenCreate: {
    payload: z.strictObject({
      name: TokenNameSchema,
      role: RoleSchema,
      /** The new token belongs to the same person as this token (an admin's word, for the two-person rule). */
      samePersonAs: id().optional(),
    }),
    reply: CreatedTokenSchema,
    role: 'admin',
  },
  tokenList: {
    payload: z.strictObject({ ...paging }),
    reply: z.object({ items: z.array(TokenInfoSchema), total: z.number() }),
    role: 'admin',
  },
  tokenRevoke: { payload: z.strictObject({ id: id() }), reply: z.object({ ok: z.boolean() }), role: 'admin' },
  /** The audit log and the verification of its chain. */
  audit: { payload: AuditQueryPayloadSchema, reply: AuditQueryReplySchema, role: 'admin' },
  /** Incidents, newest first, filtered by state, kind and guest; a page and the total. */
  incidents: { payload: IncidentListPayloadSchema, reply: IncidentListReplySchema, role: 'observer' },
  /** One incident with its timeline and the requests it caused; null when unknown. */
  incident: { payload: IncidentGetPayloadSchema, reply: IncidentGetReplySchema, role: 'observer' },
  /** A person acknowledges an incident (audited as the caller). */
  incidentAck: { payload: IncidentActPayloadSchema, reply: IncidentActReplySchema, role: 'operator' },
  /** A person resolves an incident (audited as the caller). */
  incidentResolve: { payload: IncidentActPayloadSchema, reply: IncidentActReplySchema, role: 'operator' },
  /** Maintenance windows not yet over (or all of them); a page and the total. */
  maintenanceList: { payload: MaintenanceListPayloadSchema, reply: MaintenanceListReplySchema, role: 'observer' },
  /** A person puts a guest, a node or a tag into maintenance for a time (audited as the caller). */
  maintenanceStart: { payload: MaintenanceStartPayloadSchema, reply: MaintenanceViewSchema, role: 'operator' },
  /** A person ends a maintenance window early (audited as the caller). */
  maintenanceEnd: { payload: MaintenanceIdPayloadSchema, reply: MaintenanceEndReplySchema, role: 'operator' },
  /** A guest's snapshots, read from the platform now. */
  snapshots: {
    payload: z.strictObject({ cluster: z.string().min(1).max(64), vmid: z.number().int().nonnegative() }),
    reply: z.object({ items: z.array(SnapshotViewSchema) }),
    role: 'observer',
  },
  /** Backup jobs and each guest's newest backup, read from the platform now (one cluster, or all). */
  backups: {
    payload: z.strictObject({
      cluster: z.string().max(64).optional(),
      vmid: z.number().int().nonnegative().optional(),
    }),
    reply: BackupsReplySchema,
    role: 'observer',
  },
  /** The core's actors (VMs, hosts, requests, incidents, labs, the root and its loops) with their state. */
  actors: { payload: ActorListPayloadSchema, reply: ActorListReplySchema, role: 'observer' },
  /** One actor's machine definition, its state and the events it received (the dashboard's inspector). */
  actorInspect: { payload: ActorInspectPayloadSchema, reply: ActorInspectReplySchema, role: 'observer' },
  /** What applying a lab file would create, change or remove on its cluster, and its problems; nothing is done. */
  labPlan: { payload: LabPlanPayloadSchema, reply: LabPlanReplySchema, role: 'observer' },
  /**
   * Applies a lab file as the caller: a new lab is planned, gated as one unit and deployed; a lab of that name on
   * that cluster gets only the difference. Answers the lab once it is planned (its status says where it went).
   */
  labApply: { payload: LabApplyPayloadSchema, reply: LabViewSchema, role: 'operator' },
  /** Labs, newest first (live ones unless `live: false`); a page and the total. */
  labList: { payload: LabListPayloadSchema, reply: LabListReplySchema, role: 'observer' },
  /** One lab with its members and their states; null when unknown. */
  lab: { payload: LabRefPayloadSchema, reply: LabViewSchema.nullable(), role: 'observer' },
  /** A second person approves a lab the gate sent for approval (the two-person rule applies). */
  labApprove: { payload: LabActPayloadSchema, reply: LabViewSchema, role: 'operator' },
  /** Denies (another person, an admin) or cancels (its requester) a lab awaiting approval. */
  labDeny: { payload: LabActPayloadSchema, reply: LabViewSchema, role: 'operator' },
  /** Tears a lab down: everything it made, newest first, and nothing else. */
  labDestroy: { payload: LabActPayloadSchema, reply: LabViewSchema, role: 'admin' },
  /** Snapshots every member of a ready lab under one name. */
  labSnapshot: { payload: LabSnapshotPayloadSchema, reply: LabViewSchema, role: 'operator' },
  /** Rolls every member of a ready lab back to one of its whole-lab snapshots. */
  labRevert: { payload: LabSnapshotPayloadSchema, reply: LabViewSchema, role: 'operator' },
  /** Silences not yet over (or all of them); a page and the total. */
  silenceList: { payload: MaintenanceListPayloadSchema, reply: SilenceListReplySchema, role: 'observer' },
  /** A person silences one incident kind on one guest for a time (audited as the caller). */
  silenceAdd: { payload: SilenceAddPayloadSchema, reply: SilenceViewSchema, role: 'operator' },
  /** A person removes a silence early (audited as the caller). */
  silenceRemove: { payload: MaintenanceIdPayloadSchema, reply: SilenceRemoveReplySchema, role: 'operator' },
} as const satisfies Record<string, QuerySpec>;

export type QueryName = keyof typeof querySchemas;
export const QUERY_NAMES = Object.keys(querySchemas) as QueryName[];

/** Each query's payload and reply. */
export type QueryMap = {
  [W in QueryName]: {
    payload: z.infer<(typeof querySchemas)[W]['payload']>;
    reply: z.infer<(typeof querySchemas)[W]['reply']>;
  };
};

/** What a query handler may answer (before defaults are applied on the client's side). */
export type QueryReplyInput<W extends QueryName> = z.input<(typeof querySchemas)[W]['reply']>;
