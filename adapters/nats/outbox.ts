// Burst writes of outgoing NATS messages. nats.js writes its outbound buffer to the socket from a microtask queued by
// the first message after the last write, so messages sent from different promise continuations of one burst (the
// replies of every decision one group commit released, their state-change events) still leave in many socket
// writes, one system call each: about 5 % of a decision's CPU (bench/results/decisions.md). With the outbox, the
// buffer is written once per turn of the event loop (setImmediate) instead: everything sent in one turn leaves in one
// write. Nothing is held longer than that turn; a buffer past the client's own limit is written at once, as before,
// and so is anything pending when the connection closes.
// It reschedules one method of the client's protocol handler (nats-core 3.x: `flushPending`); a client of another
// shape is left as it is.

/** The part of nats.js's protocol handler the outbox reschedules. */
interface ProtocolHandlerLike {
  flushPending(): void;
  close(err?: Error): Promise<void>;
  outbound?: { size(): number };
  pendingLimit?: number;
}

export type ScheduleTurn = (fn: () => void) => void;

/** Protocol handlers with an outbox already (installing twice is a no-op). */
const installed = new WeakSet<object>();

const isHandler = (p: unknown): p is ProtocolHandlerLike =>
  typeof p === 'object' &&
  p !== null &&
  typeof (p as ProtocolHandlerLike).flushPending === 'function' &&
  typeof (p as ProtocolHandlerLike).close === 'function';

/**
 * Writes `nc`'s outgoing messages once per event-loop turn. Returns the undo (the client's own scheduling again,
 * after writing what is pending); false instead when the client is not of the shape the outbox knows, or already
 * has one.
 */
export function installOutbox(
  /** A NatsConnection of @nats-io/transport-node 3.x (it holds the protocol handler as `protocol`). */
  nc: object,
  schedule: ScheduleTurn = (fn) => setImmediate(fn),
): (() => void) | false {
  const handler = (nc as { protocol?: unknown }).protocol;
  if (!isHandler(handler) || installed.has(handler)) return false;
  installed.add(handler);
  const flushNow = handler.flushPending;
  const close = handler.close;
  let scheduled = false;
  const write = () => {
    scheduled = false;
    flushNow.call(handler);
  };
  handler.flushPending = () => {
    const size = handler.outbound?.size();
    if (size !== undefined && handler.pendingLimit !== undefined && size >= handler.pendingLimit) {
      write();
      return;
    }
    if (scheduled) return;
    scheduled = true;
    schedule(() => {
      if (scheduled) write();
    });
  };
  // Whatever is buffered goes out before the socket is let go (the client queues its first write in a microtask, so
  // a message sent just before close() may not even be scheduled yet).
  handler.close = (err?: Error) => {
    write();
    return close.call(handler, err);
  };
  return () => {
    write();
    handler.flushPending = flushNow;
    handler.close = close;
    installed.delete(handler);
  };
}
