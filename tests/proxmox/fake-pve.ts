// A tiny HTTPS server on 127.0.0.1 answering like pveproxy: `{data: ...}` envelopes with
// `Content-Type: application/json;charset=UTF-8`, errors as status text + `{data: null, message}`.
// Routes are canned answers or handlers; every request is recorded.

import type { ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

export const PVE_JSON = 'application/json;charset=UTF-8';

export interface FakeRequest {
  method: string;
  /** below /api2/json, URI-decoded */
  path: string;
  query: URLSearchParams;
  /** form body of POST/PUT */
  form: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  /** The client's port: which connection the request came on. */
  remotePort: number | undefined;
}

export interface FakeReply {
  status?: number;
  statusText?: string;
  /** The `data` of the envelope (default null). */
  data?: unknown;
  /** Extra envelope fields (message, errors, total). */
  extra?: Record<string, unknown>;
  /** Send exactly this body instead of an envelope. */
  raw?: string;
  /** null: no Content-Type header (pveproxy's bare 401/595/596). */
  contentType?: string | null;
  /** Never answer (until the server closes). */
  hang?: boolean;
  /** Drop the connection without answering. */
  drop?: boolean;
  /** Gzip the body when the request accepts it, as pveproxy does for large answers. */
  gzip?: boolean;
}

export type Handler = (req: FakeRequest) => FakeReply | Promise<FakeReply>;

export interface FakePve {
  port: number;
  requests: FakeRequest[];
  /**
   * Sets (or replaces) a route: 'GET /cluster/resources', 'GET /nodes/{node}/tasks/{upid}/status'.
   * When several match a request, the one set last answers.
   */
  route(key: string, reply: Handler | FakeReply): void;
  /** Requests whose `${method} ${path}` matches. */
  calls(method: string, path: string): FakeRequest[];
  close(): Promise<void>;
}

/** An error answer as pveproxy sends it. */
export function pveError(status: number, message: string, errors?: Record<string, string>): FakeReply {
  return {
    status,
    statusText: message,
    data: null,
    extra: { message: `${message}\n`, ...(errors ? { errors } : {}) },
  };
}

/** A bare answer without body or Content-Type (pveproxy's 595/596 when a node can't be reached). */
export function bare(status: number, statusText: string): FakeReply {
  return { status, statusText, raw: '', contentType: null };
}

function matches(pattern: string[], segments: string[]): boolean {
  return pattern.length === segments.length && pattern.every((p, i) => p.startsWith('{') || p === segments[i]);
}

export async function startFakePve(
  tls: { cert: string; key: string },
  routes: Record<string, Handler | FakeReply> = {},
): Promise<FakePve> {
  const table = new Map<string, { method: string; pattern: string[]; reply: Handler | FakeReply }>();
  const route = (key: string, reply: Handler | FakeReply) => {
    const [method, path] = key.split(' ') as [string, string];
    table.delete(key); // the route set last wins over older ones that also match
    table.set(key, { method, pattern: path.split('/').filter(Boolean), reply });
  };
  for (const [k, v] of Object.entries(routes)) route(k, v);
  const requests: FakeRequest[] = [];
  const hanging = new Set<ServerResponse>();

  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'https://127.0.0.1');
        const path = decodeURIComponent(url.pathname.replace(/^\/api2\/json/, ''));
        const fr: FakeRequest = {
          method: req.method ?? 'GET',
          path,
          query: url.searchParams,
          form: new URLSearchParams(Buffer.concat(chunks).toString('utf8')),
          headers: req.headers,
          remotePort: req.socket.remotePort,
        };
        requests.push(fr);
        const segments = path.split('/').filter(Boolean);
        const hit = [...table.values()].reverse().find((r) => r.method === fr.method && matches(r.pattern, segments));
        let reply: FakeReply;
        try {
          reply = !hit
            ? pveError(501, `Method '${fr.method} ${path}' not implemented`)
            : typeof hit.reply === 'function'
              ? await hit.reply(fr)
              : hit.reply;
        } catch (err) {
          reply = pveError(500, err instanceof Error ? err.message : String(err));
        }
        if (reply.drop) {
          res.socket?.destroy();
          return;
        }
        if (reply.hang) {
          hanging.add(res);
          return;
        }
        const status = reply.status ?? 200;
        const text = reply.raw ?? JSON.stringify({ data: reply.data ?? null, ...reply.extra });
        const gzip = reply.gzip === true && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
        const body = gzip ? gzipSync(text) : Buffer.from(text);
        const headers: Record<string, string> = { 'Content-Length': String(body.length) };
        if (gzip) headers['Content-Encoding'] = 'gzip';
        const ct = reply.contentType === undefined ? PVE_JSON : reply.contentType;
        if (ct !== null) headers['Content-Type'] = ct;
        res.writeHead(status, reply.statusText ?? (status === 200 ? 'OK' : 'Error'), headers);
        res.end(body);
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    requests,
    route,
    calls: (method, path) => requests.filter((r) => r.method === method && r.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
