// The Overseer process. `npm start` (= `overseer serve --role all`) runs everything on the embedded default:
// the PVE simulator with its demo seed (when no cluster is configured), NATS (found or started), the core and
// the gateway. `--role core` and `--role gateway` run the parts as separate processes that meet over NATS.
//
// Environment: OVERSEER_DATA_DIR (./data), OVERSEER_PORT (8001), OVERSEER_CONFIG (a JSON file; default
// $OVERSEER_DATA_DIR/overseer.json when present), NATS_URL, NATS_USER/NATS_PASS or NATS_NKEY_SEED, OVERSEER_NAMESPACE,
// OVERSEER_NATS_WAIT_SECONDS (15: how long start-up waits for NATS to answer), OVERSEER_INSPECT (ws://host:port),
// OVERSEER_INSTALL_NATS=1, OVERSEER_SIM_PORT, OVERSEER_HOST (the gateway's listen address, default 127.0.0.1; 0.0.0.0
// in a container), OVERSEER_RATE_LIMIT=off (no per-token limit: benchmarks), OVERSEER_GATEWAY_THREAD=on (`--role all`:
// the gateway on a worker thread of its own, actors/gateway-thread.ts).
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SystemClock } from '../adapters/clock';
import { createLineLog, createTurnLines } from '../adapters/log';
import type { NatsBus } from '../adapters/nats';
import { DEFAULT_GATEWAY_HOST, startGateway } from '../gateway';
import { createCoreClient } from '../protocol';
import { ConfigError, loadConfig } from './config';
import { startCore } from './core-process';
import { spawnGatewayThread } from './gateway-thread';
import { assertNoOtherCore, resolveNats } from './nats-endpoint';
import { connectEndpoint, natsWaitMs } from './nats-wait';
import { assertPortFree } from './port-probe';

const ROLES = ['all', 'core', 'gateway'] as const;
type ServeRole = (typeof ROLES)[number];

/** The process's log lines: stdout, one write per event-loop turn (adapters/log.ts). */
const stdoutLines = createTurnLines((chunk) => process.stdout.write(chunk));

export interface ServeOptions {
  /** OVERSEER_GATEWAY_THREAD=on: told when the gateway's thread ends while serving (default: logged). */
  onGatewayThreadExit?: ((reason: string) => void) | undefined;
}

