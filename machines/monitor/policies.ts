// Remediation policies: what Overseer does about a condition. Pure: the incident history of the subject, the time
// and the platform's state are given; the restart intensity (at most N restarts in T seconds per VM, then escalate
// and stop trying, like an OTP supervisor) is counted over the action times in that history.
import { vmLabel } from '../gate/describe';
import type { IncidentActionEntry, IncidentStatus } from '../incident.machine';
import type { Action, ClusterInfo, HostInfo, RequestParams, RequestTarget, VmInfo } from '../types';
import { parseSubject } from './condition';
import type { Condition, ConditionKind } from './types';

export interface RemediationPolicyConfig {
  /** Restart intensity per VM: at most `maxRestarts` automatic starts/reboots within `withinSeconds`. */
  restart: { maxRestarts: number; withinSeconds: number };
  /** May Overseer start or reboot a production VM by itself? */
  allowProduction: boolean;
  /** Failed SSH checks in a row before an unreachable guest is rebooted. */
  unreachableBeforeReboot: number;
  /** A shell command to run on the subject (over SSH) for a condition kind, e.g. `guest-disk-high`. */
  commands: Partial<Record<ConditionKind, string>>;
  /** Condition kinds escalated at once: a person must look. */
  escalate: ConditionKind[];
}

