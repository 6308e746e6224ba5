// Turning what went wrong in one call into the platform's typed errors.
import {
  MalformedAnswerError,
  PlatformError,
  PlatformTimeoutError,
  PlatformTlsError,
  PlatformUnavailableError,
  PveApiError,
} from '../platform/errors';
import type { CallState, ErrorAnswer } from './transport';

export interface FailureContext {
  cluster: string;
  /** host:port, for messages */
  endpoint: string;
  /** What the call was, e.g. 'GET /cluster/resources' (used when nothing was sent). */
  label: string;
  timeoutMs: number;
  /** The caller's own signal: its abort reason is rethrown as is. */
  external?: AbortSignal | undefined;
}

/** What a PVE error answer's body says: its `message` and its per-parameter `errors` (HTTP 400). */
export interface ErrorBody {
  message?: string | undefined;
  errors?: Record<string, string> | undefined;
  /** A body that is not JSON: its first line. */
  raw?: string | undefined;
}

/** Reads an error answer's body (`{data: null, message, errors}`; anything else kept as its first line). */
export function readErrorBody(answer: ErrorAnswer): ErrorBody {
  let parsed: unknown;
  try {
    parsed = answer.body ? JSON.parse(answer.body) : undefined;
  } catch {
    const raw = answer.body.trim().split('\n')[0]?.slice(0, 300);
    return raw ? { raw } : {};
  }
  if (!parsed || typeof parsed !== 'object') return {};
  const { message, errors } = parsed as { message?: unknown; errors?: unknown };
  const body: ErrorBody = {};
  if (typeof message === 'string' && message.trim()) body.message = message.trim();
  if (errors && typeof errors === 'object' && !Array.isArray(errors)) {
    const entries = Object.entries(errors as Record<string, unknown>).map(([k, v]) => [k, String(v).trim()] as const);
    if (entries.length > 0) body.errors = Object.fromEntries(entries);
  } else if (typeof errors === 'string' && errors.trim()) {
    body.raw = errors.trim();
  }
  return body;
}

/** The message of a PVE error answer: status text, then the body's `message` and per-parameter `errors`. */
export function pveErrorMessage(answer: ErrorAnswer, body: ErrorBody = readErrorBody(answer)): string {
  const parts: string[] = [];
  const text = answer.statusText.trim();
  if (text) parts.push(text);
  if (body.raw && body.raw !== text) parts.push(body.raw);
  if (body.message && body.message !== text) parts.push(body.message);
  if (body.errors) {
    parts.push(
      `(${Object.entries(body.errors)
        .map(([k, v]) => `${k}: ${v}`)
        .join('; ')})`,
    );
  }
  return parts.length > 0 ? parts.join(' ') : `HTTP ${answer.status}`;
}

const TLS_CODE = /CERT|SELF_SIGNED|ERR_TLS|ERR_SSL|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;

function* causes(err: unknown): Generator<unknown> {
  const seen = new Set<unknown>();
  let e: unknown = err;
  while (e !== undefined && e !== null && !seen.has(e)) {
    seen.add(e);
    yield e;
    e = (e as { cause?: unknown }).cause;
  }
}

function tlsProblem(err: unknown): { error?: PlatformTlsError; detail?: string } | undefined {
  for (const e of causes(err)) {
    if (e instanceof PlatformTlsError) return { error: e };
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TLS_CODE.test(code)) {
      return { detail: `${code}${e instanceof Error && e.message !== code ? `: ${e.message}` : ''}` };
    }
  }
  return undefined;
}

function networkDetail(err: unknown): string {
  for (const e of causes(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return e instanceof Error ? `${code}: ${e.message}` : code;
  }
  return err instanceof Error ? err.message : String(err);
}

/** Maps a failed call to PlatformTimeoutError, PveApiError, PlatformTlsError, PlatformUnavailableError or MalformedAnswerError. */
export function toPlatformError(err: unknown, state: CallState, ctx: FailureContext): unknown {
  if (ctx.external?.aborted) return ctx.external.reason;
  if (err instanceof PlatformError) return err;
  const { cluster } = ctx;
  const what = state.method && state.path ? `${state.method} ${state.path}` : ctx.label;
  if (state.timedOut) {
    return new PlatformTimeoutError(`${cluster}: ${what} got no answer within ${ctx.timeoutMs} ms`, cluster, {
      cause: err,
    });
  }
  if (state.errorAnswer) {
    const answer = state.errorAnswer;
    const body = readErrorBody(answer);
    // pveproxy puts the die text in the status line; the body's `message` has it whole (several lines).
    const pveMessage = body.message ?? (answer.statusText.trim() || undefined);
    return new PveApiError(
      `${cluster}: ${what} failed: ${answer.status} ${pveErrorMessage(answer, body)}`,
      cluster,
      answer.status,
      state.path ?? ctx.label,
      { cause: err, errors: body.errors, pveMessage },
    );
  }
  if (state.networkError !== undefined) {
    const tls = tlsProblem(state.networkError);
    if (tls?.error) return new PlatformTlsError(tls.error.message, cluster, { cause: state.networkError });
    if (tls) {
      return new PlatformTlsError(
        `${cluster}: TLS verification of ${ctx.endpoint} failed (${tls.detail}); check tls.ca / tls.fingerprint`,
        cluster,
        { cause: state.networkError },
      );
    }
    return new PlatformUnavailableError(
      `${cluster}: cannot reach ${ctx.endpoint} (${networkDetail(state.networkError)})`,
      cluster,
      { cause: state.networkError },
    );
  }
  // A 200 the engine could not use (wrong content type, unreadable body).
  return new MalformedAnswerError(
    `${cluster}: ${what} answered something unusable: ${err instanceof Error ? err.message : String(err)}`,
    cluster,
    state.path ?? ctx.label,
    { cause: err },
  );
}
