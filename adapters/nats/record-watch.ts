// Following a consumer of the record bucket (adapters/nats/record-store.ts watch): every message handed to the
// watcher's callback in order, one at a time; "caught up" once the messages present when the consumer was created
// (its num_pending then) have been handed over; the consumer deleted when the watch ends.
import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { RecordStoreError } from './record-store-calls';

export interface RecordWatch {
  /** Resolves once every key present when the watch started has been handed to onEntry; rejects if it ends first. */
  readonly caughtUp: Promise<void>;
  readonly isCaughtUp: boolean;
  /** Resolves when the watch ends: undefined after stop(), else the error that ended it (onEntry's included). */
  readonly closed: Promise<Error | undefined>;
  stop(): Promise<void>;
}

export interface FollowOptions<E> {
  nc: NatsConnection;
  consumer: Consumer;
  messages: ConsumerMessages;
  /** Messages to hand over before the watch has caught up (0: caught up at once). */
  initial: number;
  toEvent: (m: JsMsg) => E;
  onEntry: (event: E) => void | Promise<void>;
  /** What is watched, for errors (`the watch of <what>`). */
  what: string;
  key: string;
}

export function follow<E>(o: FollowOptions<E>): RecordWatch {
  let caught = false;
  let signal: { resolve: () => void; reject: (e: Error) => void } | undefined;
  const caughtUp = new Promise<void>((resolve, reject) => {
    signal = { resolve, reject };
  });
  // Whoever does not wait for it never sees an unhandled rejection.
  caughtUp.catch(() => undefined);
  const markCaughtUp = () => {
    caught = true;
    signal?.resolve();
  };
  if (o.initial === 0) markCaughtUp();
  let stopped = false;
  const closed = (async (): Promise<Error | undefined> => {
    let seen = 0;
    try {
      for await (const m of o.messages) {
        await o.onEntry(o.toEvent(m));
        if (!caught && (++seen >= o.initial || m.info.pending === 0)) markCaughtUp();
      }
      return stopped ? undefined : new RecordStoreError(`the watch of ${o.what} ended`, o.key);
    } catch (err) {
      o.messages.stop();
      return err instanceof Error ? err : new Error(String(err));
    } finally {
      if (!caught) signal?.reject(new RecordStoreError(`the watch of ${o.what} ended before it caught up`, o.key));
      if (!o.nc.isClosed()) await o.consumer.delete().catch(() => false);
    }
  })();
  return {
    caughtUp,
    get isCaughtUp() {
      return caught;
    },
    closed,
    stop: async () => {
      stopped = true;
      o.messages.stop();
      await closed;
    },
  };
}
