// Group commit for requests: a new request's row, its status history, audit entries and snapshot are queued as it
// changes and written together, one transaction per burst of work for every request that changed in it (one
// commit serves every decision waiting on it), the audit rows appended in that same commit. A submission's answer
// waits for the commit that holds its decision (durable()), and so does every platform call (the executor), so
// nothing acknowledged or about to touch the platform is ever only in memory.
// A request's steps before its decision (its row, `received`, `validating`, `gating`) are held back from the group
// commit until the decision joins them: no commit is spent on a request nobody has an answer for yet (an undecided
// request lost on a crash was never answered, and its retry under the same Idempotency-Key decides it anew). A
// synchronous flush(), or durable({ all: true }), writes them too.
// The actor's snapshot is what a restart brings the request back from, so it is taken when the commit writes it (the
// last one of the burst, not one per step) and only for a request that goes on: a finished request is not restored,
// and its stored snapshot, if an earlier commit wrote one, is deleted with the commit that finishes it.
import type { RequestContext } from '../machines/request.machine';
import type { RequestSpec, RequestStatus } from '../machines/types';
import { actorId, TERMINAL_REQUEST_STATUSES, UNDECIDED_REQUEST_STATUSES } from '../machines/types';
import type { AuditEntry, StateStore } from '../state';

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
  /** Written by the next group commit; false while the request is undecided (written with its decision). */
  ready: boolean;
  /** A request not stored yet: inserted (status `received`) before its changes. */
  insert?: { spec: RequestSpec; idempotencyKey: string | undefined } | undefined;
  changes: RequestStatusChange[];
  context?: RequestContext | undefined;
  /** The actor's persisted snapshot, taken when the commit writes it. */
  snapshot?: (() => unknown) | undefined;
  /** Its last change ended the request: its snapshot is not written (a stored one is deleted). */
  ended: boolean;
  at: number;
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

const keyOf = (requesterId: string, idempotencyKey: string) => `${requesterId}\u0000${idempotencyKey}`;

export class RequestWriter {
  private pending = new Map<string, PendingWrite>();
  /** Idempotency keys (requester, key) of requests queued for insertion → their ids. */
  private readonly pendingKeys = new Map<string, string>();
  private waiters: Waiter[] = [];
  private scheduled = false;

  constructor(private readonly store: StateStore) {}

  /** Queues a new request (stored as `received`, with its `request.received` audit entry) for the next commit. */
  insert(spec: RequestSpec, idempotencyKey: string | undefined): void {
    this.pending.set(spec.id, {
      ready: false,
      insert: { spec, idempotencyKey },
      changes: [],
      ended: false,
      at: spec.submittedAt,
    });
    if (idempotencyKey !== undefined) this.pendingKeys.set(keyOf(spec.requester.id, idempotencyKey), spec.id);
  }

  /** The id of a request queued for insertion with this requester's idempotency key, if any. */
  pendingIdempotent(requesterId: string, idempotencyKey: string): string | undefined {
    return this.pendingKeys.get(keyOf(requesterId, idempotencyKey));
  }

  /**
   * Queues the latest context of a request, how to take its actor's snapshot, and the status change that led there,
   * if any.
   */
  queue(id: string, context: RequestContext, snapshot: () => unknown, at: number, change?: RequestStatusChange): void {
    let write = this.pending.get(id);
    if (!write) {
      write = {
        ready: change === undefined || !UNDECIDED_REQUEST_STATUSES.has(change.status),
        changes: [],
        ended: false,
        at,
      };
      this.pending.set(id, write);
    }
    if (change) {
      write.changes.push(change);
      if (!UNDECIDED_REQUEST_STATUSES.has(change.status)) write.ready = true;
      write.ended = TERMINAL_REQUEST_STATUSES.has(change.status);
    }
    write.context = context;
    write.snapshot = snapshot;
    write.at = at;
    if (write.ready) this.schedule();
  }

