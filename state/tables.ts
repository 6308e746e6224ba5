// Every table name, in one place. SQL elsewhere in state/ interpolates these; nothing spells a table name twice.

export const TABLES = {
  schemaMigrations: 'schema_migrations',
  vms: 'vms',
  hosts: 'hosts',
  clusters: 'clusters',
  requests: 'requests',
  requestStatusHistory: 'request_status_history',
  actorSnapshots: 'actor_snapshots',
  audit: 'audit',
  auditHead: 'audit_head',
  meta: 'meta',
  apiTokens: 'api_tokens',
  incidents: 'incidents',
  knowledgeDocuments: 'knowledge_documents',
  maintenanceWindows: 'maintenance_windows',
  silences: 'silences',
  labs: 'labs',
  labEvents: 'lab_events',
} as const;

export type TableKey = keyof typeof TABLES;
export type TableName = (typeof TABLES)[TableKey];

/** SQLite's own table that keeps AUTOINCREMENT counters (read by the audit check). */
export const SQLITE_SEQUENCE = 'sqlite_sequence';

/**
 * The audit actor Overseer writes its own rows under (machines/types.ts OVERSEER_ID): most rows of the log (every
 * request status change, every VM issue). The (actor, seq) index leaves them out (migration v12).
 */
export const AUDIT_SELF_ACTOR = 'overseer';

/** Name of an index on `table` over `columns`: `idx_<table>_<col>_<col>`. */
export const indexName = (table: TableName, ...columns: string[]): string => `idx_${table}_${columns.join('_')}`;

/** Name of a trigger on `table`: `trg_<table>_<what>`. */
export const triggerName = (table: TableName, what: string): string => `trg_${table}_${what}`;
