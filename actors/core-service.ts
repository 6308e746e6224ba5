// The core's side of the NATS protocol: submissions, approvals and the gateway's reads, answered from the
// Overseer runtime and the state store. The gateway never sees SQLite; it asks here.
import type { Clock } from '../adapters/clock';
import { isProductionVm } from '../machines/gate';
import { LOOP_NAMES } from '../machines/loops/periodic-loop.machine';
import type { HostInfo, Requester, VmInfo } from '../machines/types';
import { hostKey, OVERSEER_ID, vmKey } from '../machines/types';
import type {
  Bus,
  CoreHandlers,
  HostView,
  Principal,
  QueryHandlers,
  RequestView,
  Unsubscribe,
  VmView,
} from '../protocol';
import { InputRefusedError, serveCoreProtocol } from '../protocol';
import type { RequestRecord, StateStore } from '../state';
import { summarize } from '../state';
import { actorQueries } from './actor-queries';
import type { AuditCheckpointSink } from './audit-checkpoint';
import { answerAuditQuery } from './audit-queries';
import type { OverseerConfig } from './config';
import { guestQueries } from './guest-queries';
import { incidentQueries, openIncidentsBySeverity } from './incident-queries';
import { labQueries } from './lab-queries';
import { createListQueries } from './list-queries';
import { maintenanceQueries } from './maintenance-service';
import type { Overseer } from './overseer';
import { PrincipalResolver } from './principals';
import { finalDecision } from './request-decision';
import { revokeToken } from './token-revoke';
import { stateName } from './watch';

export interface CoreServiceDeps {
  bus: Bus;
  overseer: Overseer;
  store: StateStore;
  config: OverseerConfig;
  clock: Clock;
  startedAt: number;
  /** Queue group so several core processes could share the subjects. */
  queue?: string;
  /** Where the audit chain's head is checkpointed outside SQLite (the `audit` query verifies against it). */
  auditCheckpoints?: AuditCheckpointSink | undefined;
  /**
   * Approvals, denials and cancellations, when not the Overseer's own: a cluster runtime's answer only once its
   * effect is in the replicated record (cluster-runtime.ts).
   */
  commands?: RequestCommands | undefined;
  /** A cluster runtime's wait for the record (ClusterRuntime.durable): maintenance changes are answered after it. */
  durable?: (() => Promise<void>) | undefined;
}

type RequestCommands = {
  [K in 'approve' | 'deny' | 'cancel']: (
    id: string,
    by: Requester,
    reason?: string,
  ) => ReturnType<Overseer[K]> | Promise<ReturnType<Overseer[K]>>;
};

const requesterOf = (p: Principal): Requester => ({ id: p.id, role: p.role, name: p.name, person: p.person });

/** How far a bulk request got: its children by status. */
export function bulkProgress(store: StateStore, r: RequestRecord): RequestView['progress'] {
  if (!r.members) return undefined;
  const counts = store.requests.countByStatus({ parent: r.id });
  const sum = (statuses: readonly string[]) => statuses.reduce((n, s) => n + (counts[s] ?? 0), 0);
  return {
    total: r.members.length,
    completed: sum(['completed', 'nothing_to_do']),
    failed: sum(['failed', 'denied', 'cancelled', 'expired']),
    active: sum(['received', 'validating', 'gating', 'awaiting_approval', 'approved', 'queued', 'executing']),
  };
}

/**
 * Each status change with the name of who caused it (`byName`): Overseer's own as 'overseer', a token id as its
 * token's name (`nameOf`), or — for a token no longer known — the requester's name as it was submitted.
 */
function namedHistory(r: RequestRecord, nameOf?: (id: string) => string | undefined): RequestView['history'] {
  const names = new Map<string, string | undefined>();
  const nameOfBy = (by: string): string | undefined => {
    if (by === OVERSEER_ID) return OVERSEER_ID;
    if (!names.has(by)) names.set(by, nameOf?.(by) ?? (by === r.requester.id ? r.requester.name : undefined));
    return names.get(by);
  };
  return r.history.map((h) => {
    const byName = h.by === undefined ? undefined : nameOfBy(h.by);
    return byName === undefined ? h : { ...h, byName };
  });
}

