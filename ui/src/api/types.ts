// The wire types the dashboard reads, imported as types only from the protocol (zod schemas' inferred types:
// nothing of zod reaches the bundle), plus the few HTTP-only shapes the protocol does not name.
import type { AuditQueryReply, AuditRowView, AuditVerificationView } from '../../../protocol/audit-schemas';
import type {
  IncidentDetail,
  IncidentListReply,
  IncidentRequestView,
  IncidentTimelineEntry,
  IncidentView,
} from '../../../protocol/incident-schemas';
import type { LabListReply, LabMemberView, LabPlanReply, LabView } from '../../../protocol/lab-schemas';
import type {
  MaintenanceListReply,
  MaintenanceScope,
  MaintenanceView,
  SilenceListReply,
  SilenceView,
} from '../../../protocol/maintenance-schemas';
import type {
  BackupsReply,
  CheckResultView,
  HealthReply,
  HostView,
  Principal,
  RequestView,
  SnapshotView,
  StatusReply,
  SummaryReply,
  VmView,
} from '../../../protocol/schemas';

export type {
  AuditQueryReply,
  AuditRowView,
  AuditVerificationView,
  BackupsReply,
  CheckResultView,
  HealthReply,
  HostView,
  IncidentDetail,
  IncidentListReply,
  IncidentRequestView,
  IncidentTimelineEntry,
  IncidentView,
  LabListReply,
  LabMemberView,
  LabPlanReply,
  LabView,
  MaintenanceListReply,
  MaintenanceScope,
  MaintenanceView,
  Principal,
  RequestView,
  SilenceListReply,
  SilenceView,
  SnapshotView,
  StatusReply,
  SummaryReply,
  VmView,
};

export type Role = Principal['role'];
export type Action = RequestView['action'];
export type Decision = NonNullable<RequestView['decision']>;
export type RequestStatus = RequestView['status'];

/** A page of a list and how many match in all. */
export interface Page<T> {
  items: T[];
  total: number;
}

/** GET/POST /v1/session. */
export interface SessionReply {
  principal: Principal;
  csrf: string;
}

/** POST /v1/requests: the gate's answer (201), or a dry run's (200, no id). */
export interface SubmitAnswer {
  id?: string;
  dryRun?: boolean;
  decision: Decision;
  reasons: string[];
  checks: CheckResultView[];
  status?: RequestStatus;
  members?: { vmid: number; action: Action; params: Record<string, unknown> }[];
}

/** POST /v1/requests/{id}/approve|deny|cancel. */
export interface CommandAnswer {
  id: string;
  status: RequestStatus;
}

export type ActorKind = 'overseer' | 'loop' | 'vm' | 'host' | 'request' | 'incident' | 'lab';

/** GET /v1/actors. */
export interface ActorSummary {
  id: string;
  kind: ActorKind;
  state: string;
}

/** GET /v1/actors/{id}/inspect. `value` is the snapshot's state value (older answers carry it in `state`). */
export interface ActorInspection {
  id: string;
  kind: ActorKind;
  value?: unknown;
  state: unknown;
  status: string;
  machine: unknown;
  events: { type: string; at: number }[];
}

/** The JSON error body of every failed /v1 call. */
export interface ErrorBody {
  error?: { code?: string; message?: string; field?: string };
}
