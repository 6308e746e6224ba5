// The core's part of `overseer serve` when several cores share the fleet (config `cores`, docs/multi-core.md,
// issue 15). The leases decide which Proxmox clusters this core owns; for each one it owns, a cluster runtime
// (cluster-runtime.ts: the local view rebuilt from the record, the record shipper, an Overseer for that cluster)
// answers on that cluster's own subjects; the router (core-router.ts) hands the gateways' calls to whichever core
// owns the cluster they are about. Losing a lease stops the cluster's runtime; the Proxmox transport refuses every
// write once the lease is not valid, whatever was still in flight.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock, TimerHandle } from '../adapters/clock';
import type { KnowledgeBase } from '../adapters/knowledge';
import type { Log } from '../adapters/log';
import type { RecordStore } from '../adapters/nats';
import {
  clusterNamespace,
  LeaseStoreTimeoutError,
  NatsBus,
  openKvLeaseStore,
  openRecordStore,
  RecordConflictError,
  RecordStoreTimeoutError,
} from '../adapters/nats';
import type { Notifier } from '../adapters/notify';
import type { Platform } from '../adapters/platform/types';
import { OVERSEER_ID } from '../machines/types';
import type { Unsubscribe } from '../protocol';
import { GLOBAL_RECORD_SCOPE } from '../protocol';
import type { AuditKey, StateStore } from '../state';
import type { ClusterRuntime } from './cluster-runtime';
import { startClusterRuntime } from './cluster-runtime';
import type { OverseerConfig } from './config';
import { ConfigError } from './config';
import { serveCoreRouter } from './core-router';
import { serveCore } from './core-service';
import { LeaseService } from './lease-service';
import type { SshTargetSource } from './monitor';
import { exportToken, importEntity } from './record-entities';

export interface MultiCoreDeps {
  bus: NatsBus;
  config: OverseerConfig;
  /** This core's id (config cores.id or OVERSEER_CORE_ID). */
  core: string;
  dataDir: string;
  clock: Clock;
  log: Log;
  /** The configured clusters' platforms, each fenced by `fence` (platformsFromConfig). */
  platforms: ReadonlyMap<string, Platform>;
  knowledge?: KnowledgeBase | undefined;
  notifier?: Notifier | undefined;
  ssh?: SshTargetSource | undefined;
  auditKey?: AuditKey | undefined;
  /** The core's own database (its knowledge base documents; the token it may bootstrap), not a cluster's. */
  local: StateStore;
  cleanups: (() => Promise<void> | void)[];
}

export interface MultiCore {
  readonly leases: LeaseService;
  runtime(cluster: string): ClusterRuntime | undefined;
}

/** The id of this core: the config's, or OVERSEER_CORE_ID; one of them must say it. */
export function coreIdOf(config: OverseerConfig, env: NodeJS.ProcessEnv): string {
  const id = env.OVERSEER_CORE_ID || config.cores?.id;
  if (!id || !/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(id)) {
    throw new ConfigError(
      `cores: each core needs an id of letters, digits, _ and - (cores.id or OVERSEER_CORE_ID; got '${id ?? ''}')`,
      'cores.id',
    );
  }
  return id;
}

/**
 * On the first start of the fleet: an admin token in the record, written to $OVERSEER_DATA_DIR/admin.token (0600)
 * of the core that made it. Cores started at the very same moment may each find no token and each make one; every
 * such token is audited, kept only on its own machine, and revocable like any other.
 */
export async function bootstrapAdminToken(
  records: RecordStore,
  local: StateStore,
  dataDir: string,
  clock: Clock,
  log: Log,
): Promise<void> {
  const existing = await retryTimeouts(() => records.keys(`${GLOBAL_RECORD_SCOPE}.token.`), clock);
  if (existing.length > 0) return;
  const at = clock.now();
  const { record, token } = local.transaction(() => {
    const created = local.tokens.create('admin', 'admin', OVERSEER_ID, at);
    local.audit.append({
      at,
      actor: OVERSEER_ID,
      kind: 'token.created',
      data: { id: created.record.id, name: 'admin', role: 'admin' },
    });
    return created;
  });
  const exported = exportToken(local, record.id);
  // The key is this token's own: a put that timed out but landed is found again as a conflict on the retry.
  await retryTimeouts(
    () =>
      records.put(exported.key, exported.value, 'new').catch((error: unknown) => {
        if (error instanceof RecordConflictError) return 0;
        throw error;
      }),
    clock,
  );
  writeFileSync(join(dataDir, 'admin.token'), `${token}\n`, { mode: 0o600 });
  log.info(
    `created the first admin token of the shared fleet (${record.id}); it is in ${join(dataDir, 'admin.token')}`,
  );
}

