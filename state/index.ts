// Public face of the state layer: SQLite schema and migrations, repositories, the hash-chained audit log,
// the StateStore facade, and the in-memory summary store.
export type { HashedFields, KeyingMarker } from './audit-hash';
export { AUDIT_KEY_BYTES, AuditKey } from './audit-hash';
export type {
  AuditBreakRecord,
  AuditCheckpoint,
  AuditEntry,
  AuditFilter,
  AuditHead,
  AuditLogOptions,
  AuditProblem,
  AuditProblemKind,
  AuditRow,
  AuditVerification,
  AuditVerifyOptions,
} from './audit-log';
export { AUDIT_KEYED_KIND, AUDIT_PROBLEM_KINDS, AuditLog } from './audit-log';
export type { Database, OpenDatabaseOptions } from './database';
export { BUSY_TIMEOUT_MS, openDatabase, transaction } from './database';
export {
  AuditChainError,
  CorruptRecordError,
  DatabaseOpenError,
  DuplicateRequestError,
  MigrationError,
  RequestNotFoundError,
  SchemaTooNewError,
  SerializationError,
  StateError,
} from './errors';
export type {
  IncidentFilter,
  IncidentOpenResult,
  IncidentPatch,
  IncidentRecord,
  NewIncident,
  OpenIncidentCount,
} from './incident-repo';
export { IncidentNotFoundError, IncidentRepo, IncidentResolvedError } from './incident-repo';
export type {
  ClusterRecord,
  HostFilter,
  HostRecord,
  HostRow,
  VmFilter,
  VmRecord,
} from './inventory-repo';
export { InventoryRepo } from './inventory-repo';
export { canonicalJson } from './json';
export type { KnowledgeDocument, KnowledgeFilter, KnowledgeSource } from './knowledge-repo';
export { blobToEmbedding, embeddingToBlob, KNOWLEDGE_SOURCES, KnowledgeRepo } from './knowledge-repo';
export type {
  LabFilter,
  LabMemberRef,
  LabPatch,
  LabRecord,
  LabStatus,
  LabStatusChange,
  LabUpdateResult,
  NewLab,
} from './lab-repo';
export {
  DuplicateLabError,
  LAB_ENDED_STATUSES,
  LAB_SNAPSHOT_KIND,
  LabEndedError,
  LabIdentityError,
  LabNotFoundError,
  LabRepo,
  labActorId,
  labMembersOf,
} from './lab-repo';
export type { EntryFilter, EntryState, MaintenanceRecord, SilenceRecord } from './maintenance-repo';
export { entryState, MaintenanceRepo, TimedTable } from './maintenance-repo';
export { META_KEYS, MetaRepo } from './meta-repo';
export type { AppliedMigration, MigrationReport } from './migrate';
export { appliedMigrations, migrate, schemaVersion } from './migrate';
export type { Migration } from './migrations';
export { AUDIT_APPEND_ONLY_MESSAGE, GENESIS_HASH, LATEST_SCHEMA_VERSION, MIGRATIONS } from './migrations';
export type { DirtyEntity, DirtyKind } from './record-dirty';
export { RECORD_DIRTY_TABLE, RecordDirtyTracker } from './record-dirty';
export type { LabRowValue, RecordMark, TokenRow } from './record-rows';
export { RecordRowConflictError, RecordRows } from './record-rows';
export type { RequestFilter, RequestPatch, RequestRecord, RequestUpdateResult, TaskRef } from './request-repo';
export { RequestRepo } from './request-repo';
export type { SnapshotRow } from './snapshot-repo';
export { SNAPSHOT_PAGE_SIZE, SnapshotRepo } from './snapshot-repo';
export type { StateStoreOptions } from './store';
export { openStateStore, StateStore } from './store';
export type { StateChangedEvent, SummaryStore, SystemSummary } from './summary-store';
export { createSummaryStore, REMOVED, summarize } from './summary-store';
export type { TableName } from './tables';
export { indexName, TABLES, triggerName } from './tables';
export type { TokenRecord } from './token-repo';
export { hashToken, TOKEN_PREFIX, TokenRepo } from './token-repo';
