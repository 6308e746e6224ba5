// The HTTP(S) face: pveproxy's request handling order, envelopes, status texts and headers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ControlDeps, handleControl } from './control-api';
import { PveHttpError } from './errors';
import { verifyParams } from './params';
import { type RequestScope, requestScope } from './request-scope';
import { matchRoute, type RouteContext } from './routes';

export const JSON_CONTENT_TYPE = 'application/json;charset=UTF-8';
const API_BASE = '/api2/json';
/** pveproxy's limit for a request body. */
const MAX_BODY = 64 * 1024;
const KNOWN_METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE']);

export interface HandlerDeps extends RouteContext, ControlDeps {}

/** Status text as pveproxy writes it: the message's first line, printable characters only. */
function statusText(message: string): string {
  const line = message.split('\n')[0] ?? '';
  let out = '';
  for (const ch of line.slice(0, 512)) {
    const c = ch.charCodeAt(0);
    out += (c >= 0x20 && c < 0x7f) || (c >= 0xa0 && c <= 0xff) ? ch : '?';
  }
  return out || 'Error';
}

function baseHeaders(deps: HandlerDeps): Record<string, string> {
  const date = new Date(deps.clock.now()).toUTCString();
  return { Date: date, Expires: date, 'Cache-Control': 'max-age=0', Pragma: 'no-cache', Server: 'pve-api-daemon/3.0' };
}

function sendJson(deps: HandlerDeps, res: ServerResponse, status: number, text: string, body: unknown): void {
  const raw = JSON.stringify(body);
  res.writeHead(status, statusText(text), {
    ...baseHeaders(deps),
    'Content-Type': JSON_CONTENT_TYPE,
    'Content-Length': String(Buffer.byteLength(raw)),
  });
  res.end(raw);
}

function sendError(deps: HandlerDeps, res: ServerResponse, err: PveHttpError): void {
  if (err.bare) {
    res.writeHead(err.status, statusText(err.message), { ...baseHeaders(deps), 'Content-Length': '0' });
    res.end();
    return;
  }
  const body: Record<string, unknown> = { data: null, message: `${err.message}\n` };
  if (err.errors) body.errors = err.errors;
  sendJson(deps, res, err.status, err.message, body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY) throw new PveHttpError(501, 'for data too large');
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** PVE values are strings; JSON bodies are flattened the same way (true → 1). */
function flatten(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (Array.isArray(value)) return value.map((v) => flatten(v) ?? '').join('\0');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function bodyParams(req: IncomingMessage, raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (ct === 'application/json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (cause) {
      throw new PveHttpError(400, 'malformed JSON string', undefined, false, { cause });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new PveHttpError(400, 'JSON body must be an object');
    }
    for (const [k, v] of Object.entries(parsed)) {
      const s = flatten(v);
      if (s !== undefined) out[k] = s;
    }
    return out;
  }
  // A parameter given several times is an array to PVE: kept NUL-joined, as JSON arrays are.
  for (const [k, v] of new URLSearchParams(raw)) out[k] = k in out ? `${out[k]}\0${v}` : v;
  return out;
}

function decodeSegments(path: string): string[] | undefined {
  try {
    return path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

async function handleApi(deps: HandlerDeps, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  if (!KNOWN_METHODS.has(method)) throw new PveHttpError(501, `method '${method}' not available`);
  const rel = url.pathname.slice(API_BASE.length) || '/';

  const injected = deps.faults.takeHttpError(method, rel);
  if (injected) throw new PveHttpError(injected.status, injected.message);

  const segments = decodeSegments(rel);
  const match = segments ? matchRoute(method, segments) : undefined;
  const header = (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v.join('; ') : v;
  };
  const who = match?.route.open
    ? { authid: 'anonymous', userid: 'anonymous', role: 'audit' as const, root: false }
    : deps.auth.authenticate({
        method,
        authorization: header('authorization'),
        cookie: header('cookie'),
        csrf: header('csrfpreventiontoken'),
      });
  if (!match) throw new PveHttpError(501, `Method '${method} ${rel}' not implemented`);
  const { route, captures } = match;

  const rawBody = await readBody(req);
  if (rawBody && method !== 'POST' && method !== 'PUT') {
    throw new PveHttpError(501, `Unexpected content for method '${method}'`);
  }
  const raw: Record<string, string> = bodyParams(req, rawBody);
  for (const [k, v] of url.searchParams) raw[k] = v;
  delete raw._dc;
  for (const [k, v] of Object.entries(captures)) {
    if (k in raw)
      throw new PveHttpError(400, 'Parameter verification failed.', {
        [k]: 'duplicate parameter (already defined in URI)',
      });
    raw[k] = v;
  }

  if (route.perm && who.role !== 'admin') {
    const { acl, priv } = route.perm(raw);
    throw new PveHttpError(403, `Permission check failed (${acl}, ${priv})`);
  }

  let node = deps.state.nodes.get(deps.state.localNode)!;
  if (route.proxied) {
    const name = captures.node ?? '';
    const target = deps.state.nodes.get(name);
    if (!target) {
      throw new PveHttpError(
        500,
        `hostname lookup '${name}' failed - failed to get address info for: ${name}: Name or service not known`,
      );
    }
    // pveproxy cannot reach the node: AnyEvent::HTTP's 596, no body.
    if (!target.online) throw new PveHttpError(596, 'Connection timed out', undefined, true);
    node = target;
  }

  const params = verifyParams(raw, route.schema);
  const reply = await route.handle({ ctx: deps, who, params, node });
  const body: Record<string, unknown> = { data: reply.data };
  if (reply.total !== undefined) body.total = reply.total;
  sendJson(deps, res, 200, 'OK', body);
}

async function handleSim(deps: HandlerDeps, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const raw = await readBody(req);
  let body: Record<string, unknown> = {};
  if (raw) {
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      sendJson(deps, res, 400, 'Bad Request', { error: 'body must be JSON' });
      return;
    }
  }
  const reply = handleControl(deps, (req.method ?? 'GET').toUpperCase(), url.pathname, body);
  sendJson(deps, res, reply.status, reply.status === 200 ? 'OK' : 'Error', reply.body);
}

/** The request listener for node:http / node:https. */
export function createRequestHandler(deps: HandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    res.sendDate = false;
    const agent = req.headers['user-agent'];
    const scope: RequestScope = { open: true, ...(agent ? { agent } : {}) };
    res.once('close', () => {
      scope.open = false;
    });
    void requestScope.run(scope, async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      try {
        if (url.pathname === '/_sim' || url.pathname.startsWith('/_sim/')) {
          await handleSim(deps, req, res, url);
          return;
        }
        if (deps.faults.latencyMs > 0) await deps.clock.sleep(deps.faults.latencyMs);
        if (url.pathname !== API_BASE && !url.pathname.startsWith(`${API_BASE}/`)) {
          throw new PveHttpError(501, 'no such uri');
        }
        await handleApi(deps, req, res, url);
      } catch (err) {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        const e =
          err instanceof PveHttpError
            ? err
            : new PveHttpError(500, err instanceof Error ? err.message : String(err), undefined, false, {
                cause: err,
              });
        sendError(deps, res, e);
      }
    });
  };
}
