// The fetch handed to proxmox-api's engine for ONE call. It sends through this cluster's dispatcher,
// under the call's clock-driven signal, and remembers what happened on the wire (status, status text,
// body of an error answer, network failure) so the call can be reported as a typed error instead of
// the engine's generic one. A call that reads a large list (/cluster/resources) hands the engine an answer whose
// json() reads the body's `data` list in slices into the call's sink as the body arrives (data-list.ts).
// It sends with undici's `request`, not its WHATWG `fetch`: the engine reads only a few members of the answer
// (EngineAnswer), and fetch's Request, Headers and web streams cost 150–250 µs more client CPU per call
// (bench/README.md, session 9).
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Dispatcher } from 'undici';
import { type ListSink, readDataList } from './data-list';

export interface ErrorAnswer {
  status: number;
  statusText: string;
  body: string;
}

/** What one call saw; shared by every request the engine makes for it (a re-login, its one retry). */
export interface CallState {
  /** Aborted when the call's time is up or its caller gives up. */
  readonly signal: AbortSignal;
  timedOut: boolean;
  /** Method and path (below /api2/json) of the last request sent. */
  method?: string | undefined;
  path?: string | undefined;
  /** The last answer that was not 200. Cleared by a later 200. */
  errorAnswer?: ErrorAnswer | undefined;
  /** The last transport failure (connection refused, TLS, reset, abort). */
  networkError?: unknown;
  /**
   * Read the `data` list of a 200 JSON answer in slices into a new sink from this (one per answer: the engine may
   * send again). The engine then gets the sink as the answer's data, or the data itself when it is not a list.
   */
  readList?: (() => ListSink) | undefined;
  /** Asked right before a request that may change the cluster is sent (ClientDeps.fence); a throw stops it. */
  beforeWrite?: (() => void) | undefined;
  /** What `beforeWrite` threw: the request was never sent. */
  refusedWrite?: unknown;
  /** Sent as User-Agent on every request of the call (ClientDeps.userAgent). */
  userAgent?: string | undefined;
}

/** What proxmox-api's engine reads of a fetch Response (ProxmoxEngine.doRequest and getTicket). */
export interface EngineAnswer {
  readonly status: number;
  readonly statusText: string;
  readonly headers: { get(name: string): string | null };
  /** The engine hands it on only for `application/octet-stream`, which no call of this adapter asks for. */
  readonly body: null;
  json(): Promise<unknown>;
  text(): Promise<string>;
}

/** The fetch signature proxmox-api's engine calls. */
export type EngineFetch = (url: string | URL, init?: Record<string, unknown>) => Promise<EngineAnswer>;

/** The content type PVE answers with, the only one the engine parses. */
const JSON_TYPE = 'application/json;charset=UTF-8';

const API_PREFIX = '/api2/json';
/** Logging in (POST /access/ticket) changes nothing on the cluster: never fenced. */
const LOGIN_PATH = '/access/';