  /**
   * Resolves once everything queued so far is committed (rejects when that commit fails): every request that has
   * its decision, and with `all` the undecided ones too.
   */
  durable(options: { all?: boolean } = {}): Promise<void> {
    let waiting = false;
    for (const w of this.pending.values()) {
      if (options.all) w.ready = true;
      waiting ||= w.ready;
    }
    if (!waiting) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      try {
        this.commit(false);
      } catch {
        // flush() rejected every waiter with the error; the writes stay queued for the next commit.
      }
    });
  }

  /**
   * Writes everything queued now (undecided requests too), in one transaction, then resolves the waiters. When the
   * transaction fails, the writes stay queued (ahead of anything queued since) and the error is thrown, and every
   * waiter rejected with it.
   */
  flush(): void {
    this.commit(true);
  }

  /** The group commit: every request queued that has its decision (with `all`, every request queued). */
  private commit(all: boolean): void {
    this.scheduled = false;
    const waiters = this.waiters;
    this.waiters = [];
    const writes = this.pending;
    this.pending = new Map();
    if (!all) {
      for (const [id, w] of writes) {
        if (w.ready) continue;
        writes.delete(id);
        this.pending.set(id, w);
      }
    }
    if (writes.size === 0) {
      for (const w of waiters) w.resolve();
      return;
    }
    try {
      this.write(writes);
    } catch (error) {
      for (const [id, w] of this.pending) {
        const earlier = writes.get(id);
        writes.set(id, earlier ? merge(earlier, w) : w);
      }
      this.pending = writes;
      for (const w of waiters) w.reject(error);
      throw error;
    }
    for (const w of writes.values()) {
      if (w.insert?.idempotencyKey !== undefined) {
        this.pendingKeys.delete(keyOf(w.insert.spec.requester.id, w.insert.idempotencyKey));
      }
    }
    for (const w of waiters) w.resolve();
  }

  private write(writes: ReadonlyMap<string, PendingWrite>): void {
    const store = this.store;
    const audit: AuditEntry[] = [];
    store.transaction(() => {
      for (const [id, w] of writes) {
        const { context, insert } = w;
        if (insert) {
          const { spec, idempotencyKey } = insert;
          if (!context) store.requests.insert(spec, 'received', idempotencyKey);
          audit.push({ at: spec.submittedAt, actor: spec.requester.id, kind: 'request.received', data: spec });
        }
        for (const c of w.changes) {
          audit.push({
            at: c.at,
            actor: c.by ?? 'overseer',
            kind: 'request.status',
            data: { id, from: c.from, to: c.status, reasons: c.reasons, note: c.note },
          });
        }
        if (!context) continue;
        const changes = w.changes.map((c) => ({ status: c.status, at: c.at, by: c.by, note: c.note }));
        const patch = {
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
        };
        // A request first written now goes in as it is now (one insert, not an insert and then an update).
        if (insert) store.requests.insertWithChanges(insert.spec, insert.idempotencyKey, changes, patch, w.at);
        else store.requests.applyChanges(id, changes, patch, w.at);
        // One inserted in this commit has no stored snapshot to delete.
        if (w.ended) {
          if (!insert) store.snapshots.delete(actorId.request(id));
        } else if (w.snapshot) {
          store.snapshots.save(actorId.request(id), 'request', w.snapshot(), w.at);
        }
      }
      store.audit.appendMany(audit);
    });
  }
}

/** An earlier write with a later one queued for the same request after it. */
function merge(earlier: PendingWrite, later: PendingWrite): PendingWrite {
  return {
    ready: earlier.ready || later.ready,
    insert: earlier.insert ?? later.insert,
    changes: [...earlier.changes, ...later.changes],
    context: later.context ?? earlier.context,
    snapshot: later.context ? later.snapshot : earlier.snapshot,
    ended: later.changes.length > 0 ? later.ended : earlier.ended,
    at: later.at,
  };
}
