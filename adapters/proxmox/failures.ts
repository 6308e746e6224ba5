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

/** The message of a PVE error answer: status text, then the body's `message` and per-parameter `errors`. */
export function pveErrorMessage(answer: ErrorAnswer): string {
  const parts: string[] = [];
  const text = answer.statusText.trim();
  if (text) parts.push(text);
  let parsed: unknown;
  try {
    parsed = answer.body ? JSON.parse(answer.body) : undefined;
  } catch {
    const raw = answer.body.trim().split('\n')[0]?.slice(0, 300);
    if (raw && raw !== text) parts.push(raw);
  }
  if (parsed && typeof parsed === 'object') {
    const { message, errors } = parsed as { message?: unknown; errors?: unknown };
    if (typeof message === 'string') {
      const m = message.trim();
      if (m && m !== text) parts.push(m);
    }
    if (errors && typeof errors === 'object') {
      const list = Object.entries(errors as Record<string, unknown>).map(([k, v]) => `${k}: ${String(v).trim()}`);
      if (list.length > 0) parts.push(`(${list.join('; ')})`);
    } else if (typeof errors === 'string' && errors.trim()) {
      parts.push(errors.trim());
    }
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
    return new PveApiError(
      `${cluster}: ${what} failed: ${answer.status} ${pveErrorMessage(answer)}`,
      cluster,
      answer.status,
      state.path ?? ctx.label,
      {
        cause: err,
      },
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