/** `call` again after a timeout (a JetStream stream just created may not have a leader yet), for up to 30 s. */
async function retryTimeouts<T>(call: () => Promise<T>, clock: Clock): Promise<T> {
  const deadline = clock.now() + 30_000;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof RecordStoreTimeoutError) || clock.now() >= deadline) throw error;
      await clock.sleep(250);
    }
  }
}

/** A runtime that did not start is tried again after this, doubling up to START_RETRY_MAX_MS while the lease holds. */
const START_RETRY_FIRST_MS = 500;
const START_RETRY_MAX_MS = 10_000;

/** How many times opening a bucket is tried at start before the core gives up (each try has its own bound). */
const OPEN_ATTEMPTS = 4;

/**
 * Opens a bucket, trying again while JetStream does not answer in time: cores started together on a busy cluster
 * can each wait a while for the meta leader to place an R3 stream. Any other error, or the last timeout, is thrown.
 */
export async function patiently<T>(what: string, clock: Clock, log: Log, open: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await open();
    } catch (error) {
      const timedOut = error instanceof LeaseStoreTimeoutError || error instanceof RecordStoreTimeoutError;
      if (!timedOut || attempt >= OPEN_ATTEMPTS) throw error;
      log.warn(`${what}: ${(error as Error).message}; trying again (attempt ${attempt + 1} of ${OPEN_ATTEMPTS})`);
      await clock.sleep(1_000 * attempt);
    }
  }
}

