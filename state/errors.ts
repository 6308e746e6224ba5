// Typed errors of the state layer. Each has a `name` and keeps its `cause`.

/** Base of every state-layer failure. */
export class StateError extends Error {
  override name = 'StateError';
}

/** The database file could not be opened or configured (not a database, WAL refused, ...). */
export class DatabaseOpenError extends StateError {
  override name = 'DatabaseOpenError';
  constructor(
    message: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A migration failed (its transaction was rolled back) or the migration list itself is malformed. */
export class MigrationError extends StateError {
  override name = 'MigrationError';
  constructor(
    message: string,
    /** The migration that failed, when one did. */
    readonly version?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The database was written by a newer Overseer: its schema version is above every migration this code knows. */
export class SchemaTooNewError extends MigrationError {
  override name = 'SchemaTooNewError';
  constructor(
    readonly dbVersion: number,
    readonly knownVersion: number,
  ) {
    super(
      `database schema version ${dbVersion} is newer than this Overseer knows (${knownVersion}); refusing to open it`,
      dbVersion,
    );
  }
}

/** A value cannot be stored as JSON (circular, BigInt, or nothing at all). */
export class SerializationError extends StateError {
  override name = 'SerializationError';
  constructor(
    message: string,
    readonly what: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A stored row cannot be read back (invalid JSON in a column). */
export class CorruptRecordError extends StateError {
  override name = 'CorruptRecordError';
  constructor(
    message: string,
    readonly table: string,
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class RequestNotFoundError extends StateError {
  override name = 'RequestNotFoundError';
  constructor(readonly requestId: string) {
    super(`request ${requestId} does not exist`);
  }
}

/** A request with the same id, or the same requester + idempotency key, is already stored. */
export class DuplicateRequestError extends StateError {
  override name = 'DuplicateRequestError';
  constructor(
    message: string,
    readonly field: 'id' | 'idempotencyKey',
    readonly requestId: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The audit chain is broken: appending onto it, or asserting it intact, was refused. */
export class AuditChainError extends StateError {
  override name = 'AuditChainError';
  constructor(
    message: string,
    /** The first sequence number found wrong. */
    readonly seq: number,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
