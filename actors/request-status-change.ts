// What a request's status change is recorded and acted on with (actors/request-service.ts): who caused it, the VM
// actor its operation runs on, and where a failure is recorded (the monitor, the knowledge base).
import type { RequestContext } from '../machines/request.machine';
import type { RequestSpec, RequestStatus } from '../machines/types';
import { vmKey } from '../machines/types';
import type { OverseerDeps } from './overseer-deps';
import type { RequestServiceDeps } from './request-service';

/**
 * The key of the VM actor a request's operation runs on: a deploy's template, the target VM otherwise; none for a
 * command (it runs inside the guest: the VM actor has no operation state for it) or a request without a VM.
 */
export function operationVm(spec: RequestSpec): string | undefined {
  if (spec.action === 'deploy') return vmKey(spec.target.cluster, Number(spec.params.template));
  if (spec.action === 'command' || spec.target.vmid === undefined) return undefined;
  return vmKey(spec.target.cluster, spec.target.vmid);
}

/**
 * Who caused a status change and the reason they gave: the person who approved it (also when the approval's
 * re-check failed it), or who denied or cancelled it. Nothing for the changes the Overseer makes.
 */
export function causeOfChange(
  context: RequestContext,
  status: RequestStatus,
  from: string,
): { by?: string | undefined; note?: string | undefined } {
  const approval = status === 'approved' || (status === 'failed' && from === 'awaiting_approval');
  if (approval && context.approvedBy) return { by: context.approvedBy.id, note: context.approvedBy.reason };
  if ((status === 'denied' || status === 'cancelled') && context.closedBy) {
    return { by: context.closedBy.id, note: context.closedBy.reason };
  }
  return {};
}

/** A failed request is recorded by the monitor (its tasks count as failed tasks) and in the knowledge base. */
export function recordRequestFailure(
  wiring: Pick<RequestServiceDeps, 'recordFailedRequest'>,
  deps: OverseerDeps,
  id: string,
  context: RequestContext,
): void {
  const { spec } = context;
  const error = context.error ?? 'failed';
  wiring.recordFailedRequest(id, spec.target.cluster, error, context.tasks, deps.clock.now());
  const write = deps.knowledge?.recordFailedRequest({
    requestId: id,
    action: spec.action,
    target: spec.target,
    error,
    params: spec.params,
  });
  if (write instanceof Promise)
    write.catch((e: unknown) => deps.log.error(`knowledge: recording request ${id} failed`, e));
}
