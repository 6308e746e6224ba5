// The message bus every layer talks through (DESIGN §2: an actor's address is a subject).
// Two implementations: NATS (nats-bus.ts) and in-process (memory-bus.ts), with the same semantics.

export type Unsubscribe = () => void;

export type BusStatus = 'connected' | 'disconnected' | 'reconnecting' | 'closed';

export interface BusRequestOptions {
  /** Default DEFAULT_REQUEST_TIMEOUT_MS. */
  timeoutMs?: number;
}

export interface BusReplyOptions {
  /** Responders sharing a queue name split the requests between them. */
  queue?: string;
}

/** Answers one request. A thrown error is answered as `{error: {name, message}}`, never crashes the responder. */
export type ReplyHandler = (payload: unknown, subject: string) => Promise<unknown> | unknown;

export type MessageHandler = (subject: string, payload: unknown) => void;

/** An event as the events stream keeps it: its stream sequence (increasing, never reused), subject and payload. */
export interface StoredEvent {
  seq: number;
  subject: string;
  payload: unknown;
}

/**
 * Events read back from the events stream, oldest first, then live as they are stored, until `close()`.
 * Iterating ends after `close()`, or throws when the stream can no longer be read (the connection closed).
 */
export interface EventReplay extends AsyncIterable<StoredEvent> {
  close(): Promise<void>;
}

export interface Bus {
  /** Fire-and-forget; the payload travels as JSON. */
  publish(subject: string, payload: unknown): void;
  /**
   * Sends a request and waits for the first answer.
   * Throws BusUnavailableError when disconnected or nobody answers on the subject, BusTimeoutError on timeout,
   * BusRemoteError when the responder's handler failed.
   */
  request<T>(subject: string, payload: unknown, opts?: BusRequestOptions): Promise<T>;
  /** Answers requests on `subject` (wildcards allowed). */
  reply(subject: string, handler: ReplyHandler, opts?: BusReplyOptions): Unsubscribe;
  /** Receives every message matching `filter` (wildcards allowed). */
  subscribe(filter: string, handler: MessageHandler): Unsubscribe;
  readonly connected: boolean;
  onStatus(listener: (status: BusStatus) => void): Unsubscribe;
  close(): Promise<void>;
  /**
   * The events stream (JetStream OVERSEER_EVENTS) from the event after stream sequence `afterSeq` (`'new'`: only
   * events stored from now on), matching `filter` (under `overseer.evt.>`). Absent on a bus without a stream.
   * Rejects when the stream cannot be read (missing, not permitted).
   */
  replay?(filter: string, afterSeq: number | 'new'): Promise<EventReplay>;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
