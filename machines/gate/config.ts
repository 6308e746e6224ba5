// The gate limits used when the config file sets none.
import type { GateConfig } from '../types';

/** A fresh, mutable copy of the default gate limits. */
export function createDefaultGateConfig(): GateConfig {
  return {
    production: { tags: ['production'], vms: [], requireApproval: true },
    massOperation: { maxVmsPerRequest: 10, maxDestructivePerWindow: 3, windowSeconds: 600, onExceed: 'approval' },
    deploy: { maxCount: 10, maxVmsPerCluster: 500 },
    capacity: { memReserveFraction: 0.1, diskReserveFraction: 0.1, maxCpuLoad: 0.9 },
    ha: 'deny',
    commands: { allowed: [] },
    approvalTimeoutSeconds: 3600,
  };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** The default gate limits (frozen: copy with createDefaultGateConfig() or spread to change them). */
export const defaultGateConfig: GateConfig = deepFreeze(createDefaultGateConfig());
