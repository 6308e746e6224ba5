// The whole Overseer on loopback for the browser tests: the PVE simulator in this process (demo seed, cluster
// 'lab', HTTPS with a fresh CA, every task 150 ms; a guest's agent still answers 5 s after it starts, so a lab's
// three tiers boot in about 25 s), a private nats-server (free port, JetStream), and `serve --role all` (the core
// and the real gateway, serving the built dashboard) as one child process on a free port, meeting the simulator and
// NATS as a deployment would. Tokens for four people: the first admin (made by the core), a second admin, an
// operator and an observer.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '../../adapters/nats';
import { DEFAULT_TASK_DURATIONS, demoSeed } from '../../adapters/pve-sim';
import type { Role } from '../../protocol';
import { stopChild } from '../e2e/stack';
import type { Child } from '../helpers/child';
import { runTs } from '../helpers/child';
import type { TestNatsServer } from '../helpers/nats-server';
import { startNatsServer } from '../helpers/nats-server';
import type { SimCluster } from '../helpers/sim-cluster';
import { startSimCluster } from '../helpers/sim-cluster';

const SERVE_CHILD = join(import.meta.dirname, '..', 'e2e', 'serve-child.ts');
/** The subjects' namespace on the test's nats-server (`overseer.browser.evt.…`). */
export const NAMESPACE = 'browser';
/** Every simulator task this long (the simulator's clock is real time here). */
const TASK_MS = 150;

export interface Tokens {
  /** The core's first admin (admin.token). */
  admin: string;
  /** Another person with the admin role (the two-person rule's second admin). */
  admin2: string;
  operator: string;
  observer: string;
}

export interface ApiAnswer<T> {
  status: number;
  body: T;
}

export interface BrowserStack {
  /** The gateway: the dashboard and the API, e.g. http://127.0.0.1:40123 */
  url: string;
  tokens: Tokens;
  cluster: SimCluster;
  nats: TestNatsServer;
  /** One call to the API with a bearer token (the first admin's unless told); the JSON body parsed. */
  api<T = unknown>(method: string, path: string, opts?: { token?: string; body?: unknown }): Promise<ApiAnswer<T>>;
  /** Stops the child (SIGTERM, then SIGKILL), the nats-server and the simulator; removes the data dir. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startBrowserStack(): Promise<BrowserStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'overseer-browser-'));
  let nats: TestNatsServer | undefined;
  let cluster: SimCluster | undefined;
  let child: Child | undefined;
  const stop = async () => {
    await stopChild(child);
    await nats?.stop().catch(() => {});
    await cluster?.stop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const seed = demoSeed();
    const taskDurations = Object.fromEntries(Object.keys(DEFAULT_TASK_DURATIONS).map((t) => [t, TASK_MS]));
    [nats, cluster] = await Promise.all([startNatsServer(), startSimCluster({ seed, taskDurations })]);
    const configPath = join(dataDir, 'overseer.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        clusters: [cluster.clusterConfig],
        loops: { syncIntervalSeconds: 1, monitorIntervalSeconds: 1, healthIntervalSeconds: 30 },
        execution: { perNodeConcurrency: 4, taskTimeoutSeconds: 30 },
      }),
    );
    const port = await findFreePort();
    child = runTs(SERVE_CHILD, ['all'], {
      OVERSEER_DATA_DIR: dataDir,
      OVERSEER_CONFIG: configPath,
      NATS_URL: nats.url,
      OVERSEER_NAMESPACE: NAMESPACE,
      OVERSEER_PORT: String(port),
      OVERSEER_HOST: '127.0.0.1',
      OVERSEER_RATE_LIMIT: 'off',
      OVERSEER_SIM_PORT: '',
      OVERSEER_INSPECT: '',
    });
    await child.line('READY', 30_000);
    const url = `http://127.0.0.1:${port}`;
    const admin = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();

    const api = async <T>(method: string, path: string, opts: { token?: string; body?: unknown } = {}) => {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${opts.token ?? admin}`,
          ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
    };

    const token = async (name: string, role: Role): Promise<string> => {
      const made = await api<{ token: string }>('POST', '/v1/tokens', { body: { name, role } });
      if (made.status !== 201) throw new Error(`POST /v1/tokens ${name}: ${made.status} ${JSON.stringify(made.body)}`);
      return made.body.token;
    };
    const [admin2, operator, observer] = await Promise.all([
      token('bea', 'admin'),
      token('olga', 'operator'),
      token('obi', 'observer'),
    ]);

    // Ready once the first sync has put every guest of the demo cluster in the core's view.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const vms = await api<{ total?: number }>('GET', '/v1/vms?limit=1').catch(() => undefined);
      if (vms?.status === 200 && (vms.body.total ?? 0) >= seed.vms.length) break;
      if (Date.now() > deadline) throw new Error(`the demo fleet never appeared (last: ${JSON.stringify(vms)})`);
      await sleep(100);
    }
    return { url, tokens: { admin, admin2, operator, observer }, cluster, nats, api, stop };
  } catch (error) {
    const detail = child ? `\nserve --role all stderr:\n${child.stderr()}` : '';
    await stop();
    throw new Error(`${(error as Error).message}${detail}`, { cause: error });
  }
}

/** Polls `read` until `ok` holds of its answer (bounded); returns that answer. */
export async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms (last: ${JSON.stringify(value)})`);
    await sleep(100);
  }
}
