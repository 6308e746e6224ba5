// What the benchmarks that run the core in their own process share: a log that writes nothing, and the Overseer
// runtime on a store with no platform (its fleet comes from `observe()`), its events handed to `publish`.
import { parseConfig } from '../actors/config';
import type { EventSink } from '../actors/overseer';
import { Overseer } from '../actors/overseer';
import { SystemClock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import type { StateStore } from '../state';

export const quietLog: Log = { stateChange() {}, info() {}, warn() {}, error() {} };

/** The runtime with the default configuration, no platform and no loops started. */
export function offlineOverseer(store: StateStore, publish: EventSink['publish']): Overseer {
  return new Overseer({
    clock: new SystemClock(),
    log: quietLog,
    config: parseConfig({}),
    store,
    platforms: new Map(),
    events: { publish },
  });
}
