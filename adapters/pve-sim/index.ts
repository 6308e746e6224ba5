// PVE simulator: a real HTTP(S) server answering like Proxmox VE 8's API (/api2/json), with tasks that
// take clock time, locks, quorum, auth, and fault injection (handle.faults or /_sim/faults/*).

export { AGENT_PING_TIMEOUT_MS, AGENT_READY_S } from './agent';
export type { Principal } from './auth';
export { TICKET_LIFETIME_S } from './auth';
export type {
  SimBackup,
  SimBackupJob,
  SimBackupJobSeed,
  SimBackupSeed,
  SimStorage,
  SimStorageSeed,
  SimStorageType,
} from './backup-types';
export { generateTestCertificates, type TestCertificates } from './certificates';
export { CONTROL_ROUTES } from './control-api';
export {
  CertificateError,
  LockTimeoutError,
  PveHttpError,
  PveParamError,
  SimConfigError,
  SimStoppedError,
  TaskError,
} from './errors';
export type { FaultsView, HttpErrorFault, HttpErrorOptions } from './faults';
export { SimFaults } from './faults';
export { HA_DISPATCH_MS, HA_USER } from './ha';
export { JSON_CONTENT_TYPE } from './http-server';
export {
  readSavedState,
  restoreState,
  SAVED_TASKS_PER_NODE,
  type SavedSimState,
  StatePersister,
  saveState,
  UNEXPECTED_TASK_END,
  writeSavedState,
} from './persistence';
export type { SdnConfig, SdnSection, SdnValue, SimPool, SimPoolSeed, SimSdn } from './sdn-types';
export { demoSeed, type LargeSeedOptions, largeSeed } from './seeds';
export { SIM_ACTIONS } from './sim-actions';
export { DEFAULT_LOCK_WAIT_MS, type Simulator, startSimulator } from './simulator';
export { DEFAULT_TASK_DURATIONS } from './tasks';
export type {
  OpLogEntry,
  SimNode,
  SimNodeSeed,
  SimRole,
  SimSeed,
  SimSnapshot,
  SimState,
  SimTask,
  SimToken,
  SimUser,
  SimulatorOptions,
  SimVm,
  SimVmSeed,
  TaskType,
} from './types';
export { decodeUpid, encodeUpid, type UpidParts } from './upid';
export type * from './wire-types';
