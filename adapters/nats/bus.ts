// The Bus contract lives with the wire contract (protocol/bus.ts); the NATS and in-memory buses implement it.
export type {
  Bus,
  BusReplyOptions,
  BusRequestOptions,
  BusStatus,
  EventReplay,
  MessageHandler,
  ReplyHandler,
  StoredEvent,
  Unsubscribe,
} from '../../protocol/bus';
export { DEFAULT_REQUEST_TIMEOUT_MS } from '../../protocol/bus';