/** Takes part in the shared fleet: leases, a runtime per owned cluster, the router. */
export async function startMultiCore(deps: MultiCoreDeps): Promise<MultiCore> {
  const { bus, config, core, clock, log, cleanups } = deps;
  const cores = config.cores;
  if (!cores) throw new ConfigError('cores: not configured', 'cores');
  const leaseMs = cores.leaseSeconds * 1000;
  const clusters = config.clusters.map((c) => c.name);
  const namespace = bus.namespace;
  const leaseStore = await patiently('the lease bucket', clock, log, () =>
    openKvLeaseStore(bus.nc, {
      namespace,
      replicas: cores.replicas,
      timeoutMs: Math.max(250, Math.floor(leaseMs / 4)),
    }),
  );
  const records = await patiently('the record', clock, log, () =>
    openRecordStore(bus.nc, { namespace, replicas: cores.replicas }),
  );
  await bootstrapAdminToken(records, deps.local, deps.dataDir, clock, log);
  const leases = new LeaseService({
    core,
    clusters,
    store: leaseStore,
    clock,
    log,
    events: bus,
    leaseMs,
    fairness: true,
  });

  const clusterBuses = new Map<string, NatsBus>();
  const clusterBus = (cluster: string): NatsBus => {
    let b = clusterBuses.get(cluster);
    if (!b) {
      b = new NatsBus(bus.nc, { name: `${core}-${cluster}`, namespace: clusterNamespace(namespace, cluster) });
      clusterBuses.set(cluster, b);
    }
    return b;
  };

  const running = new Map<string, { runtime: ClusterRuntime; unserve: Unsubscribe }>();
  // One start or stop at a time per cluster, in the order the lease changed.
  const queues = new Map<string, Promise<void>>();
  const enqueue = (cluster: string, work: () => Promise<void>) => {
    const next = (queues.get(cluster) ?? Promise.resolve()).then(work).catch((error: unknown) => {
      log.error(`cluster ${cluster}: ${(error as Error).message}`, error);
    });
    queues.set(cluster, next);
    return next;
  };

  // A runtime that could not start (the record or the cluster not answering, e.g. while JetStream elects a leader)
  // is tried again while the lease holds: an owner that serves nothing would keep its cluster from every other core.
  const retries = new Map<string, { attempt: number; timer?: TimerHandle | undefined }>();
  const retryLater = (cluster: string, error: unknown) => {
    const entry = retries.get(cluster) ?? { attempt: 0 };
    entry.attempt++;
    const delayMs = Math.min(START_RETRY_MAX_MS, START_RETRY_FIRST_MS * 2 ** (entry.attempt - 1));
    log.error(
      `cluster ${cluster}: ${(error as Error).message}; trying again in ${delayMs} ms (attempt ${entry.attempt})`,
      error,
    );
    entry.timer = clock.setTimeout(() => {
      entry.timer = undefined;
      void start(cluster);
    }, delayMs);
    retries.set(cluster, entry);
  };
  const cancelRetry = (cluster: string) => {
    const timer = retries.get(cluster)?.timer;
    if (timer !== undefined) clock.clearTimeout(timer);
    retries.delete(cluster);
  };

  const startRuntime = async (cluster: string, platform: Platform): Promise<ClusterRuntime | undefined> => {
    try {
      return await startClusterRuntime({
        cluster,
        platform,
        dataDir: deps.dataDir,
        core,
        records,
        fence: () => leases.fence(cluster),
        bus,
        config,
        clock,
        log,
        knowledge: deps.knowledge,
        notifier: deps.notifier,
        ssh: deps.ssh,
        auditKey: deps.auditKey,
        onLost: () => {
          log.warn(`cluster ${cluster}: another core wrote its record; this core stopped acting on it`);
          void stop(cluster, false);
        },
      });
    } catch (error) {
      if (leases.holds(cluster)) retryLater(cluster, error);
      else log.error(`cluster ${cluster}: ${(error as Error).message}`, error);
      return undefined;
    }
  };

  const start = (cluster: string) =>
    enqueue(cluster, async () => {
      if (running.has(cluster) || !leases.holds(cluster)) return;
      const platform = deps.platforms.get(cluster);
      if (!platform) throw new ConfigError(`cluster ${cluster} has no platform`, 'clusters');
      const runtime = await startRuntime(cluster, platform);
      if (!runtime) return;
      cancelRetry(cluster);
      // The lease may have gone while the runtime was being rebuilt: then it never answers.
      if (!leases.holds(cluster)) {
        await runtime.stop({ replicate: false });
        return;
      }
      const unserve = serveCore({
        bus: clusterBus(cluster),
        overseer: runtime.overseer,
        store: runtime.store,
        config,
        clock,
        startedAt: clock.now(),
        commands: {
          approve: (id, by, reason) => runtime.approve(id, by, reason),
          deny: (id, by, reason) => runtime.deny(id, by, reason),
          cancel: (id, by, reason) => runtime.cancel(id, by, reason),
        },
        // A maintenance window or silence is answered once it is in the record.
        durable: () => runtime.durable(),
      });
      running.set(cluster, { runtime, unserve });
      log.info(`cluster ${cluster}: this core (${core}) owns it and serves it`);
    });

  const stop = (cluster: string, replicate: boolean) =>
    enqueue(cluster, async () => {
      cancelRetry(cluster);
      const entry = running.get(cluster);
      if (!entry) return;
      running.delete(cluster);
      entry.unserve();
      await entry.runtime.stop({ replicate: replicate && leases.holds(cluster) });
      log.info(`cluster ${cluster}: this core (${core}) no longer serves it`);
    });

  leases.onChange((change) => {
    if (change.event === 'acquired' || change.event === 'taken-over') void start(change.cluster);
    else void stop(change.cluster, change.event === 'released');
  });

  const unroute = serveCoreRouter({
    bus,
    clusters,
    clusterBus,
    clock,
    log,
    // A call may wait for a dead owner's lease to run out, then for the new owner's rebuild.
    handoverMs: 2 * leaseMs + 10_000,
    queue: 'overseer-core',
    leases: () => leases.leases(),
  });
  // A token made, used or revoked through one cluster's runtime reaches every other runtime of this core.
  const tokens = await records.watch({ fromStart: false, prefix: `${GLOBAL_RECORD_SCOPE}.` }, (event) => {
    if (event.type !== 'put') return;
    for (const [cluster, { runtime }] of running) {
      try {
        importEntity(runtime.store, event.key, event.value, event.revision);
      } catch (error) {
        log.error(`cluster ${cluster}: token ${event.key} not imported: ${(error as Error).message}`, error);
      }
    }
  });
  leases.start();
  cleanups.push(async () => {
    // Clean stop: nothing more is answered, each runtime ships what it has while its lease still holds, and the
    // leases are released so the other cores take the clusters at once.
    unroute();
    for (const cluster of [...retries.keys()]) cancelRetry(cluster);
    await Promise.all([...running.keys()].map((cluster) => stop(cluster, true)));
    await Promise.all(queues.values());
    await tokens.stop();
    await leases.stop({ release: true });
  });
  return { leases, runtime: (cluster) => running.get(cluster)?.runtime };
}
