// The two-process Overseer for the end-to-end tests: a real nats-server (free port, JetStream, temp store), then
// `serve --role core` and `serve --role gateway` as two child processes (tests/e2e/serve-child.ts) that meet over
// it. The core runs the embedded PVE simulator (demo cluster 'lab'). Everything binds 127.0.0.1.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '../../adapters/nats';
import type { Child } from '../helpers/child';
import { runTs } from '../helpers/child';
import type { TestNatsServer } from '../helpers/nats-server';
import { startNatsServer } from '../helpers/nats-server';

const SERVE_CHILD = join(import.meta.dirname, 'serve-child.ts');
/** The namespace the two processes share on the test's nats-server. */
export const E2E_NAMESPACE = 'e2e';
/** VMs of the demo seed (16 VMs and template 9000). */
export const DEMO_VMS = 17;

export interface ApiAnswer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface ApiOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface TwoProcessStack {
  nats: TestNatsServer;
  dataDir: string;
  /** The gateway, e.g. http://127.0.0.1:40123 */
  url: string;
  core: Child;
  gateway: Child;
  adminToken: string;
  /** One HTTP call to the gateway (admin token unless told otherwise); the body parsed as JSON. */
  api<T = unknown>(method: string, path: string, opts?: ApiOptions): Promise<ApiAnswer<T>>;
  /** Stops both children (SIGTERM, SIGKILL after 5 s), the nats-server, and removes the data dir. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, then SIGKILL if the child is still there after `graceMs`. Never throws. */
export async function stopChild(child: Child | undefined, graceMs = 5_000): Promise<void> {
  if (!child || child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGTERM');
  const exited = await Promise.race([child.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!exited) {
    child.proc.kill('SIGKILL');
    await child.exited;
  }
}

export async function startTwoProcessStack(): Promise<TwoProcessStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'overseer-e2e-'));
  let nats: TestNatsServer | undefined;
  let core: Child | undefined;
  let gateway: Child | undefined;
  const stop = async () => {
    await Promise.all([stopChild(gateway), stopChild(core)]);
    await nats?.stop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    nats = await startNatsServer();
    const port = await findFreePort();
    const env = {
      OVERSEER_DATA_DIR: dataDir,
      NATS_URL: nats.url,
      OVERSEER_PORT: String(port),
      OVERSEER_SIM_PORT: '',
      OVERSEER_INSPECT: '',
      OVERSEER_CONFIG: '',
      // The server is shared (NATS_URL): both processes use one namespace, as deploy/ sets it.
      OVERSEER_NAMESPACE: E2E_NAMESPACE,
    };
    // The core first: it creates the admin token the gateway's callers need.
    core = runTs(SERVE_CHILD, ['core'], env);
    await core.line('READY', 30_000);
    gateway = runTs(SERVE_CHILD, ['gateway'], env);
    await gateway.line('READY', 30_000);
    const url = `http://127.0.0.1:${port}`;
    const adminToken = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();

    const api = async <T>(method: string, path: string, opts: ApiOptions = {}): Promise<ApiAnswer<T>> => {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${opts.token ?? adminToken}`,
          ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...opts.headers,
        },
        ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as T };
    };

    // Ready when the first sync has put the demo fleet in the core's view.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const vms = await api<{ items?: unknown[] }>('GET', '/v1/vms').catch(() => undefined);
      if (vms?.status === 200 && (vms.body.items?.length ?? 0) >= DEMO_VMS) break;
      if (Date.now() > deadline) {
        throw new Error(`the demo fleet never appeared (last answer ${JSON.stringify(vms?.body)})`);
      }
      await sleep(100);
    }
    return {
      nats,
      dataDir,
      url,
      core,
      gateway,
      adminToken,
      api,
      stop,
    };
  } catch (error) {
    const detail = `core stderr:\n${core?.stderr() ?? ''}\ngateway stderr:\n${gateway?.stderr() ?? ''}`;
    await stop();
    throw new Error(`${(error as Error).message}\n${detail}`, { cause: error });
  }
}

export interface RequestView {
  id: string;
  action: string;
  status: string;
  decision?: string;
  reasons: string[];
  history: { status: string }[];
}

export const TERMINAL = new Set(['denied', 'completed', 'failed', 'cancelled', 'expired', 'nothing_to_do']);

/** Polls GET /v1/requests/:id until `done(status)` or the deadline; returns the last view. */
export async function waitForRequest(
  stack: Pick<TwoProcessStack, 'api'>,
  id: string,
  done: (status: string) => boolean = (s) => TERMINAL.has(s),
  timeoutMs = 20_000,
): Promise<RequestView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await stack.api<RequestView>('GET', `/v1/requests/${id}`);
    if (answer.status === 200 && done(answer.body.status)) return answer.body;
    if (Date.now() > deadline) {
      throw new Error(`request ${id} still ${JSON.stringify(answer.body)} after ${timeoutMs} ms`);
    }
    await sleep(100);
  }
}
