// The monitor's limits when the config file sets none.
import type { MonitorThresholds } from './types';

/** A fresh, mutable copy of the default monitor thresholds. */
export function createDefaultMonitorThresholds(): MonitorThresholds {
  return {
    hostCpu: { warning: 0.9, critical: 0.98 },
    hostMem: { warning: 0.9, critical: 0.97 },
    hostDisk: { warning: 0.85, critical: 0.95 },
    vmMem: { warning: 0.95, critical: 0.99 },
    guestDisk: { warning: 0.85, critical: 0.95 },
    guestLoadPerCpu: { warning: 2, critical: 4 },
    hysteresis: 0.05,
    crashLoopStops: 3,
    crashLoopWindowMs: 10 * 60_000,
    lockMaxMs: 30 * 60_000,
    backupLockMaxMs: 12 * 3600_000,
    taskMaxMs: 60 * 60_000,
    requestExecutingMaxMs: 30 * 60_000,
    unreachableAfter: 2,
  };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** The default monitor thresholds (frozen: copy with createDefaultMonitorThresholds() to change them). */
export const defaultMonitorThresholds: MonitorThresholds = deepFreeze(createDefaultMonitorThresholds());
