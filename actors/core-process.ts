// The core's part of `overseer serve`: the platforms (or the embedded simulator), SQLite with its keyed audit
// chain and checkpoints, the knowledge base, notifications, SSH checks, the Overseer runtime and the core's side
// of the wire contract. Every step that starts something registers how to stop it in `cleanups`.
// What only some starts need (the embedded simulator, the inspector, several cores) is imported when needed, so a
// start does not load it (the built command keeps it in chunks of its own: scripts/build-server.mjs).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../adapters/clock';
import { openKnowledgeBase, runbookDirs, watchRunbooks } from '../adapters/knowledge';
import type { Log } from '../adapters/log';
import type { NatsBus } from '../adapters/nats';
import { ensureEventStream } from '../adapters/nats';
import { createNotifier } from '../adapters/notify';
import { closePlatforms } from '../adapters/proxmox';
import { OVERSEER_ID } from '../machines/types';
import { StateStore } from '../state';
import { natsCheckpointSink } from './audit-checkpoint';
import { AuditStartWalk, START_AFTER_SERVING_MS } from './audit-start-walk';
import { auditKeyPath, loadOrCreateAuditKey, reportBrokenAudit } from './audit-startup';
import type { OverseerConfig } from './config';
import { serveCore } from './core-service';
import { Overseer } from './overseer';
import { platformsFromConfig } from './platforms';
import { sshTargetsFromConfig } from './ssh-targets';

export interface CoreProcessDeps {
  bus: NatsBus;
  config: OverseerConfig;
  dataDir: string;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  log: Log;
  simPort: number;
  cleanups: (() => Promise<void> | void)[];
}

/**
 * Starts the core: every actor restored and the core's side of the wire contract served. The returned function says
 * the process serves (`serve` calls it once the gateway listens too): the work that can wait then begins a moment
 * later (START_AFTER_SERVING_MS), so that after a restart the first answers do not queue behind it — the loops and
 * their first cycles, the restored request actors' start (each is started at once when asked for meanwhile), and the
 * walk of the audit chain.
 */
export async function startCore(deps: CoreProcessDeps): Promise<() => void> {
  if (deps.config.cores) {
    await startSharedCore(deps);
    return () => {};
  }
  const { bus, config, dataDir, env, clock, log, cleanups } = deps;
  let clusters = config.clusters;
  if (clusters.length === 0) {
    const { startEmbeddedSimulator } = await import('./embedded-sim');
    const embedded = await startEmbeddedSimulator(dataDir, clock, deps.simPort);
    cleanups.push(() => embedded.sim.stop());
    clusters = [embedded.cluster];
    log.info(`no cluster configured: using the embedded PVE simulator (demo cluster 'lab') at ${embedded.sim.url}`);
  }

  // The audit chain is keyed with a key kept outside the database, and its head is checkpointed to JetStream.
  const { key: auditKey } = loadOrCreateAuditKey(auditKeyPath(dataDir, env, config.audit.keyFile), log);
  const store = StateStore.open(join(dataDir, 'overseer.db'), {
    synchronous: config.state.synchronous,
    auditKey,
    now: () => clock.now(),
    backgroundCheckpoints: { onProblem: (message) => log.warn(message) },
  });
  cleanups.push(() => store.close());
  const auditCheckpoints = await natsCheckpointSink(bus, { namespace: bus.namespace });
  ensureAdminToken(store, dataDir, clock.now(), log);
  await ensureEventStream(await bus.jetstreamManager(), { namespace: bus.namespace });

  const platforms = platformsFromConfig(clusters, { clock, log });
  cleanups.push(() => closePlatforms(platforms.values()));
  const inspector = env.OVERSEER_INSPECT
    ? (await import('./inspector')).createInspector(env.OVERSEER_INSPECT, log, { clock })
    : undefined;
  if (inspector) cleanups.push(() => inspector.stop());
  const knowledge = await openKnowledgeBase({ config: config.knowledge, repo: store.knowledge, clock, log, dataDir });
  const runbookWatch = watchRunbooks({ knowledge, dirs: runbookDirs(config.knowledge, dataDir), clock, log });
  cleanups.push(() => runbookWatch.stop());
  const notifier = createNotifier({ clock, log, bus }, config.notifications);
  cleanups.push(() => notifier.close());

  // Stopped after the runtime (cleanups run in reverse): the last checkpoint covers what the runtime wrote last.
  const audit = new AuditStartWalk({
    store,
    sink: auditCheckpoints,
    clock,
    log,
    checkpointIntervalMs: config.audit.checkpointIntervalSeconds * 1000,
    report: (v) => reportBrokenAudit(v, { store, log, clock, notifier, publish: (s, p) => bus.publish(s, p) }),
  });
  cleanups.push(() => audit.stop());

  const ssh = sshTargetsFromConfig(config, dataDir, { clock, log });
  const overseer = new Overseer({
    clock,
    log,
    config,
    store,
    platforms,
    events: bus,
    inspect: inspector?.inspect,
    knowledge,
    notifier,
    ssh,
  });
  overseer.restore();
  cleanups.push(() => overseer.stop());
  cleanups.push(
    serveCore({
      bus,
      overseer,
      store,
      config,
      clock,
      startedAt: clock.now(),
      queue: 'overseer-core',
      auditCheckpoints,
    }),
  );
  // Its subscriptions are at the server before the process says it serves: a first call finds a responder.
  await bus.flush();

  return () => {
    const timer = clock.setTimeout(() => overseer.startRoot(), START_AFTER_SERVING_MS);
    cleanups.push(() => clock.clearTimeout(timer));
    // The whole audit chain is walked a moment after the core serves, then checkpointed (AuditStartWalk).
    audit.start();
  };
}

