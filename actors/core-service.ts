// The core's side of the NATS protocol: submissions, approvals and the gateway's reads, answered from the
// Overseer runtime and the state store. The gateway never sees SQLite; it asks here.
import type { Clock } from '../adapters/clock';
import type { Bus, Unsubscribe } from '../adapters/nats/bus';
import type { CoreHandlers, HostView, QueryHandlers, RequestView, VmView } from '../adapters/nats/protocol';
import { serveCoreProtocol } from '../adapters/nats/protocol';
import { isProductionVm } from '../machines/gate';
import { LOOP_NAMES } from '../machines/loops/periodic-loop.machine';
import type { HostInfo, VmInfo } from '../machines/types';
import { hostKey, vmKey } from '../machines/types';
import type { RequestRecord, StateStore } from '../state';
import { summarize } from '../state';
import type { OverseerConfig } from './config';
import type { Overseer } from './overseer';
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
}

/** How often a token's last use is written (reads stay cheap under load). */
const TOUCH_EVERY_MS = 60_000;
const MAX_PAGE = 1000;

export function requestView(r: RequestRecord): RequestView {
  return {
    id: r.id,
    action: r.action,
    target: r.target,
    params: r.params,
    force: r.force,
    requester: r.requester,
    origin: r.origin,
    status: r.status,
    decision: r.decision,
    reasons: r.reasons,
    checks: r.checks,
    history: r.history,
    tasks: r.taskIds,
    error: r.error,
    submittedAt: r.submittedAt,
    updatedAt: r.updatedAt,
  };
}

export function createCoreHandlers(deps: CoreServiceDeps): CoreHandlers {
  const { overseer, store, config, clock } = deps;
  const touched = new Map<string, number>();

  const vmView = (info: VmInfo): VmView => {
    const actor = overseer.vms.get(vmKey(info.cluster, info.vmid));
    return {
      ...info,
      state: actor ? stateName(actor.getSnapshot().value) : 'unknown',
      production: isProductionVm(info, config.gate),
      activeRequest: overseer.view.activeRequests.get(vmKey(info.cluster, info.vmid)),
    };
  };
  const hostView = (info: HostInfo): HostView => {
    const actor = overseer.hosts.get(hostKey(info.cluster, info.node));
    return { ...info, state: actor ? stateName(actor.getSnapshot().value) : 'unknown' };
  };

  const queries: QueryHandlers = {
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
        state: root ? stateName(root.value) : 'stopped',
        escalated: root?.context.escalated ?? [],
        loops,
        clusters: [...overseer.view.clusters.values()],
        startedAt: deps.startedAt,
        now: clock.now(),
      };
    },
    summary: () => summarize(overseer.summary),
    health: () => {
      const own = overseer.health();
      const nats = { name: 'nats', ok: deps.bus.connected, detail: deps.bus.connected ? 'connected' : 'disconnected' };
      return { ok: own.ok && nats.ok, checks: [...own.checks, nats] };
    },
    vms: ({ cluster, node, state, tag, limit, offset }) => {
      const items: VmView[] = [];
      for (const info of overseer.view.vms.values()) {
        if (cluster && info.cluster !== cluster) continue;
        if (node && info.node !== node) continue;
        if (tag && !info.tags.includes(tag)) continue;
        const view = vmView(info);
        if (state && view.state !== state) continue;
        items.push(view);
      }
      items.sort((a, b) => a.cluster.localeCompare(b.cluster) || a.vmid - b.vmid);
      const from = offset ?? 0;
      return { items: items.slice(from, from + Math.min(limit ?? MAX_PAGE, MAX_PAGE)), total: items.length };
    },
    vm: ({ cluster, vmid }) => {
      const info = overseer.view.vms.get(vmKey(cluster, vmid));
      return info ? vmView(info) : null;
    },
    hosts: ({ cluster }) => ({
      items: [...overseer.view.hosts.values()].filter((h) => !cluster || h.cluster === cluster).map(hostView),
    }),
    requests: ({ status, requester, limit }) => ({
      items: store.requests.list({ status, requester, limit: Math.min(limit ?? 100, MAX_PAGE) }).map(requestView),
    }),
    request: ({ id }) => {
      const record = store.requests.get(id);
      return record ? requestView(record) : null;
    },
    sync: () => {
      overseer.syncSoon();
      return { started: true as const };
    },
    auth: ({ token }) => {
      const record = store.tokens.verify(token);
      if (!record) return { ok: false as const };
      const now = clock.now();
      if (now - (touched.get(record.id) ?? 0) > TOUCH_EVERY_MS) {
        touched.set(record.id, now);
        store.tokens.touch(record.id, now);
      }
      return { ok: true as const, principal: { id: record.name, role: record.role, tokenId: record.id } };
    },
    tokenCreate: ({ name, role, by }) => {
      const at = clock.now();
      const created = store.transaction(() => {
        const c = store.tokens.create(name, role, by, at);
        store.audit.append({ at, actor: by, kind: 'token.created', data: { id: c.record.id, name, role } });
        return c;
      });
      return { id: created.record.id, name, role, token: created.token };
    },
    tokenList: () => ({ items: store.tokens.list() }),
    tokenRevoke: ({ id, by }) => {
      const at = clock.now();
      const ok = store.transaction(() => {
        const revoked = store.tokens.revoke(id, at);
        if (revoked) store.audit.append({ at, actor: by, kind: 'token.revoked', data: { id } });
        return revoked;
      });
      return { ok };
    },
  };

  return {
    submit: async (p) => {
      const r = await overseer.submit({
        action: p.action,
        target: p.target,
        params: p.params,
        force: p.force,
        requester: p.requester,
        idempotencyKey: p.idempotencyKey,
      });
      return r;
    },
    command: (id, command, p) => {
      if (command === 'approve') return overseer.approve(id, p.by);
      if (command === 'deny') return overseer.deny(id, p.by, p.reason);
      return overseer.cancel(id, p.by);
    },
    queries,
  };
}

/** Answers the protocol on the bus; returns the unsubscribe. */
export function serveCore(deps: CoreServiceDeps): Unsubscribe {
  return serveCoreProtocol(deps.bus, createCoreHandlers(deps), deps.queue ? { queue: deps.queue } : {});
}
