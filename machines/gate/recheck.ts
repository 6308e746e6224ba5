// Approval is not a blank cheque (DESIGN §11): when a request is approved, and again right before its first
// platform call, the checks whose facts can change while it waited run again against the current view.
import type { CheckResult } from '../types';
import { backupCheck } from './checks/backup';
import { capacityCheck } from './checks/capacity';
import { conflictsCheck } from './checks/conflicts';
import { haCheck } from './checks/ha';
import { maintenanceCheck } from './checks/maintenance';
import { platformHealthCheck } from './checks/platform-health';
import { productionCheck } from './checks/production';
import { snapshotNameCheck } from './checks/snapshot-name';
import { targetCheck } from './checks/target';
import { runChecks } from './evaluate';
import type { GateCheck, GateInput } from './types';

/**
 * The checks about facts that change while a request waits: target, maintenance, production, capacity, locks, health,
 * HA, backups, and the guest's snapshots (the platform's facts are read again before execution: actors/gate-service).
 */
export const recheckedChecks: readonly GateCheck[] = [
  targetCheck,
  maintenanceCheck,
  productionCheck,
  capacityCheck,
  conflictsCheck,
  platformHealthCheck,
  haCheck,
  backupCheck,
  snapshotNameCheck,
];

export type RecheckStage = 'approval' | 'execution';

/** What a re-check found: `reason` is set when the request no longer passes. */
export interface RecheckResult {
  stage: RecheckStage;
  checks: CheckResult[];
  reason?: string | undefined;
}

/**
 * Runs the re-checked checks. A denial fails the request; so does a check that now asks for approval when no
 * person approved the request (at the approval stage the approval is being given).
 */
export function recheckRequest(input: GateInput, stage: RecheckStage, approvedByPerson: boolean): RecheckResult {
  const checks = runChecks(input, recheckedChecks);
  const denial = checks.find((c) => c.outcome === 'deny');
  const approved = stage === 'approval' || approvedByPerson;
  const unapproved = approved ? undefined : checks.find((c) => c.outcome === 'approval');
  const failing = denial ?? unapproved;
  if (!failing) return { stage, checks };
  const when = stage === 'approval' ? 'when approved' : 'before execution';
  const what = denial ? failing.reason : `${failing.reason}, but nobody approved it`;
  return { stage, checks, reason: `no longer passes the gate ${when}: ${what}` };
}
