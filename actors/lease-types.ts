// The lease service's contract (see lease-service.ts): its options and their defaults, the typed errors of fencing,
// and what it reports (changes, status).
import type { Clock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import type { LeaseStore } from '../adapters/nats/lease-store';
import type { LeaseTiming } from '../machines/lease.machine';
import type { LeaseEvent } from '../protocol';
import type { EventSink } from './overseer-deps';

export const DEFAULT_LEASE_MS = 5_000;

export interface LeaseServiceOptions {
  /** This core's id: unique among the cores sharing the bucket. */
  core: string;
  /** The Proxmox clusters this core may own (the configuration's cluster names). */
  clusters: readonly string[];
  store: LeaseStore;
  clock: Clock;
  log: Log;
  events?: EventSink | undefined;
  /** A lease not renewed for this long passes to another core; default 5 000 ms. */
  leaseMs?: number;
  /** Taken off the owner's validity; default leaseMs / 10 (at least 50 ms). */
  marginMs?: number;
  /** Share free clusters by rendezvous hashing over the live cores; default false. */
  fairness?: boolean;
}

/** The lease is not this core's right now: do not act on the cluster. */
export class FencedError extends Error {
  override name = 'FencedError';
  constructor(
    message: string,
    readonly cluster: string,
    readonly core: string,
    /**
     * not-owner: another core holds it or nobody does yet; expired: ours, but its validity ran out; stopped: the
     * service is not running; unknown-cluster: not one of this core's clusters.
     */
    readonly reason: 'not-owner' | 'expired' | 'unknown-cluster' | 'stopped',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The service's options are unusable. */
export class LeaseConfigError extends Error {
  override name = 'LeaseConfigError';
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

export interface LeaseChange {
  cluster: string;
  core: string;
  event: LeaseEvent;
  at: number;
  epoch: number;
  /** acquired / taken-over: from when, and until when (local clock) the lease is valid; lost: until when it was. */
  acquiredAt?: number | undefined;
  validUntil?: number | undefined;
  /** taken-over: the core whose lease expired. */
  previousOwner?: string | undefined;
  /** released: whether the record was deleted (false: left to expire, e.g. NATS unreachable at the time). */
  deleted?: boolean | undefined;
}

export interface LeaseStatus {
  cluster: string;
  /** The holder as last seen (this core while owning); undefined when free or not read yet. */
  owner?: string | undefined;
  ownedByMe: boolean;
  /** Since the record last changed: our last renewal's send while owning, else since we first saw its revision. */
  ageMs: number;
  /** How long this core may still act on the cluster (0 unless owning). */
  validForMs: number;
}

/** A core id or cluster name as the lease keys take it. */
export const LEASE_TOKEN = /^[-_=A-Za-z0-9]{1,128}$/;

/** The machine's timing from the options: renew every leaseMs/3, observe every leaseMs/4. */
export function leaseTimingOf(opts: LeaseServiceOptions): LeaseTiming {
  const leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
  if (!Number.isFinite(leaseMs) || leaseMs < 300) {
    throw new LeaseConfigError(`leaseMs must be at least 300 ms (got ${leaseMs})`, 'leaseMs');
  }
  const marginMs = opts.marginMs ?? Math.max(50, Math.round(leaseMs / 10));
  if (!Number.isFinite(marginMs) || marginMs <= 0 || marginMs > leaseMs / 3) {
    throw new LeaseConfigError(`marginMs must be above 0 and at most leaseMs / 3 (got ${marginMs})`, 'marginMs');
  }
  return {
    leaseMs,
    marginMs,
    renewMs: Math.round(leaseMs / 3),
    pollMs: Math.round(leaseMs / 4),
    retryMs: Math.max(25, Math.round(leaseMs / 15)),
  };
}
