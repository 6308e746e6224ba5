// The fetch handed to proxmox-api's engine for ONE call. It sends through this cluster's dispatcher,
// under the call's clock-driven signal, and remembers what happened on the wire (status, status text,
// body of an error answer, network failure) so the call can be reported as a typed error instead of
// the engine's generic one. A call that reads a large list (/cluster/resources) hands the engine an answer whose
// json() reads the body's `data` list in slices into the call's sink as the body arrives (data-list.ts).
import { type Dispatcher, Response, fetch as undiciFetch } from 'undici';
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

/** The fetch signature proxmox-api's engine calls. */
export type EngineFetch = (url: string | URL, init?: Record<string, unknown>) => Promise<Response>;

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
    let res: Response;
    try {
      // The engine's own AbortSignal runs on a wall-clock timer; this call's signal (the injected clock) rules.
      const { signal: _engineSignal, ...rest } = init;
      if (state.userAgent !== undefined) {
        rest.headers = { ...(rest.headers as Record<string, string> | undefined), 'User-Agent': state.userAgent };
      }
      res = await undiciFetch(target, { ...rest, signal: state.signal, dispatcher } as Parameters<
        typeof undiciFetch
      >[1]);
    } catch (err) {
      state.networkError = state.signal.aborted ? state.signal.reason : err;
      throw state.networkError;
    }
    state.networkError = undefined;
    if (res.status === 200) {
      state.errorAnswer = undefined;
      return state.readList ? new ListAnswer(res, state.readList) : res;
    }
    let body = '';
    try {
      body = await res.text();
    } catch {
      // a broken error body still leaves the status and its text
    }
    state.errorAnswer = { status: res.status, statusText: res.statusText, body };
    // Hand the engine an equivalent answer (its body already read here).
    return new Response(body === '' ? null : body, {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
    });
  };
}

/** A 200 answer whose json() reads the `data` list in slices into a new sink (see CallState.readList). */
class ListAnswer extends Response {
  readonly #sink: () => ListSink;

  constructor(res: Response, sink: () => ListSink) {
    super(res.body, { status: res.status, statusText: res.statusText, headers: res.headers });
    this.#sink = sink;
  }

  /** `{data}` as the engine expects it: the sink holding the list's entries, or `data` itself when not a list. */
  override json = async (): Promise<{ data: unknown }> => {
    const sink = this.#sink();
    const read = await readDataList(this.body, sink);
    return { data: read.list ? sink : read.data };
  };
}
