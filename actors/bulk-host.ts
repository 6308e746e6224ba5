// The bulk runner's host in the request service: a bulk request's children are made (recorded and audited, then
// their actors created), watched until they end, and cancelled here; a drain's maintenance window is set and ended.

import type { RequestMachine } from '../machines/request.machine';
import type { Requester, RequestSpec, RequestStatus } from '../machines/types';
import { OVERSEER_ID } from '../machines/types';
import type { ActorSet } from './actor-set';
import type { BulkHost } from './bulk-executor';
import { endDrains, markDrained } from './drain-maintenance';
import type { OverseerDeps } from './overseer-deps';
import type { RequestServiceDeps } from './request-service';
import type { CommandResult } from './submission';

export interface BulkHostDeps {
  deps: OverseerDeps;
  wiring: Pick<RequestServiceDeps, 'view' | 'events'>;
  requests: () => ActorSet<RequestMachine>;
  cancel: (id: string, by: Requester, reason?: string) => CommandResult;
  settled: (id: string, signal?: AbortSignal) => Promise<RequestStatus>;
  flush: () => void;
}

export function requestBulkHost(h: BulkHostDeps): BulkHost {
  const { store, clock, config, log, newId } = h.deps;
  const drains = {
    store,
    clock,
    view: h.wiring.view,
    publish: (subject: string, payload: unknown) => h.wiring.events.publish(() => subject, payload),
    newId: newId && (() => newId('maintenance')),
  };
  return {
    concurrency: config.execution.bulkConcurrency,
    statusOf: (id) => {
      const live = h.requests().get(id);
      if (live) return String(live.getSnapshot().value) as RequestStatus;
      h.flush();
      return store.requests.get(id)?.status;
    },
    errorOf: (id) => {
      h.flush();
      return store.requests.get(id)?.error;
    },
    createChild: (parent, member, id) => {
      const spec: RequestSpec = {
        id,
        action: member.action,
        target: { cluster: parent.spec.target.cluster, vmid: member.vmid },
        params: member.params,
        force: parent.spec.force,
        requester: parent.spec.requester,
        submittedAt: clock.now(),
        origin: parent.spec.origin ?? 'human',
        parent: parent.spec.id,
      };
      store.transaction(() => {
        store.requests.insert(spec, 'received');
        store.audit.append({ at: spec.submittedAt, actor: OVERSEER_ID, kind: 'request.received', data: spec });
      });
      log.info(`req:${parent.spec.id}: member ${member.vmid} runs as request ${id}`);
      h.requests().create(id, { spec, approvalTimeoutMs: config.gate.approvalTimeoutSeconds * 1000 });
    },
    cancelChild: (parent, id) => {
      const actor = h.requests().get(id);
      if (!actor || actor.getSnapshot().context.cancelRequested) return;
      h.cancel(id, parent.spec.requester, `its bulk request ${parent.spec.id} was cancelled`);
    },
    whenTerminal: (id, signal) => h.settled(id, signal),
    markDrained: (parent) => markDrained(drains, parent),
    endDrains: (parent) => endDrains(drains, parent),
  };
}
