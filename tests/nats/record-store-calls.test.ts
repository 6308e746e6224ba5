// The record store's calls map the JetStream client's errors to the store's typed ones. A call no stream answered (the
// client's JetStreamNotEnabled: no responder for the bucket's subject, as on a cluster whose stream has no leader yet,
// seen when three servers had just formed) is a timeout, which callers try again, not a failure that ends the start.
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../adapters/clock';
import { RecordStoreCalls, RecordStoreError, RecordStoreTimeoutError } from '../../adapters/nats/record-store-calls';

/** A put whose client call fails with an error of `name`, through the store's calls. */
const putFailing = (name: string, message: string) =>
  new RecordStoreCalls(new SimulatedClock(0), 1_000, 'OVERSEER_RECORD_t').bounded(
    'k',
    'put record key k',
    undefined,
    () => Promise.reject(Object.assign(new Error(message), { name })),
  );

describe('record store calls', () => {
  it('record store calls - no stream answering is a timeout (tried again); another refusal stays a store error', async () => {
    const notEnabled = putFailing('JetStreamNotEnabled', 'jetstream is not enabled');
    await expect(notEnabled).rejects.toBeInstanceOf(RecordStoreTimeoutError);
    await expect(notEnabled).rejects.toThrow(/no stream answered/);
    const refused = putFailing('JetStreamApiError', 'insufficient resources');
    await expect(refused).rejects.toBeInstanceOf(RecordStoreError);
    await expect(refused).rejects.not.toBeInstanceOf(RecordStoreTimeoutError);
  });
});
