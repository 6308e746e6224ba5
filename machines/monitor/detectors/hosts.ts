// Nodes: offline, degraded (unresponsive inside its grace period, no quorum, overloaded), and CPU, memory or
// storage use over the thresholds.
import { percent } from '../../gate/describe';
import { condition, conditionKey, subjectOf, usageSeverity } from '../condition';
import type { Condition, ConditionKind, Detector, UsageThreshold } from '../types';

const DEGRADED_REASONS: Readonly<Record<string, string>> = {
  unresponsive: 'is not responding (it is taken as offline after its grace period)',
  noQuorum: 'is in a cluster without quorum',
  overloaded: 'is overloaded',
};

/** `degraded.noQuorum` → `noQuorum`; `degraded` → ''. */
const subState = (state: string): string => state.split('.')[1] ?? '';

export const detectHosts: Detector = ({ input, wasPresent }) => {
  const { hosts, thresholds } = input;
  const conditions: Condition[] = [];
  for (const { info, state } of hosts.values()) {
    const subject = subjectOf.host(info.cluster, info.node);
    const label = `Node ${info.cluster}/${info.node}`;
    if (state === 'offline') {
      conditions.push(condition('host-offline', subject, 'critical', `${label} is offline`, { state }));
      continue;
    }
    // An unresponsive node is the start of the same trouble as an offline one: one incident, whose severity
    // rises when the grace period ends.
    if (state === 'degraded.unresponsive') {
      conditions.push(
        condition('host-offline', subject, 'warning', `${label} ${DEGRADED_REASONS.unresponsive}`, { state }),
      );
      continue;
    }
    // A node without quorum is the cluster's condition (cluster-no-quorum): one incident, not one per node.
    if (state === 'degraded' || (state.startsWith('degraded.') && state !== 'degraded.noQuorum')) {
      const why = DEGRADED_REASONS[subState(state)] ?? 'is degraded';
      conditions.push(condition('host-degraded', subject, 'warning', `${label} ${why}`, { state }));
    }
    if (info.status !== 'online' || state === 'unknown') continue;

    const usage = (kind: ConditionKind, what: string, used: number, threshold: UsageThreshold) => {
      const severity = usageSeverity(used, threshold, wasPresent(conditionKey(kind, subject)), thresholds.hysteresis);
      if (!severity) return;
      conditions.push(
        condition(
          kind,
          subject,
          severity,
          `${label} ${what} at ${percent(used)} (warning above ${percent(threshold.warning)})`,
          { used },
        ),
      );
    };
    usage('host-cpu-high', 'CPU is', info.cpu, thresholds.hostCpu);
    if (info.maxmem > 0) usage('host-mem-high', 'memory is', info.mem / info.maxmem, thresholds.hostMem);
    if (info.maxdisk > 0) usage('host-disk-high', 'storage is', info.disk / info.maxdisk, thresholds.hostDisk);
  }
  return { conditions };
};
