// The stacks of issue 15's end-to-end setup as one call each, for benchmarks and tests:
// - startMultiCoreStack: a three-server NATS cluster (JetStream, R3), one PVE simulator per Proxmox cluster, and
//   one Overseer core per NATS server as a child process (tests/e2e/serve-child.ts, `serve --role all`) with a
//   config that has a `cores` section, its own OVERSEER_CORE_ID, data dir and gateway port, one OVERSEER_NAMESPACE;
// - startSingleCoreStack: the embedded default for comparison: one nats-server, the same simulators, one
//   `serve --role all` WITHOUT a `cores` section.
// Every server binds 127.0.0.1, every wait is bounded, and stop() (also called when a start fails half-way) kills
// the children and removes every temp dir.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsBus } from '../../adapters/nats';
import { connectBus, findFreePort } from '../../adapters/nats';
import { largeSeed } from '../../adapters/pve-sim';
import type { Child } from './child';
import { runTs } from './child';
import type { TestNatsCluster } from './nats-cluster';
import { startNatsCluster } from './nats-cluster';
import type { TestNatsServer } from './nats-server';
import { startNatsServer } from './nats-server';
import type { SimCluster } from './sim-cluster';
import { startSimCluster } from './sim-cluster';

const SERVE_CHILD = join(import.meta.dirname, '..', 'e2e', 'serve-child.ts');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface StackCore {
  id: string;
  dataDir: string;
  url: string;
  child: Child;
  alive: boolean;
}

export interface StackOptions {
  /** Proxmox cluster names, one simulator each (largeSeed, `vms` VMs on 2 nodes). */
  clusters: readonly string[];
  vms: number;
  /** Merged into the config file (e.g. `gate`, `loops`). */
  extraConfig?: Record<string, unknown>;
  taskDurations?: Partial<Record<string, number>>;
  /** Bound on every start-up wait (default 120 s). */
  timeoutMs?: number;
}

export interface MultiCoreStackOptions extends StackOptions {
  leaseSeconds: number;
  /** Cores and NATS servers (default 3). */
  size?: number;
  namespace?: string;
  /** Cores (by index) that keep to their own server (NATS_DISCOVERY=off): stopping it cuts them off. */
  pinned?: readonly number[];
  /** This core starts first and owns every cluster before the others start (leases are not rebalanced). */
  first?: number;
}

export interface LeaseEvent {
  subject: string;
  at: number;
  payload: unknown;
}

interface StackBase {
  readonly dir: string;
  readonly sims: Map<string, SimCluster>;
  readonly cores: StackCore[];
  /** The first admin token (read from the data dir of the core that wrote it). */
  readonly token: string;
  /** SIGTERMs the live cores and waits for them; their data dirs stay (for stop() to remove). */
  stopCores(): Promise<void>;
  /** Kills the live cores, stops the servers, removes every temp dir; safe to call twice. */
  stop(): Promise<void>;
}

export interface MultiCoreStack extends StackBase {
  readonly nats: TestNatsCluster;
  /** A client of the NATS cluster in the fleet's namespace, for watching events. */
  readonly watcher: NatsBus;
  /** Every `overseer.evt.lease.>` event seen, with when it arrived here. */
  readonly leaseEvents: LeaseEvent[];
  /** Who owns each cluster, as the first live core's `/v1/status` says. */
  owners(): Promise<Record<string, string | undefined>>;
}

export interface SingleCoreStack extends StackBase {
  readonly nats: TestNatsServer;
}

/** Polls `probe` every 100 ms until it gives a value; throws after `timeoutMs`. */
export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

function startCore(id: string, dir: string, configPath: string, natsUrl: string, port: number, env = {}): StackCore {
  const dataDir = join(dir, id);
  const child = runTs(SERVE_CHILD, ['all'], {
    OVERSEER_DATA_DIR: dataDir,
    OVERSEER_CONFIG: configPath,
    OVERSEER_PORT: String(port),
    OVERSEER_RATE_LIMIT: 'off',
    NATS_URL: natsUrl,
    ...env,
  });
  return { id, dataDir, url: `http://127.0.0.1:${port}`, child, alive: true };
}

async function stopCores(cores: StackCore[]): Promise<void> {
  await Promise.all(
    cores.map(async (core) => {
      if (!core.alive || core.child.proc.exitCode !== null) return;
      core.alive = false;
      core.child.proc.kill('SIGTERM');
      const ended = await Promise.race([core.child.exited.then(() => true), sleep(10_000).then(() => false)]);
      if (!ended) {
        core.child.proc.kill('SIGKILL');
        await core.child.exited;
      }
    }),
  );
}

async function startSims(opts: StackOptions, sims: Map<string, SimCluster>): Promise<void> {
  for (const name of opts.clusters) {
    sims.set(
      name,
      await startSimCluster({
        seed: largeSeed({ vms: opts.vms, nodes: 2, cluster: name }),
        taskDurations: opts.taskDurations,
      }),
    );
  }
}

