// Starts a three-server nats-server cluster for one test file: routes between the servers on 127.0.0.1 free ports,
// JetStream on each with its own temp store dir and server name, ready once JetStream has a meta leader and can place
// an R3 stream. Servers can be SIGKILLed, stopped and restarted (same ports, same store dirs) one at a time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { writeNatsClusterMemberConfig } from '../../adapters/nats/server-config';
import {
  findFreePort,
  findNatsServerBinary,
  type NatsServerProcess,
  natsInstallCommand,
  spawnNatsServer,
} from '../../adapters/nats/server-process';

export interface TestClusterServer {
  readonly index: number;
  /** server_name, as JetStream's peer and leader names report it. */
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly clusterPort: number;
  readonly storeDir: string;
  readonly running: boolean;
  /** SIGKILL, as in a crash. Its store stays for restart(). */
  kill(): Promise<void>;
  /** Clean shutdown (SIGTERM). */
  stop(): Promise<void>;
  /** Stops it if running, then starts it again on the same ports with the same store dir. */
  restart(): Promise<void>;
}

export interface TestNatsCluster {
  /** Every server's client URL. */
  readonly urls: string[];
  readonly servers: TestClusterServer[];
  /** Resolves once JetStream answers through a running server and can place an R3 stream (bounded). */
  waitReady(timeoutMs?: number): Promise<void>;
  /** Stops every server and removes the temp dirs. */
  stopAll(): Promise<void>;
}

export interface TestNatsClusterOptions {
  /** Default 3. */
  size?: number;
  /** The cluster's name; default `overseer-test`. */
  name?: string;
  /** Bound on start-up (servers ready, meta leader elected, R3 placeable); default 30 s. */
  readyTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PROBE_STREAM = 'HARNESS_R3_PROBE';

/** Opens a short-lived client to `urls` and tries once: account info, then an R-`size` stream placed and removed. */
async function jetstreamReadyOnce(urls: string[], size: number): Promise<string | undefined> {
  let nc: NatsConnection | undefined;
  try {
    nc = await connect({ servers: urls, timeout: 1_000, reconnect: false });
    const jsm = await jetstreamManager(nc, { timeout: 2_000 });
    await jsm.getAccountInfo();
    const name = `${PROBE_STREAM}_${size}`;
    await jsm.streams.add({ name, subjects: [`harness.probe.${size}`], num_replicas: size });
    await jsm.streams.delete(name);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await nc?.close().catch(() => undefined);
  }
}

export async function startNatsCluster(opts: TestNatsClusterOptions = {}): Promise<TestNatsCluster> {
  const binary = findNatsServerBinary();
  if (!binary) throw new Error(`nats-server not found; install it with: ${natsInstallCommand}`);
  const size = opts.size ?? 3;
  const clusterName = opts.name ?? 'overseer-test';
  const root = mkdtempSync(join(tmpdir(), 'overseer-nats-cluster-'));

  // Ports are chosen together (all distinct) before any server starts: every config names every route.
  const ports = new Set<number>();
  while (ports.size < size * 2) ports.add(await findFreePort());
  const [clientPorts, routePorts] = [[...ports].slice(0, size), [...ports].slice(size)];
  const routes = routePorts.map((p) => `nats-route://127.0.0.1:${p}`);

  const members = clientPorts.map((port, index) => {
    const name = `n${index + 1}`;
    const storeDir = join(root, name, 'store');
    const configFile = writeNatsClusterMemberConfig(join(root, `${name}.conf`), {
      serverName: name,
      port,
      storeDir,
      cluster: { name: clusterName, port: routePorts[index] as number, routes },
    });
    const logFile = join(root, `${name}.log`);
    // JetStream, its store dir and the server name come from the config file alone: nats-server 2.9 refuses a
    // store dir given twice (-sd and the file), so no JetStream flags here.
    const launch = () =>
      spawnNatsServer({ binary, port, configFile, jetstream: false, logFile, readyTimeoutMs: 15_000 });
    return { index, name, port, clusterPort: routePorts[index] as number, storeDir, launch };
  });

  const procs: (NatsServerProcess | undefined)[] = [];
  try {
    procs.push(...(await Promise.all(members.map((m) => m.launch()))));
  } catch (err) {
    await Promise.all(procs.map((p) => p?.kill()));
    rmSync(root, { recursive: true, force: true });
    throw err;
  }

  const servers: TestClusterServer[] = members.map((m) => ({
    index: m.index,
    name: m.name,
    url: `nats://127.0.0.1:${m.port}`,
    port: m.port,
    clusterPort: m.clusterPort,
    storeDir: m.storeDir,
    get running() {
      return procs[m.index]?.running ?? false;
    },
    kill: async () => procs[m.index]?.kill(),
    stop: async () => procs[m.index]?.stop(),
    async restart() {
      await procs[m.index]?.stop();
      procs[m.index] = await m.launch();
    },
  }));
  const urls = servers.map((s) => s.url);

  const cluster: TestNatsCluster = {
    urls,
    servers,
    async waitReady(timeoutMs = opts.readyTimeoutMs ?? 30_000) {
      const deadline = Date.now() + timeoutMs;
      const running = () => servers.filter((s) => s.running).map((s) => s.url);
      let last: string | undefined = 'not tried';
      while (Date.now() < deadline) {
        last = await jetstreamReadyOnce(running(), Math.min(size, running().length));
        if (last === undefined) return;
        await sleep(200);
      }
      throw new Error(`the NATS cluster's JetStream was not ready within ${timeoutMs} ms: ${last}`);
    },
    async stopAll() {
      await Promise.all(procs.map((p) => p?.stop(3_000)));
      rmSync(root, { recursive: true, force: true });
    },
  };

  try {
    await cluster.waitReady();
  } catch (err) {
    const logs = procs.map((p, i) => `--- n${i + 1}\n${p?.output() ?? ''}`).join('\n');
    await cluster.stopAll();
    throw new Error(`${(err as Error).message}\n${logs}`, { cause: err });
  }
  return cluster;
}
