// An Overseer runtime on a temp SQLite file and a simulated clock, for runtime tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../actors/config';
import { Overseer } from '../../actors/overseer';
import { SimulatedClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import type { Notifier } from '../../adapters/notify';
import type { Platform } from '../../adapters/platform/types';
import { StateStore } from '../../state';

export interface RuntimeHarness {
  dir: string;
  dbPath: string;
  clock: SimulatedClock;
  log: ReturnType<typeof createMemoryLog>;
  store: StateStore;
  overseer: Overseer;
  events: { subject: string; payload: unknown }[];
  reopen(): RuntimeHarness;
  close(): void;
}

export function createRuntime(
  options: {
    dir?: string;
    config?: unknown;
    platforms?: Map<string, Platform>;
    clock?: SimulatedClock;
    /** Made for each runtime (a reopened one gets a new one, as a restarted process would). */
    notifier?: (deps: { clock: SimulatedClock; log: ReturnType<typeof createMemoryLog> }) => Notifier;
  } = {},
): RuntimeHarness {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'overseer-rt-'));
  const dbPath = join(dir, 'overseer.db');
  const clock = options.clock ?? new SimulatedClock(Date.UTC(2026, 0, 1));
  const log = createMemoryLog(clock);
  const store = StateStore.open(dbPath);
  const events: { subject: string; payload: unknown }[] = [];
  const overseer = new Overseer({
    clock,
    log,
    config: parseConfig(options.config ?? {}),
    store,
    platforms: options.platforms ?? new Map(),
    events: { publish: (subject, payload) => events.push({ subject, payload }) },
    notifier: options.notifier?.({ clock, log }),
  });
  const harness: RuntimeHarness = {
    dir,
    dbPath,
    clock,
    log,
    store,
    overseer,
    events,
    reopen() {
      overseer.stop();
      store.close();
      return createRuntime({ ...options, dir, clock });
    },
    close() {
      overseer.stop();
      store.close();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}
