// A core opening its buckets at start (actors/multi-core.ts `patiently`): JetStream not answering in time is tried
// again a few times; any other error, or the last timeout, stops the start with that error.
import { describe, expect, it } from 'vitest';
import { patiently } from '../../actors/multi-core';
import type { Clock } from '../../adapters/clock';
import { SystemClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import { RecordStoreError, RecordStoreTimeoutError } from '../../adapters/nats';

const slept: number[] = [];
const system = new SystemClock();
const clock: Clock = {
  now: () => system.now(),
  setTimeout: (fn, ms) => system.setTimeout(fn, ms),
  clearTimeout: (h) => system.clearTimeout(h),
  sleep: async (ms) => {
    slept.push(ms);
  },
};
const log = createMemoryLog(clock, 'error');
const timeout = () => new RecordStoreTimeoutError('open the record (OVERSEER_RECORD_x): no answer in time', '', 15_000);

describe('open patiently', () => {
  it('open patiently - a bucket that times out twice is opened on the third try', async () => {
    slept.length = 0;
    let calls = 0;
    const opened = await patiently('the record', clock, log, async () => {
      calls++;
      if (calls < 3) throw timeout();
      return 'open';
    });
    expect(opened).toBe('open');
    expect(slept).toEqual([1_000, 2_000]);
  });

  it('open patiently - another error stops at once, and the last timeout is thrown as it is', async () => {
    let calls = 0;
    const refused = new RecordStoreError('bucket OVERSEER_RECORD_x has 1 replicas, expected 3', '');
    await expect(
      patiently('the record', clock, log, async () => {
        calls++;
        throw refused;
      }),
    ).rejects.toBe(refused);
    expect(calls).toBe(1);
    await expect(patiently('the record', clock, log, async () => Promise.reject(timeout()))).rejects.toBeInstanceOf(
      RecordStoreTimeoutError,
    );
  });
});
