// The bulk runner's host in the request service: a bulk request's children are made (recorded and audited, then
// their actors created), watched until they end, and cancelled here; a drain's maintenance window is set and ended.

import type { RequestMachine } from '../machines/request.machine';
import type { Requester, RequestSpec, RequestStatus } from '../machines/types';
import type { ActorSet } from './actor-set';
import type { BulkHost } from './bulk-executor';
import { endDrains, markDrained } from './drain-maintenance';
import type { OverseerDeps } from './overseer-deps';
import type { RequestService, RequestServiceDeps } from './request-service';
import type { CommandResult } from './submission';

export interface BulkHostDeps {
  deps: OverseerDeps;
  wiring: Pick<RequestServiceDeps, 'view' | 'events'>;
  requests: () => ActorSet<RequestMachine>;
  service: () => Pick<RequestService, 'statusOf' | 'record' | 'createMember'>;
  cancel: (id: string, by: Requester, reason?: string) => CommandResult;
  settled: (id: string, signal?: AbortSignal) => Promise<RequestStatus>;
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
    statusOf: (id) => h.service().statusOf(id),
    errorOf: (id) => h.service().record(id)?.error,
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
      log.info(`req:${parent.spec.id}: member ${member.vmid} runs as request ${id}`);
      h.service().createMember(spec);
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
