// The monitor's memory between cycles: a plain value passed into each cycle and returned from it.
import type { MonitorMemory } from './types';

/** The memory of a monitor that has seen nothing yet. */
export function emptyMonitorMemory(): MonitorMemory {
  return { present: [], stops: {}, stopped: {}, locks: {}, guests: {} };
}
