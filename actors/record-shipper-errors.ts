// The record shipper's typed errors (actors/record-shipper.ts) and what it reports about itself.
import { RecordStoreError, RecordStoreTimeoutError } from '../adapters/nats/record-store';

/**
 * A compare-and-set of this cluster's record was refused: another core wrote it since, so this core is not, or no
 * longer, its owner. The shipper stops for good; every replicate() after rejects with this error.
 */
export class RecordOwnershipLostError extends Error {
  override name = 'RecordOwnershipLostError';
  constructor(
    message: string,
    readonly cluster: string,
    /** The record key (or audit subject) whose write was refused. */
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The shipper was closed (its runtime stopped): nothing more is shipped. */
export class RecordShipperClosedError extends Error {
  override name = 'RecordShipperClosedError';
  constructor(readonly cluster: string) {
    super(`the record shipper of cluster ${cluster} is closed`);
  }
}

/** An entity or audit row of this database cannot be described as a record value: it was not shipped. */
export class RecordShipError extends Error {
  override name = 'RecordShipError';
  constructor(
    message: string,
    readonly cluster: string,
    /** What could not be shipped (`request <id>`, `audit row <seq>`, ...). */
    readonly what: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface RecordShipperStatus {
  /** shipping: at work; lost: another core wrote the record (stopped for good); closed: its runtime stopped. */
  state: 'shipping' | 'lost' | 'closed';
  /** Entities changed here and not in the record yet. */
  pendingEntities: number;
  /** Audit rows appended here and not in the record yet. */
  pendingAuditRows: number;
  /** Entity values put, and audit batches appended, since the start. */
  puts: number;
  batches: number;
  /** Shipping rounds that failed (the record unreachable, the lease not valid, ...). */
  failures: number;
  lastError?: string | undefined;
}

/**
 * A record failure that may pass: no answer in time, or the client's own error (no connection, no JetStream leader,
 * ...). A refusal made before anything was sent (a value over the server's payload limit) never passes.
 */
export function isTransientRecordError(error: unknown): boolean {
  return error instanceof RecordStoreTimeoutError || (error instanceof RecordStoreError && error.cause !== undefined);
}
