// Public face of the NATS adapter: the Bus (NATS and in-memory), the JetStream events stream, the lease store and
// the nats-server process launcher. Subjects and the wire contract are protocol/'s.
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
export type { KvLeaseStoreOptions, LeaseEntry, LeaseStore, LeaseValue } from './lease-store';
export {
  KvLeaseStore,
  LEASE_BUCKET,
  LeaseConflictError,
  LeaseStoreError,
  LeaseStoreTimeoutError,
  LeaseValueError,
  leaseBucketName,
  leaseKey,
  leaseValueSchema,
  openKvLeaseStore,
  presenceKey,
  presencePrefix,
} from './lease-store';
export type { MemoryBus, MemoryBusOptions } from './memory-bus';
export { createMemoryBus } from './memory-bus';
export { assertNamespace, clusterNamespace, fromNamespace, toNamespace } from './namespace';
export type { ConnectBusOptions } from './nats-bus';
export { connectBus, NatsBus } from './nats-bus';
export type {
  AuditRecordItem,
  ClusterRecord,
  InvalidRecord,
  JetStreamRecordStoreOptions,
  RecordEntry,
  RecordStore,
  RecordWatch,
  RecordWatchEvent,
  RecordWatchOptions,
} from './record-store';
export {
  JetStreamRecordStore,
  openRecordStore,
  RECORD_AUDIT_STREAM,
  RECORD_AUDIT_SUBJECT,
  RECORD_BUCKET,
  RecordConflictError,
  RecordStoreError,
  RecordStoreTimeoutError,
  recordAuditStreamName,
  recordAuditSubject,
  recordBucketName,
} from './record-store';
export type {
  EmbeddedNatsEndpoint,
  NatsClusterMemberConfigOptions,
  NatsPasswords,
  NatsServerConfigOptions,
  NatsUserName,
  NatsUserPermissions,
} from './server-config';
export {
  EMBEDDED_NATS_FILES,
  EVENTS_INBOX_PREFIX,
  embeddedEndpointRecord,
  loadOrCreateNatsPasswords,
  NATS_USERS,
  natsPermissions,
  readEmbeddedEndpoint,
  readNatsPasswords,
  renderNatsClusterMemberConfig,
  renderNatsServerConfig,
  writeEmbeddedEndpoint,
  writeNatsAuthConfig,
  writeNatsClusterMemberConfig,
  writeNatsServerConfig,
} from './server-config';
export type { NatsServerExit, NatsServerProcess, SpawnNatsServerOptions } from './server-process';
export {
  findFreePort,
  findNatsServerBinary,
  natsInstallCommand,
  spawnNatsServer,
} from './server-process';
export type { EventStreamLimits, EventStreamOptions } from './streams';
export {
  DEFAULT_EVENT_STREAM_LIMITS,
  EVENT_STREAM,
  ensureEventStream,
  eventStreamName,
} from './streams';
