// The Overseer process. `npm start` (= `overseer serve --role all`) runs everything on the embedded default:
// the PVE simulator with its demo seed (when no cluster is configured), NATS (found or started), the core and
// the gateway. `--role core` and `--role gateway` run the parts as separate processes that meet over NATS.
//
// Environment: OVERSEER_DATA_DIR (./data), OVERSEER_PORT (8001), OVERSEER_CONFIG (a JSON file; default
// $OVERSEER_DATA_DIR/overseer.json when present), NATS_URL, NATS_USER/NATS_PASS or NATS_NKEY_SEED,
// OVERSEER_INSPECT (ws://host:port), OVERSEER_INSTALL_NATS=1, OVERSEER_SIM_PORT, OVERSEER_HOST (the gateway's listen
// address, default 127.0.0.1; 0.0.0.0 in a container), OVERSEER_RATE_LIMIT=off (no per-token limit: benchmarks).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SystemClock } from '../adapters/clock';
import { openKnowledgeBase } from '../adapters/knowledge';
import { createLineLog } from '../adapters/log';
import type { NatsBus } from '../adapters/nats';
import { connectBus, ensureEventStream } from '../adapters/nats';
import { createCoreClient } from '../adapters/nats/protocol';
import { createNotifier } from '../adapters/notify';
import { closePlatforms } from '../adapters/proxmox';
import { DEFAULT_GATEWAY_HOST, startGateway } from '../gateway';
import { StateStore } from '../state';
import { ConfigError, loadConfig } from './config';
import { serveCore } from './core-service';
import { startEmbeddedSimulator } from './embedded-sim';
import { createInspector } from './inspector';
import { resolveNats } from './nats-endpoint';
import { Overseer } from './overseer';
import { platformsFromConfig } from './platforms';
import { sshTargetsFromConfig } from './ssh-targets';

const ROLES = ['all', 'core', 'gateway'] as const;
type ServeRole = (typeof ROLES)[number];

export async function serve(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<() => Promise<void>> {
  const { values } = parseArgs({ args: argv, options: { role: { type: 'string', default: 'all' } }, strict: true });
  const role = values.role as ServeRole;
  if (!ROLES.includes(role))
    throw new ConfigError(`--role must be one of ${ROLES.join(', ')} (got '${role}')`, '--role');
  const clock = new SystemClock();
  const log = createLineLog({ clock, write: (line) => process.stdout.write(`${line}\n`) });
  const dataDir = resolve(env.OVERSEER_DATA_DIR ?? './data');
  mkdirSync(dataDir, { recursive: true });
  const port = parsePort(env.OVERSEER_PORT, 'OVERSEER_PORT', 8001);
  const rateLimit = env.OVERSEER_RATE_LIMIT ?? '';
  if (!['', 'on', 'off'].includes(rateLimit))
    throw new ConfigError(`OVERSEER_RATE_LIMIT must be 'on' or 'off' (got '${rateLimit}')`, 'OVERSEER_RATE_LIMIT');
  const configPath =
    env.OVERSEER_CONFIG ?? (existsSync(join(dataDir, 'overseer.json')) ? join(dataDir, 'overseer.json') : undefined);
  const config = loadConfig(configPath);
  const cleanups: (() => Promise<void> | void)[] = [];

  // Runs the cleanups in reverse order, once; also on a failed start, so nothing started is left running.
  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        log.error('shutdown step failed', error);
      }
    }
  };

  try {
    const nats = await resolveNats({ env, dataDir, log });
    if (nats.server) cleanups.push(() => nats.server?.stop());
    const bus: NatsBus = await connectBus({
      servers: nats.url,
      user: env.NATS_USER,
      pass: env.NATS_PASS,
      nkeySeed: env.NATS_NKEY_SEED,
      name: `overseer-${role}`,
      log,
      waitOnFirstConnect: true,
    });
    cleanups.push(() => bus.close());

    if (role === 'all' || role === 'core') {
      let clusters = config.clusters;
      if (clusters.length === 0) {
        const embedded = await startEmbeddedSimulator(
          dataDir,
          clock,
          parsePort(env.OVERSEER_SIM_PORT, 'OVERSEER_SIM_PORT', 0),
        );
        cleanups.push(() => embedded.sim.stop());
        clusters = [embedded.cluster];
        log.info(`no cluster configured: using the embedded PVE simulator (demo cluster 'lab') at ${embedded.sim.url}`);
      }
      const store = StateStore.open(join(dataDir, 'overseer.db'), { synchronous: config.state.synchronous });
      cleanups.push(() => store.close());
      const audit = store.audit.verify();
      if (!audit.ok) log.error(`audit log damaged at row ${audit.seq} (${audit.problem}); new rows still chain on`);
      ensureAdminToken(store, dataDir, clock.now(), log);
      await ensureEventStream(await bus.jetstreamManager());
      const platforms = platformsFromConfig(clusters, { clock, log });
      cleanups.push(() => closePlatforms(platforms.values()));
      const inspector = env.OVERSEER_INSPECT ? createInspector(env.OVERSEER_INSPECT, log) : undefined;
      if (inspector) cleanups.push(() => inspector.stop());
      const knowledge = await openKnowledgeBase({
        config: config.knowledge,
        repo: store.knowledge,
        clock,
        log,
        dataDir,
      });
      const notifier = createNotifier({ clock, log, bus }, config.notifications);
      cleanups.push(() => notifier.close());
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
      overseer.start();
      cleanups.push(() => overseer.stop());
      const stopServing = serveCore({
        bus,
        overseer,
        store,
        config,
        clock,
        startedAt: clock.now(),
        queue: 'overseer-core',
      });
      cleanups.push(stopServing);
    }

    if (role === 'all' || role === 'gateway') {
      const gateway = await startGateway(
        {
          core: createCoreClient(bus),
          bus,
          clock,
          log,
          ...(rateLimit === 'off' ? { rateLimit: false } : {}),
        },
        { port, hostname: env.OVERSEER_HOST || DEFAULT_GATEWAY_HOST },
      );
      cleanups.push(() => gateway.close());
      log.info(`gateway listening on ${gateway.url}`);
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  return stopAll;
}

function parsePort(value: string | undefined, key: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError(`${key} must be a port number (got '${value}')`, key);
  return port;
}

/** On first start: an admin token, written to $OVERSEER_DATA_DIR/admin.token (0600) and never logged. */
function ensureAdminToken(store: StateStore, dataDir: string, at: number, log: { info(m: string): void }): void {
  if (store.tokens.count() > 0) return;
  const path = join(dataDir, 'admin.token');
  const { record, token } = store.transaction(() => {
    const created = store.tokens.create('admin', 'admin', 'overseer', at);
    store.audit.append({
      at,
      actor: 'overseer',
      kind: 'token.created',
      data: { id: created.record.id, name: 'admin', role: 'admin' },
    });
    return created;
  });
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  log.info(`created the first admin token (${record.id}); it is in ${path}`);
}

export async function main(argv = process.argv.slice(2)): Promise<void> {
  let stop: (() => Promise<void>) | undefined;
  const shutdown = async (signal: string) => {
    process.stdout.write(`received ${signal}; stopping\n`);
    await stop?.();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  try {
    stop = await serve(argv);
  } catch (error) {
    process.stderr.write(`overseer: ${error instanceof Error ? error.message : String(error)}\n`);
    await stop?.();
    process.exit(1);
  }
}
