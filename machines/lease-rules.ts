// The lease machine's contract and its pure rules: the records and actor results it works with, when an observer may
// write over a record, how long an owner's write keeps it valid, and which core prefers a cluster (rendezvous hashing).
// The machine (lease.machine.ts) and its tests use these; nothing here has effects.

/** The value of a lease record, as far as the machine needs it. */
export interface LeaseHolder {
  core: string;
  epoch: number;
  seq: number;
}

/** A record as read: its revision, and its holder (undefined when the value is unreadable: held by someone). */
export interface LeaseRecordView {
  revision: number;
  holder?: LeaseHolder | undefined;
}

export interface LeaseReadOutput {
  /** Local time when the answer was in hand. */
  at: number;
  /** null: the key has no live record (free). */
  record: LeaseRecordView | null;
  /** The cores seen alive (fairness); undefined: fairness off, this core always prefers itself. */
  liveCores?: string[] | undefined;
}

export interface LeaseWriteInput {
  key: string;
  /** create: the key must have no live record; update: it must be at `revision`. */
  mode: 'create' | 'update';
  revision: number;
  value: LeaseHolder;
}

/** written: stored at `revision`; conflict: refused (another revision); unknown: no answer, maybe stored. */
export type LeaseWriteOutput =
  | { outcome: 'written'; revision: number; sentAt: number; at: number }
  | { outcome: 'conflict'; sentAt: number; at: number }
  | { outcome: 'unknown'; sentAt: number; at: number; error: string };

/**
 * Delete the record at `revision`; when that revision has moved on (a renewal in flight was stored meanwhile), delete
 * it at its new revision only if it is still this holder's (same core and epoch).
 */
export interface LeaseReleaseInput {
  key: string;
  revision: number;
  core: string;
  epoch: number;
}

export interface LeaseReleaseOutput {
  deleted: boolean;
  at: number;
}

export interface LeaseTiming {
  /** How long a record unchanged means its holder is gone. */
  leaseMs: number;
  /** Taken off the owner's validity: clock rate differences, the time a checked call takes to reach the platform. */
  marginMs: number;
  /** The owner renews this often (leaseMs / 3). */
  renewMs: number;
  /** An observer reads this often at most. */
  pollMs: number;
  /** A failed renewal or read is tried again after this. */
  retryMs: number;
}

export interface LeaseMachineInput extends LeaseTiming {
  core: string;
  cluster: string;
  /** The record's key in the store. */
  key: string;
}

export interface LeasePendingWrite {
  epoch: number;
  seq: number;
  sentAt: number;
}

export interface LeaseMachineContext extends LeaseMachineInput {
  /** The revision being watched, its holder (null: free) and when this core first had it in hand. */
  seen?: { revision: number; holder: string | null; epoch: number; firstSeenAt: number } | undefined;
  /** The last record read. */
  lastRead?: LeaseRecordView | null | undefined;
  /** Whether this core is the preferred one for the cluster among the live cores (always, without fairness). */
  preferred: boolean;
  /** Local time of the last actor result. */
  lastAt: number;
  /** Ours while owning: the epoch, the last seq written, the last revision stored. */
  epoch: number;
  seq: number;
  revision: number;
  acquiredAt: number;
  /** The lease is ours until then (local clock); 0 when not owning. */
  validUntil: number;
  /** The core the lease was taken from (undefined: it was free). */
  previousOwner?: string | undefined;
  /** Writes whose answer was lost (they may have been stored). */
  pending: LeasePendingWrite[];
  /** RELEASE came while acquiring. */
  stopping: boolean;
  lastError?: string | undefined;
}

export type LeaseMachineEvent = { type: 'RELEASE' };

export type LeaseEmitted =
  | {
      type: 'acquired';
      cluster: string;
      core: string;
      epoch: number;
      revision: number;
      previousOwner?: string | undefined;
      acquiredAt: number;
      validUntil: number;
    }
  | { type: 'lost'; cluster: string; core: string; epoch: number; validUntil: number; reason: 'expired' | 'taken' }
  | { type: 'released'; cluster: string; core: string; epoch: number; deleted: boolean };

/** Unanswered writes remembered (the newest ones). */
export const PENDING_KEPT = 4;

/** FNV-1a, 32 bits: a stable hash for rendezvous (highest random weight) hashing. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The core that prefers `cluster` among `cores` (rendezvous hashing; ties by core id). */
export function preferredCore(cores: readonly string[], cluster: string): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const core of [...new Set(cores)].sort()) {
    const score = fnv1a(`${core}\u0000${cluster}`);
    if (score > bestScore) [best, bestScore] = [core, score];
  }
  return best;
}

/**
 * How long the watched revision must stay unchanged before this core writes over it. Fairness only shares free
 * leases (cores starting together): a core that is not the preferred one lets the preferred take a free lease first.
 * A lease whose holder stopped renewing is taken by whoever sees it expire first, so a dead core's clusters move
 * within one lease time (issue 15: owned again within the lease time plus a second).
 */
export function takeOverAfter(context: Pick<LeaseMachineContext, 'seen' | 'preferred' | 'leaseMs'>): number {
  const free = context.seen?.holder === null;
  if (!free) return context.leaseMs;
  return context.preferred ? 0 : context.leaseMs;
}

/** Until when a write sent at `sentAt` keeps its writer's lease valid (local clock). */
export const validUntilOf = (context: LeaseTiming, sentAt: number): number =>
  sentAt + context.leaseMs - context.marginMs;

/** The pending write the last read shows stored, when it is this core's and still valid. */
export function ownPendingWrite(context: LeaseMachineContext): LeasePendingWrite | undefined {
  const holder = context.lastRead?.holder;
  if (!holder || holder.core !== context.core) return undefined;
  return context.pending.find(
    (p) => p.epoch === holder.epoch && p.seq === holder.seq && validUntilOf(context, p.sentAt) > context.lastAt,
  );
}