export async function serve(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  options: ServeOptions = {},
): Promise<() => Promise<void>> {
  const { values } = parseArgs({ args: argv, options: { role: { type: 'string', default: 'all' } }, strict: true });
  const role = values.role as ServeRole;
  if (!ROLES.includes(role))
    throw new ConfigError(`--role must be one of ${ROLES.join(', ')} (got '${role}')`, '--role');
  const clock = new SystemClock();
  const log = createLineLog({ clock, write: stdoutLines.write });
  const dataDir = resolve(env.OVERSEER_DATA_DIR ?? './data');
  mkdirSync(dataDir, { recursive: true });
  const port = parsePort(env.OVERSEER_PORT, 'OVERSEER_PORT', 8001);
  const rateLimit = parseOnOff(env, 'OVERSEER_RATE_LIMIT', true);
  const onGatewayThread = parseOnOff(env, 'OVERSEER_GATEWAY_THREAD', false);
  const configPath =
    env.OVERSEER_CONFIG ?? (existsSync(join(dataDir, 'overseer.json')) ? join(dataDir, 'overseer.json') : undefined);
  const config = loadConfig(configPath);
  if (config.cores && role !== 'gateway') {
    // The cores of one fleet meet on the same NATS cluster and under the same namespace; a namespace of its own
    // (the installation id a lone core derives) would make each core think it owns every cluster alone.
    if (!env.NATS_URL)
      throw new ConfigError('cores: several cores need NATS_URL (the NATS cluster they share)', 'NATS_URL');
    if (!env.OVERSEER_NAMESPACE) {
      throw new ConfigError('cores: every core of the fleet needs the same OVERSEER_NAMESPACE', 'OVERSEER_NAMESPACE');
    }
  }
  const natsWait = { log, clock, waitMs: natsWaitMs(env) };
  const gatewayHost = env.OVERSEER_HOST || DEFAULT_GATEWAY_HOST;
  // Before NATS, the token and the restore: a taken gateway port is said at once.
  if (role !== 'core' && port !== 0) {
    await assertPortFree(port, gatewayHost, { name: 'gateway', key: 'OVERSEER_PORT', hostKey: 'OVERSEER_HOST' });
  }
  // The last cleanup: the lines the others logged.
  const cleanups: (() => Promise<void> | void)[] = [stdoutLines.flush];

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

  // OVERSEER_GATEWAY_THREAD=on: the gateway's thread loads its program while this one resolves NATS and restores the
  // core (actors/gateway-thread.ts).
  const gatewayThread =
    role === 'all' && onGatewayThread
      ? spawnGatewayThread(log, options.onGatewayThreadExit ?? ((reason) => log.error(reason)))
      : undefined;
  if (gatewayThread) cleanups.push(() => gatewayThread.stop());

  try {
    const nats = await resolveNats({ env, dataDir, log, role });
    if (nats.server) cleanups.push(() => nats.server?.stop());
    if (gatewayThread) {
      const { server: _server, probed: _probed, ...endpoint } = nats;
      gatewayThread.connect({ endpoint, natsWaitMs: natsWait.waitMs });
    }
    // One connection per part, each as its own NATS user on the embedded server (the core's for `role all`).
    const bus: NatsBus = await connectEndpoint(nats, role === 'gateway' ? 'gateway' : 'core', natsWait);
    cleanups.push(() => bus.close());
    // The gateway on this thread (no gateway thread): a connection of its own for `role all`.
    const gatewayBus: NatsBus =
      role === 'all' && !gatewayThread ? await connectEndpoint(nats, 'gateway', natsWait) : bus;
    if (gatewayBus !== bus) cleanups.push(() => gatewayBus.close());
    // Several cores share one installation only through leases (config `cores`); otherwise a second core is refused.
    if (role !== 'gateway' && !config.cores) {
      await assertNoOtherCore(bus, { namespace: nats.namespace, url: nats.url, log });
    }

    let startLoops = () => {};
    if (role === 'all' || role === 'core') {
      const simPort = parsePort(env.OVERSEER_SIM_PORT, 'OVERSEER_SIM_PORT', 0);
      startLoops = await startCore({ bus, config, dataDir, env, clock, log, simPort, cleanups });
    }

    if (gatewayThread) {
      const url = await gatewayThread.listen({ port, hostname: gatewayHost, rateLimit });
      // Stopped first at shutdown, before the connections and the NATS server it uses (stop() is idempotent).
      cleanups.push(() => gatewayThread.stop());
      log.info(`gateway listening on ${url} (a thread of its own)`);
    } else if (role === 'all' || role === 'gateway') {
      const gateway = await startGateway(
        {
          core: createCoreClient(gatewayBus),
          bus: gatewayBus,
          clock,
          log,
          ...(rateLimit ? {} : { rateLimit: false }),
        },
        { port, hostname: gatewayHost },
      );
      cleanups.push(() => gateway.close());
      log.info(`gateway listening on ${gateway.url}`);
    }
    // The process serves: the work that can wait (the loops, the restored requests' start) begins a moment later, so
    // that after a restart the first answers do not queue behind it (startCore).
    startLoops();
  } catch (error) {
    await stopAll();
    throw error;
  }
  return stopAll;
}

/** An 'on' / 'off' setting (unset or empty: `fallback`). */
function parseOnOff(env: NodeJS.ProcessEnv, key: string, fallback: boolean): boolean {
  const value = env[key] ?? '';
  if (value === '') return fallback;
  if (value === 'on' || value === 'off') return value === 'on';
  throw new ConfigError(`${key} must be 'on' or 'off' (got '${value}')`, key);
}

function parsePort(value: string | undefined, key: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError(`${key} must be a port number (got '${value}')`, key);
  return port;
}

export async function main(argv = process.argv.slice(2)): Promise<void> {
  let stop: (() => Promise<void>) | undefined;
  const shutdown = async (signal: string) => {
    stdoutLines.write(`received ${signal}; stopping`);
    stdoutLines.flush();
    await stop?.();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('exit', stdoutLines.flush);
  const fail = async (reason: string) => {
    process.stderr.write(`overseer: ${reason}\n`);
    await stop?.();
    process.exit(1);
  };
  try {
    stop = await serve(argv, process.env, { onGatewayThreadExit: (reason) => void fail(reason) });
  } catch (error) {
    await fail(error instanceof Error ? error.message : String(error));
  }
}
