// One cluster's API client: every call goes through proxmox-api with this cluster's dispatcher, a timeout
// on the injected clock, typed errors, ticket renewal and lock-timeout retries.
import { type Proxmox, proxmoxApi } from 'proxmox-api';
import type { Agent } from 'undici';
import { raceAbort } from '../abort';
import type { Clock } from '../clock';
import type { Log } from '../log';
import { PlatformTimeoutError, PveApiError } from '../platform/errors';
import { type ResolvedConfig, urlHost } from './config';
import type { ListSink } from './data-list';
import { type FailureContext, toPlatformError } from './failures';
import { retryOnLock } from './lock-retry';
import { AuthSession } from './session';
import { createDispatcher } from './tls';
import { type CallState, createCallFetch, type EngineFetch } from './transport';

export interface ClientDeps {
  clock: Clock;
  log: Log;
  /**
   * Asked right before every request that may change the cluster (any method but GET, except logging in); a throw
   * stops the request from being sent and is rethrown as it is. Several cores: "this core's lease is valid now".
   */
  fence?: ((cluster: string) => void) | undefined;
  /** The User-Agent of every request (several cores: which core made a call, in the cluster's logs). */
  userAgent?: string | undefined;
}

export interface CallOptions {
  /** The caller giving up (its reason is rethrown). */
  signal?: AbortSignal | undefined;
  /** Retry lock-timeout refusals with backoff (default true). */
  retryLocks?: boolean | undefined;
  /** Read the answer's `data` list in slices into a sink made by this (see CallState.readList). */
  readList?: (() => ListSink) | undefined;
}

export type ApiFn<T> = (api: Proxmox.Api) => Promise<T>;

export class PveClient {
  readonly cluster: string;
  readonly endpoint: string;
  private readonly dispatcher: Agent;
  private readonly session: AuthSession;

  constructor(
    private readonly config: ResolvedConfig,
    private readonly deps: ClientDeps,
  ) {
    this.cluster = config.name;
    this.endpoint = `${config.protocol}://${urlHost(config.host)}:${config.port}`;
    this.dispatcher = createDispatcher({
      cluster: config.name,
      protocol: config.protocol,
      tls: config.tls,
      log: deps.log,
    });
    this.session = new AuthSession(config, deps.clock, deps.log);
  }

  /**
   * One API call. `label` names it for errors and logs ('GET /cluster/resources'); `fn` makes the request
   * through proxmox-api. The answer comes back unvalidated (callers check its shape).
   */
  async call<T>(label: string, fn: ApiFn<T>, options: CallOptions = {}): Promise<unknown> {
    const { lockRetry } = this.config;
    const once = () => this.once(label, fn, options.signal, options.readList);
    if (options.retryLocks === false) return once();
    return retryOnLock(once, {
      ...lockRetry,
      clock: this.deps.clock,
      log: this.deps.log,
      what: `${this.cluster}: ${label}`,
      signal: options.signal,
    });
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private async once<T>(
    label: string,
    fn: ApiFn<T>,
    external: AbortSignal | undefined,
    readList?: () => ListSink,
  ): Promise<unknown> {
    await this.session.ensure((login) => this.timed('POST /access/ticket', login, external));
    return this.timed(
      label,
      async (fetch) => {
        const engine = this.session.engine(fetch);
        const result = await fn(proxmoxApi(engine));
        this.session.adopt(engine);
        return result;
      },
      external,
      readList,
    ).catch((err: unknown) => {
      if (err instanceof PveApiError && err.status === 401 && this.session.mode === 'ticket') this.session.invalidate();
      throw err;
    });
  }

  /** Runs `work` with a fetch bound to a fresh call state under the clock-driven timeout. */
  private async timed<R>(
    label: string,
    work: (fetch: EngineFetch) => Promise<R>,
    external?: AbortSignal,
    readList?: () => ListSink,
  ): Promise<R> {
    const { clock } = this.deps;
    if (external?.aborted) throw external.reason;
    const controller = new AbortController();
    const { fence, userAgent } = this.deps;
    const state: CallState = {
      signal: controller.signal,
      timedOut: false,
      readList,
      userAgent,
      ...(fence ? { beforeWrite: () => fence(this.cluster) } : {}),
    };
    const ctx: FailureContext = {
      cluster: this.cluster,
      endpoint: this.endpoint,
      label,
      timeoutMs: this.config.timeoutMs,
      external,
    };
    const timer = clock.setTimeout(() => {
      state.timedOut = true;
      controller.abort(
        new PlatformTimeoutError(
          `${this.cluster}: ${label} got no answer within ${this.config.timeoutMs} ms`,
          this.cluster,
        ),
      );
    }, this.config.timeoutMs);
    const onAbort = () => controller.abort(external?.reason);
    external?.addEventListener('abort', onAbort, { once: true });
    try {
      return await raceAbort(work(createCallFetch(this.dispatcher, state)), controller.signal);
    } catch (err) {
      if (state.refusedWrite !== undefined) throw state.refusedWrite;
      throw toPlatformError(err, state, ctx);
    } finally {
      clock.clearTimeout(timer);
      external?.removeEventListener('abort', onAbort);
    }
  }
}
