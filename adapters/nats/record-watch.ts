// Following a @nats-io/kv watch of the record bucket (adapters/nats/record-store.ts watch): every entry handed to the
// watcher's callback in order, one at a time, and "caught up" once the keys present when the watch started have been.
//
// The library's signal, as it behaves on nats-server 2.9: a watch counts the entries pending when its consumer was
// created and marks the last of them, and every later one, `isUpdate` (so isUpdate means "this one or an earlier one
// completed the initial set"); `delta` is the consumer's pending count, 0 once nothing is left to deliver. Caught up
// is the first entry with either. With no key to deliver the library hands over nothing at all, so the caller says
// beforehand whether there is any (`initial`). The library's consumer is an ordered push consumer: it recreates
// itself after a gap or missed heartbeats, and is left on the server when stopped until its inactivity threshold
// (5 minutes) removes it; the library gives no way to delete it.
import type { KvWatchEntry } from '@nats-io/kv';
import type { QueuedIterator } from '@nats-io/transport-node';
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
  /** What kv.watch returned. */
  entries: QueuedIterator<KvWatchEntry>;
  /** Whether there are entries to hand over before the watch has caught up (false: caught up at once). */
  initial: boolean;
  toEvent: (entry: KvWatchEntry) => E;
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
  if (!o.initial) markCaughtUp();
  let stopped = false;
  const closed = (async (): Promise<Error | undefined> => {
    try {
      for await (const entry of o.entries) {
        // Entries already queued when stop() was called are not handed over.
        if (stopped) break;
        await o.onEntry(o.toEvent(entry));
        if (!caught && (entry.isUpdate || entry.delta === 0)) markCaughtUp();
      }
      return stopped ? undefined : new RecordStoreError(`the watch of ${o.what} ended`, o.key);
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    } finally {
      o.entries.stop();
      if (!caught) signal?.reject(new RecordStoreError(`the watch of ${o.what} ended before it caught up`, o.key));
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
      o.entries.stop();
      await closed;
    },
  };
}
