// Running a bulk request (a selector's, a drain's): the gate decided it as one unit and recorded its members; here
// each member becomes its own child request (id `<parent>-m<vmid>`, so a restart finds the ones already made and
// never makes one twice), at most `concurrency` at a time. A child is covered by its parent's decision and is
// re-checked against the facts before its own platform call, like any request; it executes exactly once through
// the same executor. The parent ends when every child has: completed when all did, failed (naming them) otherwise.
// A drain first marks its node in maintenance (so remediation leaves it alone); an undrain ends that.
import type { RequestContext, RequestEvent } from '../machines/request.machine';
import type { BulkMember, RequestStatus } from '../machines/types';
import { TERMINAL_REQUEST_STATUSES } from '../machines/types';
import { ExecutionError } from './execution-plan';

/** What the bulk runner needs from the request service. */
export interface BulkHost {
  /** A request's status (live, or as recorded); undefined when it does not exist. */
  statusOf(id: string): RequestStatus | undefined;
  /** Why a request failed, when it did. */
  errorOf(id: string): string | undefined;
  /** Creates the child request of `parent` for `member` with id `id`. */
  createChild(parent: RequestContext, member: BulkMember, id: string): void;
  /** Asks a child to stop (as the parent's requester). */
  cancelChild(parent: RequestContext, id: string): void;
  /** Resolves with the child's status once it is terminal. */
  whenTerminal(id: string, signal: AbortSignal): Promise<RequestStatus>;
  /** Marks a drain's node in maintenance (idempotent: once per drain request). */
  markDrained(parent: RequestContext): void;
  /** Ends the maintenance drains set on a node; how many it ended. */
  endDrains(parent: RequestContext): number;
  /** Members running at once when the request does not say. */
  concurrency: number;
}

export interface BulkRunner {
  run(
    context: RequestContext,
    send: (event: RequestEvent) => void,
    control: { cancelled(): boolean; signal: AbortSignal },
  ): Promise<void>;
}

/** The id of a bulk request's child for one member. */
export const childIdOf = (parentId: string, vmid: number): string => `${parentId}-m${vmid}`;

const SUCCEEDED: ReadonlySet<RequestStatus> = new Set(['completed', 'nothing_to_do']);

export function createBulkRunner(host: BulkHost): BulkRunner {
  return {
    async run(context, send, control) {
      const { spec } = context;
      if (spec.action === 'undrain') {
        const ended = host.endDrains(context);
        if (ended === 0) throw new ExecutionError(`node ${spec.target.cluster}/${spec.target.node} is not drained`);
        send({ type: 'EXECUTION_SUCCEEDED' });
        return;
      }
      if (spec.action === 'drain') host.markDrained(context);
      const members = context.members ?? [];
      const concurrency = Math.max(1, Number(spec.params.concurrency ?? host.concurrency) || host.concurrency);
      const pending = [...members];
      const running = new Map<string, Promise<string>>();
      const finished = new Map<number, RequestStatus>();
      const vmidOf = new Map<string, number>();

      for (;;) {
        while (running.size < concurrency && pending.length > 0 && !control.cancelled()) {
          const member = pending.shift() as BulkMember;
          const id = childIdOf(spec.id, member.vmid);
          vmidOf.set(id, member.vmid);
          const status = host.statusOf(id);
          if (status !== undefined && TERMINAL_REQUEST_STATUSES.has(status)) {
            finished.set(member.vmid, status);
            continue;
          }
          if (status === undefined) host.createChild(context, member, id);
          running.set(
            id,
            host.whenTerminal(id, control.signal).then(() => id),
          );
        }
        if (running.size === 0) break;
        if (control.cancelled()) for (const id of running.keys()) host.cancelChild(context, id);
        const done = await Promise.race(running.values());
        running.delete(done);
        finished.set(vmidOf.get(done) as number, host.statusOf(done) ?? 'failed');
      }

      if (control.cancelled() && pending.length > 0) {
        send({ type: 'EXECUTION_CANCELLED' });
        return;
      }
      const failed = members.filter((m) => !SUCCEEDED.has(finished.get(m.vmid) ?? 'failed'));
      if (failed.length === 0) {
        send({ type: 'EXECUTION_SUCCEEDED' });
        return;
      }
      const detail = failed
        .map((m) => {
          const id = childIdOf(spec.id, m.vmid);
          const error = host.errorOf(id);
          return `${m.vmid} ${finished.get(m.vmid) ?? 'failed'}${error ? ` (${error})` : ''}`;
        })
        .join('; ');
      send({
        type: 'EXECUTION_FAILED',
        error: `${failed.length} of ${members.length} members did not complete: ${detail}`,
      });
    },
  };
}
