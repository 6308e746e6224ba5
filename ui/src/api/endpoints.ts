// The /v1 calls the dashboard makes, one typed function each (the routes are in gateway/routes/*.ts).
import { del, get, post, seg } from './client';
import type {
  Action,
  ActorInspection,
  ActorKind,
  ActorSummary,
  AuditQueryReply,
  BackupsReply,
  CommandAnswer,
  HealthReply,
  HostView,
  IncidentDetail,
  IncidentListReply,
  IncidentView,
  LabListReply,
  LabPlanReply,
  LabView,
  MaintenanceListReply,
  MaintenanceScope,
  MaintenanceView,
  Page,
  RequestStatus,
  RequestView,
  SessionReply,
  SilenceListReply,
  SilenceView,
  SnapshotView,
  StatusReply,
  SubmitAnswer,
  SummaryReply,
  VmView,
} from './types';

export const api = {
  signIn: (token: string) => post<SessionReply>('/v1/session', { token }, { quietUnauthorized: true }),
  session: () => get<SessionReply>('/v1/session', undefined, { quietUnauthorized: true }),
  signOut: () => del<void>('/v1/session', { quietUnauthorized: true }),

  status: (signal?: AbortSignal) => get<StatusReply>('/v1/status', undefined, { signal }),
  summary: (signal?: AbortSignal) => get<SummaryReply>('/v1/summary', undefined, { signal }),
  health: (signal?: AbortSignal) => get<HealthReply>('/v1/health', undefined, { signal }),

  vms: (query: { cluster?: string; limit?: number; offset?: number }, signal?: AbortSignal) =>
    get<Page<VmView>>('/v1/vms', query, { signal }),
  vm: (cluster: string, vmid: number, signal?: AbortSignal) =>
    get<VmView>(`/v1/vms/${seg(cluster)}/${seg(vmid)}`, undefined, { signal }),
  snapshots: (cluster: string, vmid: number, signal?: AbortSignal) =>
    get<Page<SnapshotView>>(`/v1/vms/${seg(cluster)}/${seg(vmid)}/snapshots`, undefined, { signal }),
  /** One guest's newest backup and the jobs of its cluster. */
  backups: (cluster: string, vmid: number, signal?: AbortSignal) =>
    get<BackupsReply>('/v1/backups', { cluster, vmid }, { signal }),
  hosts: (signal?: AbortSignal) => get<Page<HostView>>('/v1/hosts', { limit: 1000 }, { signal }),

  requests: (
    query: { status?: RequestStatus; guest?: string; limit?: number; offset?: number },
    signal?: AbortSignal,
  ) => get<Page<RequestView>>('/v1/requests', query, { signal }),
  request: (id: string, signal?: AbortSignal) => get<RequestView>(`/v1/requests/${seg(id)}`, undefined, { signal }),
  submit: (body: {
    action: Action;
    target: { cluster: string; vmid?: number; node?: string };
    params?: Record<string, unknown>;
    force?: boolean;
  }) => post<SubmitAnswer>('/v1/requests', body),
  command: (id: string, command: 'approve' | 'deny' | 'cancel', reason?: string) =>
    post<CommandAnswer>(`/v1/requests/${seg(id)}/${command}`, reason ? { reason } : {}),

  incidents: (
    query: { state?: string; kind?: string; guest?: string; limit?: number; offset?: number },
    signal?: AbortSignal,
  ) => get<IncidentListReply>('/v1/incidents', query, { signal }),
  incident: (id: string, signal?: AbortSignal) =>
    get<IncidentDetail>(`/v1/incidents/${seg(id)}`, undefined, { signal }),
  incidentAct: (id: string, act: 'ack' | 'resolve', note?: string) =>
    post<IncidentView>(`/v1/incidents/${seg(id)}/${act}`, note ? { note } : {}),

  labs: (live: boolean, signal?: AbortSignal) =>
    get<LabListReply>('/v1/labs', { live: live ? undefined : 'false', limit: 500 }, { signal }),
  lab: (cluster: string, name: string, signal?: AbortSignal) =>
    get<LabView>(`/v1/labs/${seg(name)}`, { cluster }, { signal }),
  labPlan: (file: string, fileName?: string) => post<LabPlanReply>('/v1/labs/plan', { file, fileName }),
  labApply: (file: string, fileName?: string) => post<LabView>('/v1/labs', { file, fileName }),
  labAct: (cluster: string, name: string, act: 'approve' | 'deny' | 'destroy', reason?: string) =>
    post<LabView>(`/v1/labs/${seg(name)}/${act}`, { cluster, ...(reason ? { reason } : {}) }),
  labSnapshot: (cluster: string, name: string, act: 'snapshot' | 'revert', snapshot: string) =>
    post<LabView>(`/v1/labs/${seg(name)}/${act}`, { cluster, snapshot }),

  // Maintenance windows and silences: what is not over yet, or (all) also what ended or ran out.
  maintenance: (all: boolean, signal?: AbortSignal) =>
    get<MaintenanceListReply>('/v1/maintenance', { all: all ? 'true' : undefined, limit: 1000 }, { signal }),
  maintenanceStart: (body: { scope: MaintenanceScope; target: string; durationSeconds: number; reason: string }) =>
    post<MaintenanceView>('/v1/maintenance', body),
  maintenanceEnd: (id: string) => del<MaintenanceView>(`/v1/maintenance/${seg(id)}`),
  silences: (all: boolean, signal?: AbortSignal) =>
    get<SilenceListReply>('/v1/silences', { all: all ? 'true' : undefined, limit: 1000 }, { signal }),
  silenceAdd: (body: { kind: string; guest: string; durationSeconds: number; reason: string }) =>
    post<SilenceView>('/v1/silences', body),
  silenceRemove: (id: string) => del<SilenceView>(`/v1/silences/${seg(id)}`),
  /** Windows and silences together (see maintenance and silences). */
  maintenanceBoard: async (all: boolean, signal?: AbortSignal) => {
    const [windows, silences] = await Promise.all([api.maintenance(all, signal), api.silences(all, signal)]);
    return { windows: windows.items, silences: silences.items };
  },

  audit: (query: { afterSeq?: number; limit?: number; kind?: string; actor?: string }, signal?: AbortSignal) =>
    get<AuditQueryReply>('/v1/audit', query, { signal }),

  actors: (query: { kind?: ActorKind; prefix?: string; limit?: number; offset?: number }, signal?: AbortSignal) =>
    get<Page<ActorSummary>>('/v1/actors', query, { signal }),
  inspect: (id: string, signal?: AbortSignal) =>
    get<ActorInspection>(`/v1/actors/${seg(id)}/inspect`, undefined, { signal }),
};

/**
 * Every guest, 1000 a page: `onPage` is called with the first page as soon as it arrives (it says how many there
 * are), then with each other page, fetched in parallel, as it arrives (in any order). Resolves once all arrived.
 */
export async function eachVmPage(onPage: (items: VmView[]) => void, signal?: AbortSignal): Promise<void> {
  const pageSize = 1000;
  const first = await api.vms({ limit: pageSize }, signal);
  onPage(first.items);
  const pages = Math.ceil(first.total / pageSize);
  await Promise.all(
    Array.from({ length: Math.max(0, pages - 1) }, (_, i) =>
      api.vms({ limit: pageSize, offset: (i + 1) * pageSize }, signal).then((page) => onPage(page.items)),
    ),
  );
}
