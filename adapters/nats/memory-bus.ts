// An in-process Bus with the NATS semantics (JSON payloads, wildcards, queue groups, no-responders,
// timeouts, error envelopes), for unit tests of the other layers. Delivery is asynchronous (microtasks),
// as on a real connection. Timeouts run on the injected clock.

import { assertFilter, assertSubject, subjectMatches } from '../../protocol';
import { type Clock, SystemClock } from '../clock';
import {
  type Bus,
  type BusReplyOptions,
  type BusRequestOptions,
  type BusStatus,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type MessageHandler,
  type ReplyHandler,
  type Unsubscribe,
} from './bus';
import { answerRequest, decodePayload, encodePayload } from './codec';
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
      if (state === 'connected') dispatch(subject, data);
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
                const { name, message } = (answer as { error: { name: string; message: string } }).error;
                reject(new BusRemoteError(`${subject}: ${message}`, subject, name));
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
      for (const m of held.splice(0)) dispatch(m.subject, m.data);
    },
    async close() {
      subs.clear();
      held.length = 0;
      setState('closed');
    },
  };
}