function writeConfig(dir: string, opts: StackOptions, sims: Map<string, SimCluster>, extra: object): string {
  const config = {
    clusters: opts.clusters.map((name) => ({ ...sims.get(name)?.clusterConfig, name })),
    ...opts.extraConfig,
    ...extra,
  };
  const configPath = join(dir, 'overseer.json');
  writeFileSync(configPath, JSON.stringify(config));
  return configPath;
}

async function readToken(cores: StackCore[], timeoutMs: number): Promise<string> {
  return until('the first admin token', timeoutMs, async () => {
    const holder = cores.find((c) => existsSync(join(c.dataDir, 'admin.token')));
    return holder ? readFileSync(join(holder.dataDir, 'admin.token'), 'utf8').trim() || undefined : undefined;
  });
}

async function ready(cores: StackCore[], timeoutMs: number): Promise<void> {
  await Promise.all(cores.map((c) => c.child.line('READY', timeoutMs)));
}

/** Three clustered nats-servers, a simulator per cluster, and one core per server; resolves once every cluster is owned. */
export async function startMultiCoreStack(opts: MultiCoreStackOptions): Promise<MultiCoreStack> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const size = opts.size ?? 3;
  const namespace = opts.namespace ?? 'fleet';
  const dir = mkdtempSync(join(tmpdir(), 'overseer-multi-stack-'));
  const sims = new Map<string, SimCluster>();
  const cores: StackCore[] = [];
  const leaseEvents: LeaseEvent[] = [];
  let nats: TestNatsCluster | undefined;
  let watcher: NatsBus | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await stopCores(cores);
    for (const sim of sims.values()) await sim.stop().catch(() => undefined);
    await watcher?.close().catch(() => undefined);
    await nats?.stopAll().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    nats = await startNatsCluster({ size });
    const urls = nats.urls;
    await startSims(opts, sims);
    const configPath = writeConfig(dir, opts, sims, { cores: { leaseSeconds: opts.leaseSeconds, replicas: size } });
    watcher = await connectBus({ servers: urls, name: 'stack-watcher', namespace });
    watcher.subscribe('overseer.evt.lease.>', (subject, payload) =>
      leaseEvents.push({ subject, at: Date.now(), payload }),
    );
    let token = '';
    const owners = async (): Promise<Record<string, string | undefined>> => {
      const core = cores.find((c) => c?.alive);
      if (!core) return {};
      const res = await fetch(`${core.url}/v1/status`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { leases?: { cluster: string; owner?: string }[] };
      return Object.fromEntries((body.leases ?? []).map((l) => [l.cluster, l.owner]));
    };
    const allOwned = () =>
      until('every cluster owned', timeoutMs, async () => {
        const o = await owners();
        return opts.clusters.every((c) => o[c]) ? o : undefined;
      });
    const order = Array.from({ length: size }, (_, i) => i);
    if (opts.first !== undefined) order.unshift(...order.splice(opts.first, 1));
    for (const i of order) {
      const id = `core-${i + 1}`;
      const core = startCore(id, dir, configPath, urls[i] ?? '', await findFreePort(), {
        OVERSEER_CORE_ID: id,
        OVERSEER_NAMESPACE: namespace,
        ...(opts.pinned?.includes(i) ? { NATS_DISCOVERY: 'off' } : {}),
      });
      cores[i] = core;
      if (i === opts.first) {
        await ready([core], timeoutMs);
        token = await readToken([core], timeoutMs);
        await allOwned();
      }
    }
    await ready(cores, timeoutMs);
    if (!token) token = await readToken(cores, timeoutMs);
    await allOwned();
    const w = watcher;
    const n = nats;
    return {
      dir,
      sims,
      cores,
      token,
      nats: n,
      watcher: w,
      leaseEvents,
      owners,
      stopCores: () => stopCores(cores),
      stop,
    };
  } catch (error) {
    const logs = cores.map((c) => `--- ${c.id}\n${c.child.stderr().slice(-2_000)}`).join('\n');
    await stop();
    throw new Error(`the multi-core stack did not start: ${(error as Error).message}\n${logs}`, { cause: error });
  }
}

/** One nats-server, a simulator per cluster, one `serve --role all` without `cores`; resolves once it serves. */
export async function startSingleCoreStack(opts: StackOptions): Promise<SingleCoreStack> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const dir = mkdtempSync(join(tmpdir(), 'overseer-single-stack-'));
  const sims = new Map<string, SimCluster>();
  const cores: StackCore[] = [];
  let nats: TestNatsServer | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await stopCores(cores);
    for (const sim of sims.values()) await sim.stop().catch(() => undefined);
    await nats?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    nats = await startNatsServer();
    await startSims(opts, sims);
    const configPath = writeConfig(dir, opts, sims, {});
    cores.push(startCore('single', dir, configPath, nats.url, await findFreePort()));
    await ready(cores, timeoutMs);
    const token = await readToken(cores, timeoutMs);
    const n = nats;
    return { dir, sims, cores, token, nats: n, stopCores: () => stopCores(cores), stop };
  } catch (error) {
    const logs = cores.map((c) => `--- ${c.id}\n${c.child.stderr().slice(-2_000)}`).join('\n');
    await stop();
    throw new Error(`the single-core stack did not start: ${(error as Error).message}\n${logs}`, { cause: error });
  }
}
