// The record store's calls (adapters/nats/record-store.ts): each bounded in time, the JetStream client's errors
// mapped to the store's typed ones, a refused compare-and-set reported as the conflict it is, and reads of many
// entries that go on without a consumer when none can be had.
import { TimeoutError } from '@nats-io/transport-node';
import { RecordKeyError, RecordValueError } from '../../protocol';
import type { Clock } from '../clock';
import { boundedCall, isWrongRevision } from './kv-bucket';

/** A record call failed (no JetStream, a refused write other than a conflict, a lost connection, ...). */
export class RecordStoreError extends Error {
  override name = 'RecordStoreError';
  constructor(
    message: string,
    /** The key, prefix or audit subject it was about ('' for the record as a whole). */
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** No answer within the bound: a write may or may not have been stored. */
export class RecordStoreTimeoutError extends RecordStoreError {
  override name = 'RecordStoreTimeoutError';
  constructor(
    message: string,
    key: string,
    readonly timeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super(message, key, options);
  }
}

/**
 * A compare-and-set was refused: the key (or the cluster's audit subject) is no longer at the revision the writer
 * expected. Another core wrote since: this one is not, or no longer, the owner.
 */
export class RecordConflictError extends RecordStoreError {
  override name = 'RecordConflictError';
  constructor(
    message: string,
    key: string,
    /** The revision (or last audit sequence) the write expected; 0 for a new key or an empty audit record. */
    readonly expected: number,
    options?: { cause?: unknown },
  ) {
    super(message, key, options);
  }
}

/** After a consumer was not made in time, how long reads go without one before they ask again. */
export const NO_CONSUMERS_MS = 10_000;

export class RecordStoreCalls {
  /** Until when reads go without a consumer (clock time; see consumerOr). */
  private noConsumersUntil = 0;

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    private readonly bucket: string,
  ) {}

  /**
   * `read` with the consumer `make` makes, or `without` one when making it times out: on a cluster JetStream's meta
   * leader makes consumers, and it may be moving (a server stopped) while the stream leaders answer reads. For
   * NO_CONSUMERS_MS after such a timeout, reads go without one at once rather than wait for it again.
   */
  async consumerOr<C, T>(make: () => Promise<C>, read: (consumer: C) => Promise<T>, without: () => Promise<T>) {
    if (this.clock.now() < this.noConsumersUntil) return without();
    let consumer: C;
    try {
      consumer = await make();
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      this.noConsumersUntil = this.clock.now() + NO_CONSUMERS_MS;
      return without();
    }
    return read(consumer);
  }

  /** Runs `call` within `timeoutMs` (default the store's); maps the client's errors to the store's. */
  bounded<T>(key: string, what: string, timeoutMs: number | undefined, call: () => Promise<T>): Promise<T> {
    const limit = (timeoutMs ?? this.timeoutMs) + 250;
    return boundedCall(
      this.clock,
      limit,
      call,
      (ms) => new RecordStoreTimeoutError(`${what} (${this.bucket}): no answer within ${ms} ms`, key, ms),
      (err) => {
        if (
          err instanceof RecordStoreError ||
          err instanceof RecordValueError ||
          err instanceof RecordKeyError ||
          err instanceof RangeError
        ) {
          return err;
        }
        if (err instanceof TimeoutError) {
          return new RecordStoreTimeoutError(`${what} (${this.bucket}): no answer in time`, key, limit, { cause: err });
        }
        // No responder for the bucket's stream (the client's JetStreamNotEnabled, not exported by name): on a cluster
        // just formed or re-forming, its leader is not there yet.
        // Nothing was written; as after a timeout, the call may be tried again.
        if (err instanceof Error && err.name === 'JetStreamNotEnabled') {
          const why = 'no stream answered (a new or re-forming cluster: no leader yet)';
          return new RecordStoreTimeoutError(`${what} (${this.bucket}): ${why}`, key, limit, { cause: err });
        }
        return new RecordStoreError(`${what} (${this.bucket}): ${(err as Error).message}`, key, { cause: err });
      },
    );
  }

  /** Runs a write that expects `expected`; a refusal for another revision is a RecordConflictError. */
  async cas<T>(key: string, expected: number, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (!isWrongRevision(err)) throw err;
      const at = expected === 0 ? 'to be new' : `at revision ${expected}`;
      throw new RecordConflictError(`'${key}' is no longer as expected (${at}): another core wrote it`, key, expected, {
        cause: err,
      });
    }
  }
}