/**
 * A stored request as the protocol shows it; `nameOf` names a token id (the person who decided it, and who caused
 * each status change).
 */
export function requestView(
  r: RequestRecord,
  nameOf?: (id: string) => string | undefined,
  progress?: RequestView['progress'],
): RequestView {
  const { decision, decidedBy } = finalDecision(r, nameOf);
  return {
    ...(r.parent ? { parent: r.parent } : {}),
    ...(r.members ? { members: r.members } : {}),
    ...(progress ? { progress } : {}),
    id: r.id,
    action: r.action,
    target: r.target,
    params: r.params,
    force: r.force,
    requester: r.requester,
    origin: r.origin,
    status: r.status,
    decision,
    ...(decidedBy ? { decidedBy } : {}),
    reasons: r.reasons,
    checks: r.checks,
    history: namedHistory(r, nameOf),
    tasks: r.taskIds,
    error: r.error,
    submittedAt: r.submittedAt,
    updatedAt: r.updatedAt,
  };
}

export function createCoreHandlers(deps: CoreServiceDeps, principals: PrincipalResolver): CoreHandlers {
  const { overseer, store, config, clock } = deps;
  const tokenName = (id: string): string | undefined => store.tokens.get(id)?.name;

  const vmView = (info: VmInfo): VmView => {
    // Read without waking an actor at rest (a listing reads every VM).
    const snapshot = overseer.vms.peek(vmKey(info.cluster, info.vmid));
    // Object.assign, not `{ ...info, state, … }`: a listing makes one per VM (bench/object-spread.ts).
    return Object.assign({}, info, {
      type: info.type ?? 'qemu',
      state: snapshot ? stateName(snapshot.value) : 'unknown',
      production: isProductionVm(info, config.gate),
      activeRequest: overseer.view.activeRequests.get(vmKey(info.cluster, info.vmid)),
    });
  };
  const hostView = (info: HostInfo): HostView => {
    const actor = overseer.hosts.get(hostKey(info.cluster, info.node));
    return Object.assign({}, info, { state: actor ? stateName(actor.getSnapshot().value) : 'unknown' });
  };

  const queries: QueryHandlers = {
    // Before the loops start (a moment after the core serves), the root actor is not there yet: 'starting'.
    status: () => {
      const root = overseer.rootSnapshot;
      const loops: Record<string, { state: string; cycles: number; failures: number; lastError?: string }> = {};
      for (const name of LOOP_NAMES) {
        const child = root?.children[name]?.getSnapshot() as
          | { value: unknown; context: { cycles?: number; failures?: number; lastError?: string } }
          | undefined;
        if (!child) continue;
        loops[name] = {
          state: stateName(child.value as never),
          cycles: child.context.cycles ?? 0,
          failures: child.context.failures ?? 0,
          ...(child.context.lastError ? { lastError: child.context.lastError } : {}),
        };
      }
      return {
        state: root ? stateName(root.value) : 'starting',
        escalated: root?.context.escalated ?? [],
        loops,
        clusters: [...overseer.view.clusters.values()],
        startedAt: deps.startedAt,
        now: clock.now(),
        incidents: openIncidentsBySeverity(store),
      };
    },
    summary: () => summarize(overseer.summary),
    health: () => {
      const own = overseer.health();
      const nats = { name: 'nats', ok: deps.bus.connected, detail: deps.bus.connected ? 'connected' : 'disconnected' };
      return { ok: own.ok && nats.ok, checks: [...own.checks, nats] };
    },
    vm: ({ cluster, vmid }) => {
      const info = overseer.view.vms.get(vmKey(cluster, vmid));
      return info ? vmView(info) : null;
    },
    ...createListQueries({ overseer, store, config, vmView, hostView, tokenName, requestView }),
    request: ({ id }) => {
      const record = store.requests.get(id);
      return record ? requestView(record, tokenName, bulkProgress(store, record)) : null;
    },
    sync: () => {
      overseer.syncSoon();
      return { started: true as const };
    },
    auth: (_, principal) => ({ principal }),
    tokenCreate: ({ name, role, samePersonAs }, by) => {
      if (name.toLowerCase() === OVERSEER_ID) {
        throw new InputRefusedError(
          `the name '${OVERSEER_ID}' is the Overseer's own and cannot be given to a token`,
          'name',
        );
      }
      let person: string | undefined;
      if (samePersonAs !== undefined) {
        const other = store.tokens.get(samePersonAs);
        if (!other || other.revokedAt !== undefined) {
          throw new InputRefusedError(`samePersonAs: no active token ${samePersonAs}`, 'samePersonAs');
        }
        person = other.person;
      }
      const at = clock.now();
      const created = store.transaction(() => {
        const c = store.tokens.create(name, role, by.id, at, person);
        store.audit.append({
          at,
          actor: by.id,
          kind: 'token.created',
          data: { id: c.record.id, name, role, person: c.record.person },
        });
        return c;
      });
      return { id: created.record.id, name, role, token: created.token };
    },
    audit: (payload) => answerAuditQuery({ store, checkpoints: deps.auditCheckpoints }, payload),
    ...incidentQueries({ store, clock, incidents: overseer.monitor.incidents }),
    tokenRevoke: (payload, by) => revokeToken({ store, clock, principals }, payload, by),
    ...maintenanceQueries({
      store,
      clock,
      view: overseer.view,
      publish: (s, p) => deps.bus.publish(s, p),
      durable: deps.durable,
    }),
    ...guestQueries({ overseer, platforms: overseer.platforms }),
    ...labQueries({ view: overseer.view, platforms: overseer.platforms, config }),
    ...actorQueries({ overseer, journal: overseer.journal }),
    labApply: ({ file, fileName }, principal) => overseer.labService.apply(file, fileName, requesterOf(principal)),
    labList: (payload) => overseer.labService.list(payload),
    lab: (payload) => overseer.labService.get(payload),
    labApprove: (payload, principal) => overseer.labService.approve(payload, requesterOf(principal)),
    labDeny: (payload, principal) => overseer.labService.deny(payload, requesterOf(principal)),
    labDestroy: (payload, principal) => overseer.labService.destroy(payload, requesterOf(principal)),
    labSnapshot: (payload, principal) => overseer.labService.snapshot(payload, requesterOf(principal)),
    labRevert: (payload, principal) => overseer.labService.revert(payload, requesterOf(principal)),
  };

  return {
    submit: (p, principal) =>
      overseer.submit({
        action: p.action,
        target: p.target,
        params: p.params,
        force: p.force,
        requester: requesterOf(principal),
        idempotencyKey: p.idempotencyKey,
        dryRun: p.dryRun,
      }),
    command: (id, command, p, principal) => {
      const by = requesterOf(principal);
      const commands: RequestCommands = deps.commands ?? overseer;
      if (command === 'approve') return commands.approve(id, by, p.reason);
      if (command === 'deny') return commands.deny(id, by, p.reason);
      return commands.cancel(id, by, p.reason);
    },
    queries,
  };
}

/**
 * Answers the protocol on the bus; returns the unsubscribe. Every call's credential is resolved by the core's
 * own token store; a refused call is audited and nothing else happens.
 */
export function serveCore(deps: CoreServiceDeps): Unsubscribe {
  const principals = new PrincipalResolver(deps.store, deps.clock);
  return serveCoreProtocol(deps.bus, createCoreHandlers(deps, principals), {
    ...(deps.queue ? { queue: deps.queue } : {}),
    authenticate: (credential) => principals.authenticate(credential),
    refused: ({ subject, reason, principal }) =>
      deps.store.audit.append({
        at: deps.clock.now(),
        actor: principal?.id ?? 'unauthenticated',
        kind: 'call.refused',
        data: { subject, reason },
      }),
  });
}