/**
 * One of several cores sharing the fleet (config `cores`, docs/multi-core.md): no single database of record here;
 * the core keeps its own (knowledge base documents) and runs a runtime per cluster it owns (multi-core.ts).
 */
async function startSharedCore(deps: CoreProcessDeps): Promise<void> {
  const { bus, config, dataDir, env, clock, log, cleanups } = deps;
  const { coreIdOf, startMultiCore } = await import('./multi-core');
  const core = coreIdOf(config, env);
  const { key: auditKey } = loadOrCreateAuditKey(auditKeyPath(dataDir, env, config.audit.keyFile), log);
  const local = StateStore.open(join(dataDir, 'overseer.db'), {
    synchronous: config.state.synchronous,
    auditKey,
    now: () => clock.now(),
  });
  cleanups.push(() => local.close());
  await ensureEventStream(await bus.jetstreamManager(), { namespace: bus.namespace });
  // Every write to a cluster goes through its transport, which asks the lease first (bound once the leases exist).
  let fence: (cluster: string) => void = (cluster) => {
    throw new Error(`cluster ${cluster}: this core's leases are not running yet`);
  };
  const platforms = platformsFromConfig(config.clusters, {
    clock,
    log,
    fence: (cluster) => fence(cluster),
    userAgent: `overseer core ${core}`,
  });
  cleanups.push(() => closePlatforms(platforms.values()));
  const knowledge = await openKnowledgeBase({ config: config.knowledge, repo: local.knowledge, clock, log, dataDir });
  const runbookWatch = watchRunbooks({ knowledge, dirs: runbookDirs(config.knowledge, dataDir), clock, log });
  cleanups.push(() => runbookWatch.stop());
  const notifier = createNotifier({ clock, log, bus }, config.notifications);
  cleanups.push(() => notifier.close());
  const multi = await startMultiCore({
    bus,
    config,
    core,
    dataDir,
    clock,
    log,
    platforms,
    knowledge,
    notifier,
    ssh: sshTargetsFromConfig(config, dataDir, { clock, log }),
    auditKey,
    local,
    cleanups,
  });
  fence = (cluster) => multi.leases.fence(cluster);
  log.info(`core ${core}: sharing ${config.clusters.length} cluster(s) with the other cores`);
}

/** On first start: an admin token, written to $OVERSEER_DATA_DIR/admin.token (0600) and never logged. */
function ensureAdminToken(
  store: StateStore,
  dataDir: string,
  at: number,
  log: { info(m: string): void; warn(m: string): void },
): void {
  if (store.tokens.count() > 0) {
    if (!store.tokens.list().some((t) => t.role === 'admin' && t.revokedAt === undefined)) {
      log.warn(`no active admin token: on this host, 'overseer token recover' creates one (audited)`);
    }
    return;
  }
  const path = join(dataDir, 'admin.token');
  const { record, token } = store.transaction(() => {
    const created = store.tokens.create('admin', 'admin', OVERSEER_ID, at);
    store.audit.append({
      at,
      actor: OVERSEER_ID,
      kind: 'token.created',
      data: { id: created.record.id, name: 'admin', role: 'admin' },
    });
    return created;
  });
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  log.info(`created the first admin token (${record.id}); it is in ${path}`);
}
