// The request gate: pure, ordered checks that decide whether a request is approved, denied or needs approval.
export { authorizationCheck } from './checks/authorization';
export { capacityCheck } from './checks/capacity';
export { conflictsCheck } from './checks/conflicts';
export { HA_CONTROLLED_ACTIONS, haCheck } from './checks/ha';
export { maintenanceCheck } from './checks/maintenance';
export { destructiveInWindow, massOperationCheck } from './checks/mass-operation';
export { platformHealthCheck } from './checks/platform-health';
export { isProductionVm, productionCheck } from './checks/production';
export { checkSchema, schemaCheck, schemaProblems, validateRequest } from './checks/schema';
export { snapshotNameCheck } from './checks/snapshot-name';
export { targetCheck } from './checks/target';
export { createDefaultGateConfig, defaultGateConfig } from './config';
export {
  combineChecks,
  evaluateGate,
  gateChecks,
  isDenial,
  runCheck,
  runChecks,
  SKIPPED_REASON,
  skippedResult,
} from './evaluate';
export { nothingToDo, settleNothingToDo } from './nothing-to-do';
export type { RecheckResult, RecheckStage } from './recheck';
export { recheckedChecks, recheckRequest } from './recheck';
export type { CheckVerdict, GateCheck, GateInput, SnapshotListing } from './types';
