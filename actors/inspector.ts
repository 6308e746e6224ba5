// The XState inspector: every actor's inspection events streamed to a WebSocket inspector
// (OVERSEER_INSPECT=ws://host:port), in @statelyai/inspect's message format.
//
// The connection is Overseer's own (not @statelyai/inspect's WebSocket adapter, which retries only a failed first
// connection, never one that closed, and says nothing): a connection that fails or closes is logged once, and tried
// again with a growing pause (0.5 s doubling up to 30 s, through the injected clock) until the inspector is back,
// which is logged too. A reconnected inspector — possibly a restarted one that knows nothing — is sent every live
// actor's registration and latest snapshot first, then the events that happened while it was away (the newest
// 1000).
import { createInspector as createStatelyInspector } from '@statelyai/inspect';
import WebSocket from 'ws';
import type { InspectionEvent, Observer } from 'xstate';
import { type Clock, SystemClock, type TimerHandle } from '../adapters/clock';
import type { Log } from '../adapters/log';
import { ConfigError } from './config';

export interface RunningInspector {
  inspect: Observer<InspectionEvent>;
  /** True while the WebSocket to the inspector is open. */
  readonly connected: boolean;
  stop(): void;
}

export interface InspectorOptions {
  /** Default: the system clock. */
  clock?: Clock | undefined;
  /** First pause before trying again; doubled per failed attempt. Default 500 ms. */
  minBackoffMs?: number | undefined;
  /** Longest pause. Default 30 s. */
  maxBackoffMs?: number | undefined;
  /** Events kept while the inspector is away. Default 1000. */
  maxDeferred?: number | undefined;
  /** Live actors remembered for a reconnected inspector. Default 10 000. */
  maxActors?: number | undefined;
}

/** Nesting below which a message's values are cut (`[...]`), as @statelyai/inspect's serialisationDepthLimit. */
const DEPTH_LIMIT = 10;
const FINAL_STATUSES = new Set(['done', 'error', 'stopped']);

interface Outgoing {
  type?: string;
  sessionId?: string;
  snapshot?: { status?: string };
}

/** JSON of an inspection message that never throws: cycles become `[Circular]`, deep values `[...]`. */
export function inspectionJson(value: unknown, depthLimit = DEPTH_LIMIT): string {
  const ancestors: unknown[] = [];
  return JSON.stringify(value, function (this: unknown, _key: string, v: unknown) {
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'function') return undefined;
    if (typeof v !== 'object' || v === null) return v;
    while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop();
    if (ancestors.includes(v)) return '[Circular]';
    if (ancestors.length > depthLimit) return '[...]';
    ancestors.push(v);
    return v;
  });
}

class InspectorSocket {
  private ws: WebSocket | undefined;
  private open = false;
  private stopped = false;
  private attempts = 0;
  /** Set while the inspector is away: logged once when it goes, once when it is back. */
  private awaySince: number | undefined;
  private lastError: string | undefined;
  private timer: TimerHandle | undefined;
  private deferred: { type: string | undefined; text: string }[] = [];
  private dropped = 0;
  /** sessionId → its registration and latest snapshot, for an inspector that (re)connects. */
  private readonly actors = new Map<string, { actor: string; snapshot?: string }>();

  constructor(
    private readonly url: string,
    private readonly log: Log,
    private readonly clock: Clock,
    private readonly opts: Required<Omit<InspectorOptions, 'clock'>>,
  ) {}

  get connected(): boolean {
    return this.open;
  }

  start(): void {
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const ws = this.ws;
    this.ws = undefined;
    this.open = false;
    if (ws) {
      ws.removeAllListeners();
      ws.on('error', () => {});
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close();
    }
  }

  send(event: unknown): void {
    if (this.stopped) return;
    const text = inspectionJson(event);
    this.remember(event as Outgoing, text);
    if (this.open && this.ws?.readyState === WebSocket.OPEN) {
      this.ws.send(text);
      return;
    }
    this.deferred.push({ type: (event as Outgoing).type, text });
    if (this.deferred.length > this.opts.maxDeferred) {
      this.deferred.shift();
      this.dropped++;
    }
  }

