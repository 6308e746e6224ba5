// The HTTP client of the dashboard: same-origin fetch with the session cookie, the CSRF token on every mutation,
// JSON answers typed by the caller, and failures as ApiError (status, code, the server's sentence). A 401 tells
// the app that the session is gone (it shows the sign-in page).
import type { ErrorBody } from './types';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A /v1 call that failed: the HTTP status (0 when the server could not be reached), the error code, the sentence. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

let csrfToken: string | undefined;
let onUnauthorized: (() => void) | undefined;

/** The session's CSRF token (sent as X-CSRF-Token on mutations); undefined after sign-out. */
export function setCsrf(token: string | undefined): void {
  csrfToken = token;
}

/** Called when a call answers 401 (the session expired or was revoked). */
export function onSessionLost(handler: (() => void) | undefined): void {
  onUnauthorized = handler;
}

export type Query = Record<string, string | number | boolean | undefined>;

/** `/v1/vms?cluster=lab&limit=10`: undefined and empty values left out. */
export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}

/** One path segment, encoded (`vm:lab/101` → `vm%3Alab%2F101`). */
export const seg = (value: string | number): string => encodeURIComponent(String(value));

async function errorOf(response: Response): Promise<ApiError> {
  let body: ErrorBody | undefined;
  try {
    body = (await response.json()) as ErrorBody;
  } catch {
    body = undefined;
  }
  const code = body?.error?.code ?? `http_${response.status}`;
  const message = body?.error?.message ?? `${response.status} ${response.statusText}`.trim();
  return new ApiError(response.status, code, message, body?.error?.field);
}

export interface CallOptions {
  /** Aborts the call (a view that went away). */
  signal?: AbortSignal | undefined;
  /** A 401 is the answer itself (the sign-in page), not a lost session. */
  quietUnauthorized?: boolean;
}

/** One call; resolves with the JSON answer (undefined for 204). */
export async function call<T>(method: string, path: string, body?: unknown, options: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (MUTATING.has(method) && csrfToken !== undefined) headers['X-CSRF-Token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      body: body === undefined ? null : JSON.stringify(body),
      signal: options.signal ?? null,
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'unreachable', `Overseer could not be reached (${(error as Error).message})`);
  }
  if (!response.ok) {
    const error = await errorOf(response);
    if (response.status === 401 && !options.quietUnauthorized) onUnauthorized?.();
    throw error;
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export const get = <T>(path: string, query?: Query, options?: CallOptions): Promise<T> =>
  call<T>('GET', withQuery(path, query), undefined, options);

export const post = <T>(path: string, body: unknown = {}, options?: CallOptions): Promise<T> =>
  call<T>('POST', path, body, options);

export const del = <T>(path: string, options?: CallOptions): Promise<T> => call<T>('DELETE', path, undefined, options);

/** The sentence to show for a failed call. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.status === 0 ? error.message : `${error.message} (${error.status})`;
  return error instanceof Error ? error.message : String(error);
}
