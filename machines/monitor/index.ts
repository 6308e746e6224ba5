// The monitor, pure: detectors over a snapshot of the world, and the remediation policies for what they find.

export type { ParsedSubject } from './condition';
export { condition, conditionKey, duration, parseSubject, subjectOf, usageSeverity } from './condition';
export { DETECTORS, detectConditions } from './detect';
export { detectClusters } from './detectors/clusters';
export { detectGuests } from './detectors/guests';
export { detectHosts } from './detectors/hosts';
export { detectStuckRequests } from './detectors/requests';
export { detectTasks, taskSucceeded } from './detectors/tasks';
export { detectStuckLocks } from './detectors/vm-locks';
export { detectVmStops } from './detectors/vm-stops';
export { detectVmUsage } from './detectors/vm-usage';
export { emptyMonitorMemory } from './memory';
export type { IncidentHistoryEntry, Remediation, RemediationContext, RemediationPolicyConfig } from './policies';
export {
  actionsInWindow,
  createDefaultRemediationPolicyConfig,
  decideRemediation,
  defaultRemediationPolicyConfig,
  REMEDIATION_REASONS,
  RESTART_ACTIONS,
} from './policies';
export { createDefaultMonitorThresholds, defaultMonitorThresholds } from './thresholds';
export type {
  Condition,
  ConditionKind,
  Detector,
  DetectorMemory,
  DetectorScope,
  GuestMemory,
  MonitoredHost,
  MonitoredRequest,
  MonitoredTask,
  MonitoredVm,
  MonitorInput,
  MonitorMemory,
  MonitorResult,
  MonitorThresholds,
  Severity,
  SshResult,
  UsageThreshold,
  VmIssueRecord,
} from './types';
export { CONDITION_KINDS } from './types';
