// The gateway over HTTP, like any client: bearer token, JSON in and out, errors mapped to exit codes.
import { ApiError, ConnectionError } from './errors';
import type { ExitCode } from './exit-codes';
import { EXIT } from './exit-codes';

interface ErrorBody {
  error?: { code?: string; message?: string; field?: string };
}

/** Which exit code an HTTP error status (and the gateway's error code) means. */
export function exitCodeFor(status: number, code: string): ExitCode {
  if (status === 400 || status === 413) return EXIT.usage;
  if (status === 401) return EXIT.auth;
  if (status === 403) return code === 'refused' ? EXIT.denied : EXIT.auth;
  if (status === 404) return EXIT.notFound;
  if (status === 409) return EXIT.denied;
  if (status === 429 || status === 503) return EXIT.unavailable;
  return EXIT.error;
}

export type Query = Record<string, string | number | undefined>;

export class GatewayClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
    private readonly fetchImpl: typeof fetch = fetch,
    private readonly signal?: AbortSignal,
  ) {}

  url(path: string, query: Query = {}): string {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.href;
  }

  /** Sends a request; a non-2xx answer throws ApiError, an unreachable gateway ConnectionError. */
  async send(
    method: string,
    path: string,
    opts: { query?: Query; body?: unknown; headers?: Record<string, string>; accept?: string } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.token}`,
      accept: opts.accept ?? 'application/json',
      ...opts.headers,
    };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await this.fetchImpl(this.url(path, opts.query), {
        method,
        headers,
        ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
        ...(this.signal ? { signal: this.signal } : {}),
      });
    } catch (err) {
      if (this.signal?.aborted) throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new ConnectionError(`cannot reach the gateway at ${this.baseUrl}: ${why}`, { cause: err });
    }
    if (res.ok) return res;
    const text = await res.text().catch(() => '');
    let body: ErrorBody = {};
    try {
      body = JSON.parse(text) as ErrorBody;
    } catch {
      // Not the gateway's JSON error (a proxy?): the status says enough.
    }
    const code = body.error?.code ?? 'error';
    let message = body.error?.message ?? `${res.status} ${res.statusText}`.trim();
    const retryAfter = res.headers.get('retry-after');
    if (retryAfter) message += ` (retry after ${retryAfter} s)`;
    throw new ApiError(message, res.status, code, body.error?.field, exitCodeFor(res.status, code));
  }

  async json<T>(method: string, path: string, opts: Parameters<GatewayClient['send']>[2] = {}): Promise<T> {
    const res = await this.send(method, path, opts);
    const text = await res.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(
        `the gateway answered ${path} with something that is not JSON`,
        res.status,
        'bad_answer',
        undefined,
        EXIT.error,
      );
    }
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.json<T>('GET', path, query ? { query } : {});
  }

  post<T>(path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
    return this.json<T>('POST', path, { body: body ?? {}, ...(headers ? { headers } : {}) });
  }

  delete<T>(path: string): Promise<T> {
    return this.json<T>('DELETE', path);
  }
}
