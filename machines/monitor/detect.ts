// One monitor cycle: run every detector over the snapshot, and say which conditions cleared since the last cycle.
// Pure: the same input and memory give the same result.
import { detectClusters } from './detectors/clusters';
import { detectGuests } from './detectors/guests';
import { detectHosts } from './detectors/hosts';
import { detectStuckRequests } from './detectors/requests';
import { detectTasks } from './detectors/tasks';
import { detectStuckLocks } from './detectors/vm-locks';
import { detectVmStops } from './detectors/vm-stops';
import { detectVmUsage } from './detectors/vm-usage';
import { emptyMonitorMemory } from './memory';
import type { Condition, Detector, DetectorScope, MonitorInput, MonitorMemory, MonitorResult } from './types';

/** Every detector, in the order their conditions are listed. */
export const DETECTORS: readonly Detector[] = [
  detectClusters,
  detectHosts,
  detectVmStops,
  detectStuckLocks,
  detectVmUsage,
  detectTasks,
  detectGuests,
  detectStuckRequests,
];

/** Conditions present now, conditions cleared since `memory` was returned, and the memory for the next cycle. */
export function detectConditions(
  input: MonitorInput,
  memory: MonitorMemory = emptyMonitorMemory(),
  detectors: readonly Detector[] = DETECTORS,
): MonitorResult {
  const previously = new Set(memory.present);
  const scope: DetectorScope = { input, before: memory, wasPresent: (key) => previously.has(key) };
  const next: MonitorMemory = { ...memory };
  const byKey = new Map<string, Condition>();
  for (const detector of detectors) {
    const out = detector(scope);
    Object.assign(next, out.memory);
    // One condition per dedupe key: the first found wins.
    for (const found of out.conditions) if (!byKey.has(found.dedupeKey)) byKey.set(found.dedupeKey, found);
  }
  const conditions = [...byKey.values()];
  next.present = conditions.map((c) => c.dedupeKey);
  const cleared = memory.present.filter((key) => !byKey.has(key));
  return { conditions, cleared, memory: next };
}
