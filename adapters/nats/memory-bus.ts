// An in-process Bus with the NATS semantics (JSON payloads, wildcards, queue groups, no-responders,
// timeouts, error envelopes), for unit tests of the other layers. Delivery is asynchronous (microtasks),
// as on a real connection. Timeouts run on the injected clock.

import { assertFilter, assertSubject, subjectMatches, subjects } from '../../protocol';
import { type Clock, SystemClock } from '../clock';
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
import { answerRequest, decodePayload, type ErrorReply, encodePayload } from './codec';
import { BusRemoteError, BusTimeoutError, BusUnavailableError } from './errors';

type Responder = (data: Uint8Array, isError: boolean) => void;

interface MemorySub {
  filter: string;
  queue?: string;
  deliver(subject: string, data: Uint8Array, respond?: Responder): void;
}

export interface MemoryBusOptions {
  clock?: Clock;
  requestTimeoutMs?: number;
  /**
   * Keep `overseer.evt.>` as a JetStream events stream would (sequence numbers from 1, the oldest dropped beyond
   * `maxMsgs`), so `replay` works. Default: no stream, and no `replay` (like a server without JetStream).
   */
  eventStream?: { maxMsgs?: number } | boolean;
}

export interface MemoryBus extends Bus {
  /** Every message published so far (subject and decoded payload), oldest first. */
  readonly published: ReadonlyArray<{ subject: string; payload: unknown }>;
  /** Acts as if the connection dropped: requests fail, publishes are held until reconnect. */
  simulateDisconnect(): void;
  simulateReconnect(): void;
}

