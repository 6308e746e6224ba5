// Self and platform health: loop heartbeats (a loop that stops beating is restarted by the root), the SQLite
// file's integrity and size, and each cluster's reachability and quorum.
import type { Clock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import type { Notifier } from '../adapters/notify';
import type { ClusterInfo } from '../machines/types';
import type { StateStore } from '../state';
import { quickCheck } from '../state/quick-check';
import type { OverseerConfig } from './config';
import type { ClusterSyncReport } from './sync';

export type PeriodicLoop = 'sync' | 'monitor' | 'health';

/** A loop is stalled when it missed this many intervals (plus the grace). */
const STALL_FACTOR = 3;
const STALL_GRACE_MS = 30_000;

export interface HealthCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface HealthReport {
  ok: boolean;
  checks: HealthCheck[];
}

/** A periodic loop's last heartbeat (epoch ms, null before its first cycle) and whether it beats in time. */
export interface LoopHeartbeat {
  loop: PeriodicLoop;
  lastBeatAt: number | null;
  ok: boolean;
}

export interface HealthDeps {
  clock: Clock;
  log: Log;
  store: StateStore;
  config: OverseerConfig;
  /** Where people are told (each channel a check: one that gave up since its last delivery is not ok). */
  notifier?: Pick<Notifier, 'stats'> | undefined;
}

export class HealthTracker {
  private readonly heartbeats = new Map<PeriodicLoop, number>();
  private db: { ok: boolean; detail: string; at?: number } = { ok: true, detail: 'not checked yet' };
  private checking: Promise<void> | undefined;
  private startedAt = 0;

  constructor(private readonly deps: HealthDeps) {}

  started(at: number): void {
    this.startedAt = at;
  }

  /** A loop finished a cycle (successful or not). */
  beat(loop: PeriodicLoop): void {
    this.heartbeats.set(loop, this.deps.clock.now());
  }

  private intervals(): [PeriodicLoop, number][] {
    const { loops } = this.deps.config;
    return [
      ['sync', loops.syncIntervalSeconds * 1000],
      ['monitor', loops.monitorIntervalSeconds * 1000],
    ];
  }

  private stalled(age: number, intervalMs: number): boolean {
    return age > STALL_FACTOR * intervalMs + STALL_GRACE_MS;
  }

  /** Starts a check of the database file unless one is running; its answer is kept for the report. */
  private checkDatabase(): void {
    if (this.checking) return;
    const { store, clock, log } = this.deps;
    this.checking = quickCheck(store.db)
      .then(
        (check) => {
          this.db = { ok: check === 'ok', detail: check, at: clock.now() };
        },
        (error: unknown) => {
          log.error('the database integrity check did not run', error);
          this.db = { ok: false, detail: `not checked: ${(error as Error).message}`, at: clock.now() };
        },
      )
      .finally(() => {
        this.checking = undefined;
      });
  }

  /** The check of the database under way, if any (tests wait for it). */
  databaseChecked(): Promise<void> {
    return this.checking ?? Promise.resolve();
  }

  /** The health loop's work: checks the database (off the main thread); returns the loops that missed their heartbeats. */
  cycle(): PeriodicLoop[] {
    const { clock, log } = this.deps;
    this.checkDatabase();
    const stalled: PeriodicLoop[] = [];
    for (const [name, intervalMs] of this.intervals()) {
      const late = clock.now() - (this.heartbeats.get(name) ?? this.startedAt);
      if (this.stalled(late, intervalMs)) {
        log.warn(`loop:${name}: no heartbeat for ${Math.round(late / 1000)} s; asking the root to restart it`);
        this.heartbeats.set(name, clock.now());
        stalled.push(name);
      }
    }
    return stalled;
  }

  /** Every periodic loop's heartbeat; a loop the root gave up on (`escalated`) is not ok. */
  loopHeartbeats(escalated: readonly string[]): LoopHeartbeat[] {
    const { clock, config } = this.deps;
    const loops: [PeriodicLoop, number][] = [
      ...this.intervals(),
      ['health', config.loops.healthIntervalSeconds * 1000],
    ];
    return loops.map(([loop, intervalMs]) => {
      const last = this.heartbeats.get(loop);
      const age = clock.now() - (last ?? this.startedAt);
      return { loop, lastBeatAt: last ?? null, ok: !escalated.includes(loop) && !this.stalled(age, intervalMs) };
    });
  }

  report(input: {
    clusters: readonly string[];
    cluster: (name: string) => ClusterInfo | undefined;
    lastSync: readonly (ClusterSyncReport & { durationMs: number })[];
    escalated: readonly string[];
  }): HealthReport {
    const { store, clock } = this.deps;
    const checks: HealthCheck[] = [];
    const pageCount = store.db.pragma('page_count', { simple: true }) as number;
    const pageSize = store.db.pragma('page_size', { simple: true }) as number;
    const mib = ((pageCount * pageSize) / 1024 ** 2).toFixed(1);
    const checked = this.db.at ? ` (checked ${new Date(this.db.at).toISOString()})` : '';
    checks.push({ name: 'sqlite', ok: this.db.ok, detail: `integrity ${this.db.detail}${checked}, ${mib} MiB` });
    for (const name of input.clusters) {
      const info = input.cluster(name);
      const sync = input.lastSync.find((r) => r.cluster === name);
      const last = sync ? `${sync.durationMs} ms, ${sync.vms} VMs` : 'pending';
      checks.push({
        name: `cluster:${name}`,
        ok: Boolean(info?.reachable && info.quorate),
        detail: !info
          ? 'not read yet'
          : !info.reachable
            ? `unreachable${sync?.error ? `: ${sync.error}` : ''}`
            : `${info.quorate ? 'quorate' : 'NO QUORUM'}, last sync ${last}`,
      });
    }
    for (const [name, intervalMs] of this.intervals()) {
      const last = this.heartbeats.get(name);
      const escalated = input.escalated.includes(name);
      const age = last === undefined ? undefined : clock.now() - last;
      checks.push({
        name: `loop:${name}`,
        ok: !escalated && age !== undefined && !this.stalled(age, intervalMs),
        detail: escalated
          ? 'escalated: no longer restarted'
          : age === undefined
            ? 'no cycle yet'
            : `last cycle ${Math.round(age / 1000)} s ago`,
      });
    }
    for (const [name, c] of Object.entries(this.deps.notifier?.stats().channels ?? {})) {
      const failing = c.lastFailedAt !== undefined && c.lastFailedAt > (c.lastSentAt ?? 0);
      const counts = `sent ${c.sent}, failed ${c.failed}, queued ${c.queued}`;
      checks.push({
        name: `notify:${name}`,
        ok: !failing,
        detail: failing
          ? `failing since ${new Date(c.lastFailedAt ?? 0).toISOString()}: ${c.lastError ?? 'unknown error'} (${counts})`
          : `${c.type}: ${counts}`,
      });
    }
    return { ok: checks.every((c) => c.ok), checks };
  }
}