  private remember(event: Outgoing, text: string): void {
    const id = event.sessionId;
    if (!id) return;
    if (event.type === '@xstate.actor') {
      if (this.actors.size < this.opts.maxActors || this.actors.has(id)) this.actors.set(id, { actor: text });
    } else if (event.type === '@xstate.snapshot') {
      const known = this.actors.get(id);
      if (!known) return;
      if (FINAL_STATUSES.has(String(event.snapshot?.status))) this.actors.delete(id);
      else known.snapshot = text;
    }
  }

  private connect(): void {
    if (this.stopped) return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url, { handshakeTimeout: 10_000 });
    } catch (err) {
      this.lastError = (err as Error).message;
      this.down(false);
      return;
    }
    this.ws = ws;
    ws.on('open', () => this.up(ws));
    ws.on('error', (err) => {
      this.lastError = err.message;
    });
    ws.on('close', (code) => {
      if (this.ws !== ws) return;
      const wasOpen = this.open;
      this.open = false;
      this.ws = undefined;
      if (wasOpen) this.lastError = `closed with code ${code}`;
      this.down(wasOpen);
    });
  }

  private up(ws: WebSocket): void {
    if (this.ws !== ws || this.stopped) return;
    this.open = true;
    const replayed = this.replay(ws);
    if (this.awaySince !== undefined) {
      const away = Math.round((this.clock.now() - this.awaySince) / 1000);
      this.log.info(
        `inspector at ${this.url} reachable again after ${away} s (${this.attempts} attempt${this.attempts === 1 ? '' : 's'}): sent ${replayed.actors} live actor${replayed.actors === 1 ? '' : 's'} and ${replayed.events} event${replayed.events === 1 ? '' : 's'} from while it was away${replayed.dropped ? ` (${replayed.dropped} older ones dropped)` : ''}`,
      );
    }
    this.awaySince = undefined;
    this.attempts = 0;
  }

  /** The current picture (registrations, latest snapshots), then what happened while away. */
  private replay(ws: WebSocket): { actors: number; events: number; dropped: number } {
    const first = this.awaySince === undefined;
    const deferred = this.deferred;
    const dropped = this.dropped;
    this.deferred = [];
    this.dropped = 0;
    // On the first connection the deferred messages are the whole story so far; after a break, a reconnected
    // inspector may be a new one: it gets every live actor again.
    if (first) {
      for (const { text } of deferred) ws.send(text);
      return { actors: 0, events: deferred.length, dropped };
    }
    for (const { actor, snapshot } of this.actors.values()) {
      ws.send(actor);
      if (snapshot) ws.send(snapshot);
    }
    const events = deferred.filter((d) => d.type === '@xstate.event');
    for (const { text } of events) ws.send(text);
    return { actors: this.actors.size, events: events.length, dropped };
  }

  private down(wasOpen: boolean): void {
    if (this.stopped) return;
    const pause = Math.min(this.opts.maxBackoffMs, this.opts.minBackoffMs * 2 ** Math.min(this.attempts, 20));
    this.attempts++;
    if (this.awaySince === undefined) {
      this.awaySince = this.clock.now();
      const what = wasOpen ? 'lost the connection to' : 'cannot reach';
      this.log.warn(
        `inspector: ${what} ${this.url}${this.lastError ? ` (${this.lastError})` : ''}; trying again with backoff up to ${Math.round(this.opts.maxBackoffMs / 1000)} s, events kept meanwhile`,
      );
    }
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.connect();
    }, pause);
  }
}

export function createInspector(url: string, log: Log, options: InspectorOptions = {}): RunningInspector {
  if (!/^wss?:\/\/[^\s/]+(:\d+)?(\/\S*)?$/.test(url)) {
    throw new ConfigError(`OVERSEER_INSPECT must be a ws:// or wss:// URL (got '${url}')`, 'OVERSEER_INSPECT');
  }
  const socket = new InspectorSocket(url, log, options.clock ?? new SystemClock(), {
    minBackoffMs: options.minBackoffMs ?? 500,
    maxBackoffMs: options.maxBackoffMs ?? 30_000,
    maxDeferred: options.maxDeferred ?? 1000,
    maxActors: options.maxActors ?? 10_000,
  });
  const inspector = createStatelyInspector({ send: (event) => socket.send(event) });
  socket.start();
  log.info(`streaming XState inspection events to ${url}`);
  return {
    inspect: inspector.inspect,
    get connected() {
      return socket.connected;
    },
    stop: () => socket.stop(),
  };
}
