// Test helpers: a simulator over HTTPS with a generated CA, and a fetch pinned to that CA.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import { SimulatedClock } from '../../adapters/clock';
import {
  generateTestCertificates,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
  type TestCertificates,
} from '../../adapters/pve-sim';

export const TOKEN = { tokenid: 'root@pam!overseer', secret: '4f9a2c1e-7b3d-4e8f-9a6b-2c5d8e1f0a3b' };
export const AUDIT_TOKEN = {
  tokenid: 'viewer@pve!ro',
  secret: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
  role: 'audit' as const,
};
export const USER = { userid: 'root@pam', password: 'correct horse battery staple' };
export const TOKEN_HEADER = `PVEAPIToken=${TOKEN.tokenid}=${TOKEN.secret}`;
export const START = Date.UTC(2025, 0, 6, 9, 0, 0);

let certs: TestCertificates | undefined;

/** One CA and server certificate per test file. */
export function testCertificates(): TestCertificates {
  certs ??= generateTestCertificates(mkdtempSync(join(tmpdir(), 'pve-sim-certs-')));
  return certs;
}

export interface ApiAnswer<T = unknown> {
  status: number;
  statusText: string;
  contentType: string | null;
  text: string;
  /** Parsed JSON body (undefined when there is none). */
  body: { data: T; message?: string; errors?: Record<string, string>; total?: number } | undefined;
}

export interface ApiOptions {
  /** Authorization header; default the admin token; false for none. */
  auth?: string | false | undefined;
  headers?: Record<string, string> | undefined;
  form?: Record<string, string | number | boolean> | undefined;
  json?: Record<string, unknown> | undefined;
}

export interface TestSim {
  sim: Simulator;
  clock: SimulatedClock;
  agent: Agent;
  certs: TestCertificates;
  api<T = unknown>(method: string, path: string, opts?: ApiOptions): Promise<ApiAnswer<T>>;
  /** GET /api2/json<path>, expecting 200; returns data. */
  get<T = unknown>(path: string): Promise<T>;
  /** POST/DELETE expecting a UPID. */
  op(method: string, path: string, form?: Record<string, string | number | boolean>): Promise<string>;
  taskStatus(upid: string): Promise<{ status: string; exitstatus?: string; type: string; id: string }>;
  close(): Promise<void>;
}

export async function startTestSim(opts: Partial<SimulatorOptions> = {}): Promise<TestSim> {
  const c = testCertificates();
  const clock = new SimulatedClock(START);
  const sim = await startSimulator({
    clock,
    tls: { cert: c.cert, key: c.key },
    tokens: [TOKEN, AUDIT_TOKEN],
    users: [USER],
    ...opts,
  });
  const agent = new Agent({ connect: { ca: c.caCert } });

  async function api<T>(method: string, path: string, o: ApiOptions = {}): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = { ...o.headers };
    const auth = o.auth === undefined ? TOKEN_HEADER : o.auth;
    if (auth) headers.Authorization = auth;
    let body: string | undefined;
    if (o.form) {
      body = new URLSearchParams(
        Object.entries(o.form).map(([k, v]): [string, string] => [
          k,
          typeof v === 'boolean' ? (v ? '1' : '0') : String(v),
        ]),
      ).toString();
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    } else if (o.json) {
      body = JSON.stringify(o.json);
      headers['Content-Type'] = 'application/json';
    }
    const url = path.startsWith('/_sim') ? `${sim.url}${path}` : `${sim.url}/api2/json${path}`;
    const res = await fetch(url, { method, headers, body, dispatcher: agent });
    const text = await res.text();
    const contentType = res.headers.get('content-type');
    return {
      status: res.status,
      statusText: res.statusText,
      contentType,
      text,
      body: text ? (JSON.parse(text) as ApiAnswer<T>['body']) : undefined,
    };
  }

  async function get<T>(path: string): Promise<T> {
    const r = await api<T>('GET', path);
    if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.statusText}`);
    return r.body!.data;
  }

  async function op(method: string, path: string, form?: Record<string, string | number | boolean>) {
    const r = await api<string>(method, path, form ? { form } : {});
    if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${r.statusText}`);
    return r.body!.data;
  }

  return {
    sim,
    clock,
    agent,
    certs: c,
    api,
    get,
    op,
    taskStatus: (upid) => {
      const node = upid.split(':')[1];
      return get(`/nodes/${node}/tasks/${encodeURIComponent(upid)}/status`);
    },
    close: async () => {
      await sim.stop();
      await agent.close();
    },
  };
}

/** Waits (real time, briefly) until the simulator has set a timer on the clock: a request reached it. */
export async function untilClockTimer(clock: SimulatedClock, count = 1): Promise<void> {
  for (let i = 0; i < 400 && clock.pending < count; i++) await new Promise((r) => setTimeout(r, 5));
  if (clock.pending < count) throw new Error('no timer was set on the simulated clock');
}