export function createMemoryBus(opts: MemoryBusOptions = {}): MemoryBus {
  const clock = opts.clock ?? new SystemClock();
  const defaultTimeout = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const subs = new Set<MemorySub>();
  const listeners = new Set<(s: BusStatus) => void>();
  const published: { subject: string; payload: unknown }[] = [];
  const held: { subject: string; data: Uint8Array }[] = [];
  const queueTurn = new Map<string, number>();
  let state: BusStatus = 'connected';
  const streamOpts = opts.eventStream === true ? {} : opts.eventStream || undefined;
  const events = streamOpts ? createEventLog(streamOpts.maxMsgs ?? 100_000) : undefined;

  /** Delivers a publish (at once, or when reconnected); the events stream stores it as the server would. */
  const deliver = (subject: string, data: Uint8Array) => {
    events?.store(subject, data);
    dispatch(subject, data);
  };

  const setState = (next: BusStatus) => {
    if (state === next || state === 'closed') return;
    state = next;
    for (const l of [...listeners]) l(next);
  };

  /** Subscriptions receiving a message: all plain ones, one per queue group (round robin). */
  const receivers = (subject: string): MemorySub[] => {
    const plain: MemorySub[] = [];
    const groups = new Map<string, MemorySub[]>();
    for (const s of subs) {
      if (!subjectMatches(s.filter, subject)) continue;
      if (s.queue === undefined) plain.push(s);
      else groups.set(s.queue, [...(groups.get(s.queue) ?? []), s]);
    }
    for (const [queue, members] of groups) {
      const turn = queueTurn.get(queue) ?? 0;
      queueTurn.set(queue, turn + 1);
      plain.push(members[turn % members.length]!);
    }
    return plain;
  };

  const dispatch = (subject: string, data: Uint8Array, respond?: Responder): number => {
    const targets = receivers(subject);
    for (const t of targets) queueMicrotask(() => t.deliver(subject, data, respond));
    return targets.length;
  };

  const ensureOpen = (subject: string) => {
    if (state === 'closed') throw new BusUnavailableError(`bus is closed: cannot use ${subject}`, subject);
  };

  const addSub = (sub: MemorySub): Unsubscribe => {
    subs.add(sub);
    return () => subs.delete(sub);
  };

  return {
    published,
    get connected() {
      return state === 'connected';
    },
    publish(subject, payload) {
      assertSubject(subject);
      ensureOpen(subject);
      const data = encodePayload(payload);
      published.push({ subject, payload: decodePayload(data) });
      if (state === 'connected') deliver(subject, data);
      else held.push({ subject, data });
    },
    request<T>(subject: string, payload: unknown, ropts?: BusRequestOptions): Promise<T> {
      try {
        assertSubject(subject);
        ensureOpen(subject);
        if (state !== 'connected') throw new BusUnavailableError(`bus is ${state}: cannot request ${subject}`, subject);
        const data = encodePayload(payload);
        const timeoutMs = ropts?.timeoutMs ?? defaultTimeout;
        return new Promise<T>((resolve, reject) => {
          let settled = false;
          const timer = clock.setTimeout(() => {
            if (settled) return;
            settled = true;
            reject(new BusTimeoutError(`no answer on ${subject} within ${timeoutMs} ms`, subject, timeoutMs));
          }, timeoutMs);
          const respond: Responder = (body, isError) => {
            if (settled) return;
            settled = true;
            clock.clearTimeout(timer);
            try {
              const answer = decodePayload(body);
              if (isError) {
                const { name, message, field } = (answer as ErrorReply).error;
                reject(new BusRemoteError(`${subject}: ${message}`, subject, name, { field }));
              } else {
                resolve(answer as T);
              }
            } catch (err) {
              reject(err);
            }
          };
          const n = dispatch(subject, data, respond);
          if (n === 0) {
            settled = true;
            clock.clearTimeout(timer);
            reject(new BusUnavailableError(`no responders on ${subject}`, subject));
          }
        });
      } catch (err) {
        return Promise.reject(err);
      }
    },
    reply(subject: string, handler: ReplyHandler, ropts?: BusReplyOptions): Unsubscribe {
      assertFilter(subject);
      return addSub({
        filter: subject,
        ...(ropts?.queue ? { queue: ropts.queue } : {}),
        deliver(actual, data, respond) {
          if (!respond) return;
          void answerRequest(handler, data, actual).then(({ body, isError }) => {
            if (state === 'connected') respond(body, isError);
          });
        },
      });
    },
    subscribe(filter: string, handler: MessageHandler): Unsubscribe {
      assertFilter(filter);
      return addSub({
        filter,
        deliver(actual, data) {
          try {
            handler(actual, decodePayload(data));
          } catch {
            // A failing subscriber never breaks delivery to others (as on NATS).
          }
        },
      });
    },
    onStatus(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    simulateDisconnect() {
      setState('disconnected');
    },
    simulateReconnect() {
      if (state === 'closed') return;
      setState('connected');
      for (const m of held.splice(0)) deliver(m.subject, m.data);
    },
    async close() {
      subs.clear();
      held.length = 0;
      setState('closed');
      events?.closeAll();
    },
    ...(events
      ? {
          async replay(filter: string, afterSeq: number | 'new'): Promise<EventReplay> {
            assertFilter(filter);
            ensureOpen(filter);
            if (state !== 'connected')
              throw new BusUnavailableError(`bus is ${state}: cannot replay ${filter}`, filter);
            return events.replay(filter, afterSeq);
          },
        }
      : {}),
  };
}

/** The memory bus's stand-in for the JetStream events stream: `overseer.evt.>`, bounded, with sequence numbers. */
function createEventLog(maxMsgs: number) {
  const kept: StoredEvent[] = [];
  let lastSeq = 0;
  const waiters = new Set<() => void>();
  const wakeAll = () => {
    for (const w of [...waiters]) w();
  };
  const closers = new Set<() => void>();
  return {
    store(subject: string, data: Uint8Array) {
      if (!subjectMatches(subjects.allEvents, subject)) return;
      lastSeq += 1;
      kept.push({ seq: lastSeq, subject, payload: decodePayload(data) });
      if (kept.length > maxMsgs) kept.splice(0, kept.length - maxMsgs);
      wakeAll();
    },
    closeAll() {
      for (const c of [...closers]) c();
    },
    replay(filter: string, afterSeq: number | 'new'): EventReplay {
      let cursor = afterSeq === 'new' ? lastSeq : afterSeq;
      let closed = false;
      const close = () => {
        closed = true;
        closers.delete(close);
        wakeAll();
      };
      closers.add(close);
      async function* iterate(): AsyncGenerator<StoredEvent> {
        while (!closed) {
          const next = kept.find((e) => e.seq > cursor && subjectMatches(filter, e.subject));
          if (next) {
            cursor = next.seq;
            yield structuredClone(next);
            continue;
          }
          // Nothing matching yet: skip what was looked at, and wait for the next stored event (or close).
          cursor = Math.max(cursor, lastSeq);
          await new Promise<void>((resolve) => {
            const done = () => {
              waiters.delete(done);
              resolve();
            };
            waiters.add(done);
          });
        }
      }
      return {
        [Symbol.asyncIterator]: () => iterate(),
        close: async () => close(),
      };
    },
  };
}
