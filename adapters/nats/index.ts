// Public face of the NATS layer: subjects, the Bus (NATS and in-memory), JetStream streams, durable
// work, event replay, and the nats-server process launcher.
export type {
  Bus,
  BusReplyOptions,
  BusRequestOptions,
  BusStatus,
  MessageHandler,
  ReplyHandler,
  Unsubscribe,
} from './bus';
export { DEFAULT_REQUEST_TIMEOUT_MS } from './bus';
export type { ErrorReply } from './codec';
export { ERROR_HEADER, isErrorReply } from './codec';
export {
  BusAuthError,
  BusConnectError,
  BusError,
  BusPayloadError,
  BusRemoteError,
  BusTimeoutError,
  BusUnavailableError,
  InvalidSubjectError,
  NatsServerStartError,
  StreamError,
} from './errors';
export type { ReplayOptions, StoredEvent } from './event-replay';
export { collectEvents, replayEvents } from './event-replay';
export type { MemoryBus, MemoryBusOptions } from './memory-bus';
export { createMemoryBus } from './memory-bus';
export type { ConnectBusOptions } from './nats-bus';
export { connectBus, NatsBus } from './nats-bus';
export type { NatsServerExit, NatsServerProcess, SpawnNatsServerOptions } from './server-process';
export {
  findFreePort,
  findNatsServerBinary,
  natsInstallCommand,
  spawnNatsServer,
  writeNatsAuthConfig,
} from './server-process';
export type { EventStreamLimits, WorkStreamOptions } from './streams';
export {
  DEFAULT_EVENT_STREAM_LIMITS,
  EVENT_STREAM,
  ensureEventStream,
  ensureWorkStream,
  WORK_STREAM,
} from './streams';
export type { EventFilterSpec, EventKind, ParsedEventSubject, ParsedSubject, RequestCommand } from './subjects';
export {
  assertFilter,
  assertSubject,
  assertToken,
  EVENT_KINDS,
  eventFilter,
  MAX_SUBJECT_LENGTH,
  MAX_TOKEN_LENGTH,
  parseEventSubject,
  parseSubject,
  REQUEST_COMMANDS,
  SUBJECT_ROOT,
  subjectMatches,
  subjects,
  validateEventFilter,
} from './subjects';
export type {
  ConsumeWorkOptions,
  EnqueueOptions,
  EnqueueResult,
  WorkConsumer,
  WorkHandler,
  WorkItem,
} from './work-queue';
export { consumeWork, enqueueWork } from './work-queue';
