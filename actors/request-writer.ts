// Group commit for requests: a request's row, status history, audit entries and snapshot are queued as it changes
// and written together, one transaction per burst of work. The runtime flushes before an answer leaves and before
// every platform call, so nothing acknowledged or about to touch the platform is ever only in memory.
import type { RequestContext } from '../machines/request.machine';
import type { RequestStatus } from '../machines/types';
import { actorId } from '../machines/types';
import type { StateStore } from '../state';

export interface RequestStatusChange {
  status: RequestStatus;
  from: string;
  at: number;
  by?: string | undefined;
  /** The reason the person in `by` gave (kept as the history entry's note). */
  note?: string | undefined;
  reasons?: string[] | undefined;
}

interface PendingWrite {
  changes: RequestStatusChange[];
  context: RequestContext;
  snapshot: unknown;
  at: number;
}

export class RequestWriter {
  private readonly pending = new Map<string, PendingWrite>();
  private scheduled = false;

  constructor(private readonly store: StateStore) {}

  /** Queues the latest context and snapshot of a request, and the status change that led there, if any. */
  queue(id: string, context: RequestContext, snapshot: unknown, at: number, change?: RequestStatusChange): void {
    const write = this.pending.get(id) ?? { changes: [], context, snapshot, at };
    if (change) write.changes.push(change);
    write.context = context;
    write.snapshot = snapshot;
    write.at = at;
    this.pending.set(id, write);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes everything queued now, in one transaction. */
  flush(): void {
    this.scheduled = false;
    if (this.pending.size === 0) return;
    const store = this.store;
    const writes = [...this.pending];
    this.pending.clear();
    store.transaction(() => {
      for (const [id, w] of writes) {
        for (const c of w.changes) {
          store.requests.update(id, { status: c.status, by: c.by, note: c.note }, c.at);
          store.audit.append({
            at: c.at,
            actor: c.by ?? 'overseer',
            kind: 'request.status',
            data: { id, from: c.from, to: c.status, reasons: c.reasons, note: c.note },
          });
        }
        const { context } = w;
        store.requests.update(
          id,
          {
            decision: context.decision,
            reasons: context.reasons,
            checks: context.checks,
            taskIds: context.tasks.map((t) => ({
              upid: t.upid,
              node: t.node,
              ...(t.vmid !== undefined ? { vmid: t.vmid } : {}),
            })),
            error: context.error,
            members: context.members,
          },
          w.at,
        );
        store.snapshots.save(actorId.request(id), 'request', w.snapshot, w.at);
      }
    });
  }
}
