// What the lease store and the record store share about their JetStream KV buckets: the server's refusals they tell
// apart, a call bounded in time on the injected clock, and finding or creating a bucket with the replicas asked.
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import type { Kvm } from '@nats-io/kv';
import { TimeoutError } from '@nats-io/transport-node';
import type { Clock } from '../clock';

/** A compare-and-set refused: the key's (or the stream's) last revision is not the expected one. */
export const isWrongRevision = (err: unknown): boolean =>
  err instanceof JetStreamApiError &&
  (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
    err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);

export const isStreamNotFound = (err: unknown): boolean =>
  err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;

/** 10058: a stream of that name exists with another configuration. */
const isNameInUse = (err: unknown): boolean => err instanceof JetStreamApiError && err.code === 10058;

/**
 * Runs `call` within `limitMs` on `clock`: past it, rejects with `onTimeout(limitMs)`; any error of the call goes
 * through `mapError` (the store's typed errors).
 */
export async function boundedCall<T>(
  clock: Clock,
  limitMs: number,
  call: () => Promise<T>,
  onTimeout: (limitMs: number) => Error,
  mapError: (err: unknown) => Error,
): Promise<T> {
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => reject(onTimeout(limitMs)), limitMs);
  });
  try {
    return await Promise.race([call(), expired]);
  } catch (err) {
    throw mapError(err);
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
  }
}

/**
 * Finds the bucket and checks its replicas (kv.create takes an existing bucket as it is), or creates it with the
 * library's defaults for the server (history 1, discard new, rollup headers). On nats-server 2.9 a create racing
 * another core's, and a status asked while the new stream has no leader yet, can go unanswered: each try is bounded
 * by the client's timeout and tried again until the open bound is over (`gaveUp`). A bucket with other replicas is
 * refused with `mismatch(message)`.
 */
export async function ensureKvBucket(
  kvm: Kvm,
  bucket: string,
  replicas: number,
  gaveUp: () => boolean,
  mismatch: (message: string) => Error,
): Promise<void> {
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
      throw mismatch(`bucket ${bucket} has ${status.replicas} replicas, expected ${replicas}`);
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