/** A fresh, mutable copy of the default remediation policy. */
export function createDefaultRemediationPolicyConfig(): RemediationPolicyConfig {
  return {
    restart: { maxRestarts: 3, withinSeconds: 600 },
    allowProduction: false,
    unreachableBeforeReboot: 3,
    commands: {},
    escalate: ['vm-crash-loop', 'guest-host-key-changed'],
  };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** The default remediation policy (frozen: copy with createDefaultRemediationPolicyConfig() to change it). */
export const defaultRemediationPolicyConfig: RemediationPolicyConfig = deepFreeze(
  createDefaultRemediationPolicyConfig(),
);

/** One past or present incident of the subject, as far as the policy needs it. */
export interface IncidentHistoryEntry {
  id?: string | undefined;
  kind: string;
  status: IncidentStatus;
  openedAt: number;
  resolvedAt?: number | undefined;
  actions: readonly IncidentActionEntry[];
}

export interface RemediationContext {
  /** The incidents of the condition's subject (the current one included), any status. */
  history: readonly IncidentHistoryEntry[];
  /** epoch ms, from the injected clock */
  now: number;
  config: RemediationPolicyConfig;
  vm?: VmInfo | undefined;
  /** The VM's node, or the subject node. */
  host?: HostInfo | undefined;
  cluster?: ClusterInfo | undefined;
  isProduction: boolean;
}

export type Remediation =
  /** Submit a request (origin `overseer`); it goes through the gate like any other. */
  | {
      kind: 'request';
      action: Action;
      target: RequestTarget;
      params?: RequestParams | undefined;
      force?: boolean | undefined;
      reason: string;
    }
  /** Tell a person; do nothing else. */
  | { kind: 'notify'; reason: string }
  /** Run `command` on `target` (an actor id) over SSH. */
  | { kind: 'command'; command: string; target: string; reason: string }
  /** Give up: the incident is escalated and Overseer stops trying. */
  | { kind: 'escalate'; reason: string }
  | { kind: 'none'; reason: string };

/** Reasons the policy gives when it leaves a VM alone because someone else owns its fate. */
export const REMEDIATION_REASONS = {
  ha: 'left to Proxmox HA',
  hostOffline: 'host offline',
  noQuorum: 'cluster has no quorum',
  clusterUnreachable: 'cluster unreachable',
} as const;

/** Actions that count against the restart intensity. */
export const RESTART_ACTIONS: ReadonlySet<string> = new Set(['start', 'reboot', 'resume']);

/** Times of the actions in `history` matching `counted`, inside the window ending at `now`. */
export function actionsInWindow(
  history: readonly IncidentHistoryEntry[],
  counted: (action: IncidentActionEntry) => boolean,
  now: number,
  withinMs: number,
): number[] {
  return history
    .flatMap((incident) => incident.actions)
    .filter((a) => counted(a) && a.at <= now && now - a.at < withinMs)
    .map((a) => a.at)
    .sort((a, b) => a - b);
}

/** An action of one of these kinds that has no result yet, inside the window: still under way. */
function pendingAction(
  history: readonly IncidentHistoryEntry[],
  actions: ReadonlySet<string>,
  now: number,
  withinMs: number,
): IncidentActionEntry | undefined {
  return history
    .flatMap((incident) => incident.actions)
    .find((a) => actions.has(a.action) && a.result === undefined && a.ok === undefined && now - a.at < withinMs);
}

/** Why the VM must not be started or rebooted by Overseer now, as a decision; undefined when it may. */
function powerRefusal(
  condition: Condition,
  context: RemediationContext,
  action: 'start' | 'reboot',
): Remediation | undefined {
  const { vm, host, cluster, config, now, history } = context;
  if (!vm) return { kind: 'none', reason: `${condition.subject} is not in the inventory` };
  const label = vmLabel(vm);
  if (vm.haManaged) return { kind: 'none', reason: `${REMEDIATION_REASONS.ha}: ${label} is HA-managed` };
  if (cluster && !cluster.reachable) {
    return { kind: 'none', reason: `${REMEDIATION_REASONS.clusterUnreachable}: ${vm.cluster} cannot be read` };
  }
  if (cluster && !cluster.quorate) {
    return { kind: 'none', reason: `${REMEDIATION_REASONS.noQuorum}: ${vm.cluster} has lost quorum` };
  }
  if (!host || host.status !== 'online') {
    const state = host ? host.status : 'not known';
    return { kind: 'none', reason: `${REMEDIATION_REASONS.hostOffline}: node ${vm.cluster}/${vm.node} is ${state}` };
  }
  if (vm.lock) return { kind: 'notify', reason: `${label} holds the '${vm.lock}' lock: not touched` };
  if (context.isProduction && !config.allowProduction) {
    return { kind: 'notify', reason: `${label} is production: Overseer does not ${action} it by itself` };
  }
  const withinMs = config.restart.withinSeconds * 1000;
  const pending = pendingAction(history, RESTART_ACTIONS, now, withinMs);
  if (pending) {
    const request = pending.requestId ? ` (request ${pending.requestId})` : '';
    return { kind: 'none', reason: `a ${pending.action} of ${label} is already under way${request}` };
  }
  const restarts = actionsInWindow(history, (a) => RESTART_ACTIONS.has(a.action), now, withinMs);
  if (restarts.length >= config.restart.maxRestarts) {
    return {
      kind: 'escalate',
      reason:
        `${label} was restarted ${restarts.length} times within ${config.restart.withinSeconds}s ` +
        `(at most ${config.restart.maxRestarts}): Overseer stops trying`,
    };
  }
  return undefined;
}

function restartVm(condition: Condition, context: RemediationContext): Remediation {
  const vm = context.vm;
  if (vm?.status === 'running') return { kind: 'none', reason: `${vmLabel(vm)} is running again` };
  const refusal = powerRefusal(condition, context, 'start');
  if (refusal) return refusal;
  const target = vm as VmInfo;
  if (target.status !== 'stopped') {
    return { kind: 'none', reason: `${vmLabel(target)} is ${target.status}, not stopped: not started` };
  }
  return {
    kind: 'request',
    action: 'start',
    target: { cluster: target.cluster, vmid: target.vmid },
    reason: `${vmLabel(target)} stopped unexpectedly: starting it again`,
  };
}

function rebootUnreachable(condition: Condition, context: RemediationContext): Remediation {
  if (parseSubject(condition.subject)?.kind !== 'vm') return { kind: 'notify', reason: condition.detail };
  const consecutive = Number(condition.data?.consecutive ?? 0);
  const needed = context.config.unreachableBeforeReboot;
  if (consecutive < needed) {
    return { kind: 'none', reason: `unreachable ${consecutive} of ${needed} times before a reboot` };
  }
  const vm = context.vm;
  if (vm && vm.status !== 'running') {
    return { kind: 'none', reason: `${vmLabel(vm)} is ${vm.status}: a reboot would not help` };
  }
  const refusal = powerRefusal(condition, context, 'reboot');
  if (refusal) return refusal;
  const target = vm as VmInfo;
  return {
    kind: 'request',
    action: 'reboot',
    target: { cluster: target.cluster, vmid: target.vmid },
    // Reboot disrupts: a production VM (allowed by the policy) needs force at the gate.
    force: context.isProduction,
    reason: `${vmLabel(target)} has not answered over SSH ${consecutive} times in a row: rebooting it`,
  };
}

function runCommand(condition: Condition, context: RemediationContext, command: string): Remediation {
  const { config, now, history } = context;
  const withinMs = config.restart.withinSeconds * 1000;
  const runs = actionsInWindow(history, (a) => a.action === 'command', now, withinMs);
  if (runs.length >= config.restart.maxRestarts) {
    return {
      kind: 'escalate',
      reason:
        `the command for ${condition.kind} ran ${runs.length} times on ${condition.subject} within ` +
        `${config.restart.withinSeconds}s (at most ${config.restart.maxRestarts}): Overseer stops trying`,
    };
  }
  return {
    kind: 'command',
    command,
    target: condition.subject,
    reason: `configured command for ${condition.kind}`,
  };
}

/** What to do about `condition`, given what has been done about its subject before. */
export function decideRemediation(condition: Condition, context: RemediationContext): Remediation {
  const { config } = context;
  // Once anything about this subject is escalated (a crash loop, say), a person decides: no automatic action.
  const escalated = context.history.find((i) => i.status === 'escalated');
  if (escalated) {
    return { kind: 'none', reason: `escalated${escalated.id ? ` (incident ${escalated.id})` : ''}: a person decides` };
  }
  if (config.escalate.includes(condition.kind)) return { kind: 'escalate', reason: condition.detail };
  const command = config.commands[condition.kind];
  if (command) return runCommand(condition, context, command);
  switch (condition.kind) {
    case 'vm-unexpected-stop':
      return restartVm(condition, context);
    case 'guest-unreachable':
      return rebootUnreachable(condition, context);
    default:
      // Locks, offline or degraded hosts, quorum, stuck tasks and requests, usage: a person decides.
      return { kind: 'notify', reason: condition.detail };
  }
}
