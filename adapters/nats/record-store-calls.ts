// The record store's calls (adapters/nats/record-store.ts): each bounded in time, the JetStream client's errors
// mapped to the store's typed ones, a refused compare-and-set reported as the conflict it is, and the bucket found
// or created on open.
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import type { Kvm } from '@nats-io/kv';
import { TimeoutError } from '@nats-io/transport-node';
import { RecordKeyError, RecordValueError } from '../../protocol';
import type { Clock } from '../clock';

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

const isWrongRevision = (err: unknown): boolean =>
  err instanceof JetStreamApiError &&
  (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
    err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);

const isStreamNotFound = (err: unknown): boolean =>
  err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;
/** 10058: a stream of that name exists with another configuration. */
const isNameInUse = (err: unknown): boolean => err instanceof JetStreamApiError && err.code === 10058;

/**
 * Finds the bucket and checks its replicas (kv.create takes an existing bucket as it is), or creates it with the
 * library's defaults for the server (history 1, discard new, rollup headers). As in adapters/nats/lease-store.ts: on
 * nats-server 2.9 a create racing another core's, and a status asked while the new stream has no leader yet, can go
 * unanswered; each try is bounded by the client's timeout and tried again until the open bound is over (`gaveUp`).
 */
export async function ensureBucket(kvm: Kvm, bucket: string, replicas: number, gaveUp: () => boolean): Promise<void> {
  const kv = await kvm.open(bucket);
  const again = (err: unknown) => !gaveUp() && (err instanceof TimeoutError || isNameInUse(err));
  for (;;) {
    const status = await kv.status().catch((err: unknown) => {
      if (isStreamNotFound(err)) return 'missing' as const;
      if (again(err)) return 'unanswered' as const;
      throw err;
    });
    if (status === 'unanswered') continue;
    if (status !== 'missing') {
      if (status.replicas === replicas) return;
      throw new RecordStoreError(`bucket ${bucket} has ${status.replicas} replicas, expected ${replicas}`, '');
    }
    try {
      await kvm.create(bucket, { replicas, history: 1 });
      return;
    } catch (err) {
      // Made by another core at the same moment (with other options, the next status says so), or unanswered.
      if (!again(err)) throw err;
    }
  }
}

export class RecordStoreCalls {
  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    private readonly bucket: string,
  ) {}

  /** Runs `call` within `timeoutMs` (default the store's); maps the client's errors to the store's. */
  async bounded<T>(key: string, what: string, timeoutMs: number | undefined, call: () => Promise<T>): Promise<T> {
    const limit = (timeoutMs ?? this.timeoutMs) + 250;
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = this.clock.setTimeout(
        () => reject(new RecordStoreTimeoutError(`${what} (${this.bucket}): no answer within ${limit} ms`, key, limit)),
        limit,
      );
    });
    try {
      return await Promise.race([call(), expired]);
    } catch (err) {
      if (
        err instanceof RecordStoreError ||
        err instanceof RecordValueError ||
        err instanceof RecordKeyError ||
        err instanceof RangeError
      ) {
        throw err;
      }
      if (err instanceof TimeoutError) {
        throw new RecordStoreTimeoutError(`${what} (${this.bucket}): no answer in time`, key, limit, { cause: err });
      }
      throw new RecordStoreError(`${what} (${this.bucket}): ${(err as Error).message}`, key, { cause: err });
    } finally {
      if (timer !== undefined) this.clock.clearTimeout(timer);
    }
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
