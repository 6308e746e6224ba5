// The Bus over a real NATS connection (v3 client). Reconnects forever; status follows the client's
// status iterator. JetStream is reached through `nc` / `jetstream()` (see streams.ts).
// With a namespace, every `overseer.…` subject goes on the wire as `overseer.<ns>.…` and comes back without it
// (namespace.ts), so two installations sharing a server never see each other's requests; `nc` is the raw,
// un-namespaced connection.
import {
  type Consumer,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import {
  AuthorizationError,
  ClosedConnectionError,
  ConnectionError,
  type ConnectionOptions,
  connect,
  DrainingConnectionError,
  headers,
  type Msg,
  type NatsConnection,
  nkeyAuthenticator,
  RequestError,
  TimeoutError,
  UserAuthenticationExpiredError,
} from '@nats-io/transport-node';
import { assertFilter, assertSubject } from '../../protocol';
import type { Log } from '../log';
import {
  type Bus,
  type BusReplyOptions,
  type BusRequestOptions,
  type BusStatus,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type EventReplay,
  type MessageHandler,
  type ReplyHandler,
  type StoredEvent,
  type Unsubscribe,
} from './bus';
import { answerRequest, decodePayload, ERROR_HEADER, encodePayload, isErrorReply } from './codec';
import {
  BusAuthError,
  BusConnectError,
  BusError,
  BusRemoteError,
  BusTimeoutError,
  BusUnavailableError,
  StreamError,
} from './errors';
import { assertNamespace, fromNamespace, toNamespace } from './namespace';
import { installOutbox } from './outbox';
import { eventStreamName } from './streams';

export interface ConnectBusOptions {
  /** nats://host:port, one or several. */
  servers: string | string[];
  user?: string;
  pass?: string;
  /** An nkey user seed (SU...). */
  nkeySeed?: string;
  token?: string;
  /** Connection name shown by the server (e.g. 'overseer-gateway'). */
  name: string;
  log?: Log;
  /** Pause between reconnect attempts; default 250 ms. Attempts never stop. */
  reconnectTimeWaitMs?: number;
  /** Limit for each connection attempt; default 5 s. */
  connectTimeoutMs?: number;
  /** Keep trying when no server answers the first connection instead of failing; default false. */
  waitOnFirstConnect?: boolean;
  /** Default request timeout; default DEFAULT_REQUEST_TIMEOUT_MS. */
  requestTimeoutMs?: number;
  /** The installation's namespace (one subject token, see namespace.ts); none: subjects go out as they are. */
  namespace?: string | undefined;
  /**
   * Also use the servers the cluster announces (default true). False: only `servers`, so a core whose own server
   * dies is cut off rather than moved (NATS_DISCOVERY=off).
   */
  followCluster?: boolean | undefined;
}

/** Connects to NATS. Rejects with BusAuthError (credentials refused) or BusConnectError (no server). */
export async function connectBus(opts: ConnectBusOptions): Promise<NatsBus> {
  if (opts.namespace !== undefined) assertNamespace(opts.namespace);
  const servers = Array.isArray(opts.servers) ? opts.servers : [opts.servers];
  const options: ConnectionOptions = {
    servers,
    name: opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: opts.reconnectTimeWaitMs ?? 250,
    reconnectJitter: 50,
    timeout: opts.connectTimeoutMs ?? 5_000,
    waitOnFirstConnect: opts.waitOnFirstConnect ?? false,
    // No stack trace captured for every request (nats.js builds two Error objects per request for it): 1–2 % of a
    // decision's CPU (bench/results/decisions.md). A failed request still says which subject and why.
    noAsyncTraces: true,
    ignoreClusterUpdates: opts.followCluster === false,
  };
  if (opts.user !== undefined) {
    options.user = opts.user;
    options.pass = opts.pass ?? '';
  }
  if (opts.token !== undefined) options.token = opts.token;
  if (opts.nkeySeed !== undefined) options.authenticator = nkeyAuthenticator(new TextEncoder().encode(opts.nkeySeed));

  let nc: NatsConnection;
  try {
    nc = await connect(options);
  } catch (err) {
    if (err instanceof AuthorizationError || err instanceof UserAuthenticationExpiredError) {
      const who = opts.user !== undefined ? ` for user '${opts.user}'` : '';
      throw new BusAuthError(`NATS refused the credentials${who} at ${servers.join(', ')}: ${err.message}`, servers, {
        cause: err,
      });
    }
    throw new BusConnectError(`cannot connect to NATS at ${servers.join(', ')}: ${(err as Error).message}`, servers, {
      cause: err,
    });
  }
  // One socket write per event-loop turn rather than one per message (outbox.ts).
  installOutbox(nc);
  return new NatsBus(nc, opts);
}

export class NatsBus implements Bus {
  private state: BusStatus = 'connected';
  private readonly listeners = new Set<(s: BusStatus) => void>();
  private js: JetStreamClient | undefined;
  private readonly log: Log | undefined;
  private readonly requestTimeoutMs: number;
  /** The namespace subjects are put under on the wire; undefined when there is none. */
  readonly namespace: string | undefined;

  constructor(
    /** The raw connection (no namespace applied), for JetStream and anything the Bus interface does not cover. */
    readonly nc: NatsConnection,
    opts: Pick<ConnectBusOptions, 'log' | 'requestTimeoutMs' | 'name' | 'namespace'>,
  ) {
    this.namespace = opts.namespace === undefined ? undefined : assertNamespace(opts.namespace);
    this.log = opts.log;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    void this.watchStatus(opts.name);
    void nc.closed().then((err) => {
      if (err) this.log?.warn(`nats ${opts.name}: connection closed: ${err.message}`);
      this.setState('closed');
    });
  }

  private async watchStatus(name: string): Promise<void> {
    for await (const s of this.nc.status()) {
      switch (s.type) {
        case 'disconnect':
          this.log?.warn(`nats ${name}: disconnected from ${s.server}`);
          this.setState('disconnected');
          break;
        case 'reconnecting':
          this.setState('reconnecting');
          break;
        case 'reconnect':
          this.log?.info(`nats ${name}: reconnected to ${s.server}`);
          this.setState('connected');
          break;
        case 'error':
          this.log?.warn(`nats ${name}: ${s.error.message}`);
          break;
        case 'staleConnection':
          this.log?.warn(`nats ${name}: stale connection`);
          break;
        default:
          break;
      }
    }
  }

  private setState(next: BusStatus): void {
    if (this.state === next || this.state === 'closed') return;
    this.state = next;
    for (const l of [...this.listeners]) {
      try {
        l(next);
      } catch (err) {
        this.log?.error('bus status listener failed', err);
      }
    }
  }

  /** The subject on the wire: `overseer.x` → `overseer.<ns>.x`. */
  private wire(subject: string): string {
    return toNamespace(subject, this.namespace);
  }

  /** The subject as Overseer knows it: `overseer.<ns>.x` → `overseer.x`. */
  private local(subject: string): string {
    return fromNamespace(subject, this.namespace);
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  get status(): BusStatus {
    return this.state;
  }

  onStatus(listener: (s: BusStatus) => void): Unsubscribe {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(subject: string, payload: unknown): void {
    assertSubject(subject);
    const data = encodePayload(payload);
    try {
      // While reconnecting the client buffers the message and sends it once connected again.
      this.nc.publish(this.wire(subject), data);
    } catch (err) {
      throw toBusError(err, subject);
    }
  }

  async request<T>(subject: string, payload: unknown, opts?: BusRequestOptions): Promise<T> {
    assertSubject(subject);
    const data = encodePayload(payload);
    if (!this.connected) throw new BusUnavailableError(`bus is ${this.state}: cannot request ${subject}`, subject);
    const timeout = opts?.timeoutMs ?? this.requestTimeoutMs;
    let msg: Msg;
    try {
      msg = await this.nc.request(this.wire(subject), data, { timeout });
    } catch (err) {
      throw toBusError(err, subject, timeout);
    }
    const answer = decodePayload(msg.data);
    if (msg.headers?.get(ERROR_HEADER) && isErrorReply(answer)) {
      throw new BusRemoteError(`${subject}: ${answer.error.message}`, subject, answer.error.name, {
        field: answer.error.field,
      });
    }
    return answer as T;
  }

  reply(subject: string, handler: ReplyHandler, opts?: BusReplyOptions): Unsubscribe {
    assertFilter(subject);
    const sub = this.nc.subscribe(this.wire(subject), {
      ...(opts?.queue ? { queue: opts.queue } : {}),
      callback: (err, msg) => {
        if (err) {
          this.log?.warn(`reply ${subject}: ${err.message}`);
          return;
        }
        if (!msg.reply) return;
        const local = this.local(msg.subject);
        void answerRequest(handler, msg.data, local).then(({ body, isError, refused }) => {
          // The caller's mistake (bad input, a refused credential: audited) is no failure of this responder.
          if (refused) this.log?.info(`reply ${local}: refused: ${new TextDecoder().decode(body)}`);
          else if (isError) this.log?.warn(`reply ${local}: handler failed: ${new TextDecoder().decode(body)}`);
          const h = isError ? headers() : undefined;
          h?.set(ERROR_HEADER, '1');
          try {
            msg.respond(body, h ? { headers: h } : undefined);
          } catch (e) {
            this.log?.warn(`reply ${local}: cannot answer: ${(e as Error).message}`);
          }
        });
      },
    });
    return () => {
      if (!this.nc.isClosed()) sub.unsubscribe();
    };
  }

  subscribe(filter: string, handler: MessageHandler): Unsubscribe {
    assertFilter(filter);
    const sub = this.nc.subscribe(this.wire(filter), {
      callback: (err, msg) => {
        if (err) {
          this.log?.warn(`subscription ${filter}: ${err.message}`);
          return;
        }
        const subject = this.local(msg.subject);
        let payload: unknown;
        try {
          payload = decodePayload(msg.data);
        } catch (e) {
          this.log?.warn(`subscription ${filter}: dropped a message on ${subject}: ${(e as Error).message}`);
          return;
        }
        try {
          handler(subject, payload);
        } catch (e) {
          this.log?.error(`subscription ${filter}: handler failed on ${subject}`, e);
        }
      },
    });
    return () => {
      if (!this.nc.isClosed()) sub.unsubscribe();
    };
  }

  /**
   * The events stream from after `afterSeq` (or only new events), then live: an ordered consumer (ephemeral, in
   * memory on the server, deleted on close) on this installation's stream, OVERSEER_EVENTS[_<ns>].
   */
  async replay(filter: string, afterSeq: number | 'new'): Promise<EventReplay> {
    assertFilter(filter);
    if (afterSeq !== 'new' && (!Number.isSafeInteger(afterSeq) || afterSeq < 0)) {
      throw new RangeError(`afterSeq must be a whole number >= 0 (got ${afterSeq})`);
    }
    const stream = eventStreamName(this.namespace);
    let consumer: Consumer;
    let messages: Awaited<ReturnType<Consumer['consume']>>;
    try {
      consumer = await this.jetstream().consumers.get(stream, {
        filter_subjects: this.wire(filter),
        ...(afterSeq === 'new' ? { deliver_policy: DeliverPolicy.New } : { opt_start_seq: afterSeq + 1 }),
      });
      messages = await consumer.consume({ max_messages: 100 });
    } catch (err) {
      throw new StreamError(`cannot read the events stream ${stream}: ${(err as Error).message}`, stream, {
        cause: err,
      });
    }
    const log = this.log;
    const local = (subject: string) => this.local(subject);
    async function* events(): AsyncGenerator<StoredEvent> {
      for await (const m of messages) {
        const subject = local(m.subject);
        let payload: unknown;
        try {
          payload = decodePayload(m.data);
        } catch (e) {
          log?.warn(`replay ${filter}: skipped stream message ${m.seq} on ${subject}: ${(e as Error).message}`);
          continue;
        }
        yield { seq: m.seq, subject, payload };
      }
    }
    let closed = false;
    return {
      [Symbol.asyncIterator]: () => events(),
      close: async () => {
        if (closed) return;
        closed = true;
        // stop(), not close(): close() waits until the iterator is read to its end, which a reader that stopped
        // reading never does. The ephemeral consumer is deleted rather than left to expire.
        messages.stop();
        if (!this.nc.isClosed()) await consumer.delete().catch(() => false);
      },
    };
  }

  /** The JetStream client on this connection. */
  jetstream(): JetStreamClient {
    this.js ??= jetstream(this.nc);
    return this.js;
  }

  jetstreamManager(): Promise<JetStreamManager> {
    return jetstreamManager(this.nc);
  }

  /** Waits until everything published so far reached the server. */
  async flush(): Promise<void> {
    try {
      await this.nc.flush();
    } catch (err) {
      throw toBusError(err, '');
    }
  }

  /** Drains (pending replies are answered) and closes. */
  async close(): Promise<void> {
    if (this.nc.isClosed()) return;
    try {
      await this.nc.drain();
    } catch {
      await this.nc.close();
    }
    this.setState('closed');
  }
}

function toBusError(err: unknown, subject: string, timeoutMs?: number): BusError {
  if (err instanceof BusError) return err;
  if (err instanceof TimeoutError) {
    return new BusTimeoutError(`no answer on ${subject} within ${timeoutMs} ms`, subject, timeoutMs ?? 0, {
      cause: err,
    });
  }
  if (err instanceof RequestError && err.isNoResponders()) {
    return new BusUnavailableError(`no responders on ${subject}`, subject, { cause: err });
  }
  if (
    err instanceof RequestError ||
    err instanceof ClosedConnectionError ||
    err instanceof DrainingConnectionError ||
    err instanceof ConnectionError
  ) {
    return new BusUnavailableError(`bus unavailable for ${subject}: ${err.message}`, subject, { cause: err });
  }
  return new BusError(`bus operation on ${subject} failed: ${(err as Error)?.message ?? String(err)}`, {
    cause: err,
  });
}
