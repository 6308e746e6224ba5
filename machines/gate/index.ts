// The request gate: pure, ordered checks that decide whether a request is approved, denied or needs approval.

export { EXPANSION_CHECK, runBulkChecks } from './bulk';
export { authorizationCheck } from './checks/authorization';
export { BACKUP_GUARDED_ACTIONS, backupCheck, backupRuleFor } from './checks/backup';
export { capacityCheck } from './checks/capacity';
export { BACKUP_LOCK, conflictsCheck } from './checks/conflicts';
export { HA_CONTROLLED_ACTIONS, haCheck } from './checks/ha';
export { maintenanceCheck } from './checks/maintenance';
export { destructiveInWindow, massOperationCheck } from './checks/mass-operation';
export { parentCheck, sameValue } from './checks/parent';
export { platformHealthCheck } from './checks/platform-health';
export { isProductionVm, productionCheck } from './checks/production';
export { checkSchema, schemaCheck, schemaProblems, validateRequest } from './checks/schema';
export { snapshotNameCheck } from './checks/snapshot-name';
export { targetCheck } from './checks/target';
export { createDefaultGateConfig, defaultGateConfig } from './config';
export { guestNoun, vmLabel } from './describe';
export type { DrainMove, DrainPlan, DrainPlanning } from './drain-plan';
export { describeDrainPlan, drainMembers, planDrain } from './drain-plan';
export {
  combineChecks,
  evaluateGate,
  gateChecks,
  isDenial,
  memberChecks,
  runCheck,
  runChecks,
  SKIPPED_REASON,
  skippedResult,
} from './evaluate';
export type { BulkExpanding, BulkExpansion, LeftOutMember } from './expansion';
export { bulkLabel, bulkMembers, expandBulk, isBulkRequest, memberInputs, memberSpec } from './expansion';
export { powerActionInEffect } from './in-effect';
export { evaluateLabGate, type LabDecisionInput, type LabGateCheck, labGateChecks, runLabChecks } from './lab-gate';
export { nothingToDo, settleNothingToDo } from './nothing-to-do';
export type { RecheckResult, RecheckStage } from './recheck';
export { recheckedChecks, recheckRequest } from './recheck';
export type { Selector, SelectorExpansion, SelectorParse, SelectorTerm } from './selector';
export { expandSelector, MAX_SELECTOR_LENGTH, parseSelector } from './selector';
export type { BackupFact, BulkUnit, CheckVerdict, GateCheck, GateInput, SnapshotListing } from './types';