export function createCallFetch(dispatcher: Dispatcher, state: CallState): EngineFetch {
  return async (url, init = {}) => {
    const target = new URL(String(url));
    const method = String(init.method ?? 'GET').toUpperCase();
    state.method = method;
    state.path = target.pathname.startsWith(API_PREFIX) ? target.pathname.slice(API_PREFIX.length) : target.pathname;
    if (state.signal.aborted) throw state.signal.reason;
    // The engine retries a failed fetch once. A write that may have reached the server is never sent twice.
    if (state.networkError !== undefined && method !== 'GET') throw state.networkError;
    if (method !== 'GET' && !state.path.startsWith(LOGIN_PATH)) {
      try {
        state.beforeWrite?.();
      } catch (refusal) {
        state.refusedWrite = refusal;
        throw refusal;
      }
    }
    let res: Dispatcher.ResponseData;
    try {
      // The engine's own AbortSignal runs on a wall-clock timer; this call's signal (the injected clock) rules.
      // pveproxy gzips a large answer when asked for it; such a body is gunzipped as it arrives (bodyOf).
      const headers: Record<string, string> = {
        ...(init.headers as Record<string, string> | undefined),
        'Accept-Encoding': 'gzip',
      };
      if (state.userAgent !== undefined) headers['User-Agent'] = state.userAgent;
      res = await dispatcher.request({
        origin: target.origin,
        path: `${target.pathname}${target.search}`,
        method: method as Dispatcher.HttpMethod,
        headers,
        body: typeof init.body === 'string' ? init.body : null,
        signal: state.signal,
      });
    } catch (err) {
      state.networkError = state.signal.aborted ? state.signal.reason : err;
      throw state.networkError;
    }
    state.networkError = undefined;
    if (res.statusCode === 200 && state.readList && headerOf(res.headers, 'content-type') === JSON_TYPE) {
      state.errorAnswer = undefined;
      return new ListAnswer(res, bodyOf(res), state.readList);
    }
    // Read whole here: an answer the engine does not read (an unexpected content type) must not hold the connection.
    let body = '';
    let unreadable: { error: unknown } | undefined;
    try {
      body = await textOf(bodyOf(res));
    } catch (error) {
      // A broken error body still leaves the status and its text; a broken 200 fails the engine's json(), as it did
      // with fetch.
      unreadable = { error };
    }
    if (res.statusCode === 200) state.errorAnswer = undefined;
    else state.errorAnswer = { status: res.statusCode, statusText: res.statusText, body };
    return new TextAnswer(res, body, res.statusCode === 200 ? unreadable : undefined);
  };
}

const gzipped = (res: Dispatcher.ResponseData) =>
  headerOf(res.headers, 'content-encoding')?.trim().toLowerCase() === 'gzip';

/** The answer's body, gunzipped as it arrives when it came gzipped. */
function bodyOf(res: Dispatcher.ResponseData): AsyncIterable<Uint8Array> {
  if (!gzipped(res)) return res.body;
  const gunzip = createGunzip();
  // pipeline() destroys both streams on a failure (a broken gzip stream): the reader sees the error.
  pipeline(res.body, gunzip, () => {});
  return gunzip;
}

/** A body's text, without a leading byte-order mark (as fetch's and undici's text() read it). */
async function textOf(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function headerOf(headers: Dispatcher.ResponseData['headers'], name: string): string | null {
  const value = headers[name];
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}

/** An answer's headers as the engine asks for them (undici gives them as an object, names in lower case). */
class AnswerHeaders {
  constructor(private readonly raw: Dispatcher.ResponseData['headers']) {}

  get(name: string): string | null {
    return headerOf(this.raw, name.toLowerCase());
  }
}

/** The members of an answer the engine reads, from undici's response data. */
abstract class Answer implements EngineAnswer {
  readonly status: number;
  readonly statusText: string;
  readonly headers: AnswerHeaders;
  readonly body = null;

  constructor(res: Dispatcher.ResponseData) {
    this.status = res.statusCode;
    this.statusText = res.statusText;
    this.headers = new AnswerHeaders(res.headers);
  }

  abstract json(): Promise<unknown>;
  abstract text(): Promise<string>;
}

/** An answer read whole (or whose reading failed: `unreadable`). */
class TextAnswer extends Answer {
  constructor(
    res: Dispatcher.ResponseData,
    private readonly content: string,
    private readonly unreadable: { error: unknown } | undefined,
  ) {
    super(res);
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async text(): Promise<string> {
    if (this.unreadable) throw this.unreadable.error;
    return this.content;
  }
}

/** A 200 JSON answer whose json() reads the `data` list in slices into a new sink (see CallState.readList). */
class ListAnswer extends Answer {
  constructor(
    res: Dispatcher.ResponseData,
    private readonly content: AsyncIterable<Uint8Array>,
    private readonly sink: () => ListSink,
  ) {
    super(res);
  }

  /** `{data}` as the engine expects it: the sink holding the list's entries, or `data` itself when not a list. */
  async json(): Promise<{ data: unknown }> {
    const sink = this.sink();
    const read = await readDataList(this.content, sink);
    return { data: read.list ? sink : read.data };
  }

  text(): Promise<string> {
    return textOf(this.content);
  }
}
