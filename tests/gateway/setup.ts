// A gateway over the in-memory bus and the fake core, called through app.request().
import type { MemoryBus } from '../../adapters/nats/memory-bus';
import { createMemoryBus } from '../../adapters/nats/memory-bus';
import type { GatewayApp, GatewayDeps } from '../../gateway';
import { createGateway } from '../../gateway';
import { createCoreClient } from '../../protocol';
import type { FakeCore } from './fake-core';
import { startFakeCore } from './fake-core';

export interface CallOptions {
  token?: string;
  /** An object is sent as JSON; a string as is. */
  body?: unknown;
  headers?: Record<string, string>;
}

// biome-ignore lint/suspicious/noExplicitAny: tests inspect JSON answers loosely and assert their shape
export type Json = any;
/** A Response whose json() is loosely typed, for assertions. */
export type TestResponse = Omit<Response, 'json'> & { json(): Promise<Json> };

export interface TestGateway extends GatewayApp {
  bus: MemoryBus;
  core: FakeCore;
  logged: string[];
  call(method: string, path: string, opts?: CallOptions): Promise<TestResponse>;
}

export function setupGateway(
  overrides: Partial<GatewayDeps> = {},
  busOpts: { requestTimeoutMs?: number } = {},
): TestGateway {
  const bus = createMemoryBus(busOpts);
  const core = startFakeCore(bus);
  const logged: string[] = [];
  const gateway = createGateway({
    core: createCoreClient(bus),
    bus,
    rateLimit: false,
    log: { warn: (m) => logged.push(m), error: (m) => logged.push(m) },
    ...overrides,
  });
  const call = (method: string, path: string, opts: CallOptions = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (typeof opts.body === 'string') body = opts.body;
    else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    return Promise.resolve(
      gateway.app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) }),
    ) as Promise<TestResponse>;
  };
  return { ...gateway, bus, core, logged, call };
}

/** The JSON error body of an answer. */
export interface ErrorBody {
  code: string;
  message: string;
  field?: string;
  in?: string;
  issues?: { field: string; message: string }[];
}

export async function errorOf(res: TestResponse | Response): Promise<ErrorBody> {
  const body = (await res.json()) as { error: ErrorBody };
  return body.error;
}

/** A signed-in dashboard session: the Cookie header to send and the session's CSRF token. */
export interface TestSession {
  cookie: string;
  csrf: string;
  principal: Json;
}

/** Signs in with `token` (POST /v1/session); fails the test unless the gateway answers 200 with a cookie. */
export async function signIn(
  gw: Pick<TestGateway, 'call'>,
  token: string,
  headers: Record<string, string> = {},
): Promise<TestSession> {
  const res = await gw.call('POST', '/v1/session', { body: { token }, headers });
  if (res.status !== 200) throw new Error(`sign-in answered ${res.status}: ${await res.text()}`);
  const set = res.headers.get('set-cookie') ?? '';
  const cookie = /^(overseer_session=[^;]*)/.exec(set)?.[1];
  if (cookie === undefined) throw new Error(`sign-in set no session cookie (Set-Cookie: ${set})`);
  const { principal, csrf } = await res.json();
  return { cookie, csrf, principal };
}
