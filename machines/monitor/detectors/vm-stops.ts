// VMs that stopped with no request behind them, VMs that vanished, and VMs that keep crashing (a crash loop:
// `crashLoopStops` unexpected stops within `crashLoopWindowMs`, counted over the stop times kept in memory).
import { vmLabel } from '../../gate/describe';
import { vmKey } from '../../types';
import { condition, duration, subjectOf } from '../condition';
import type { Condition, Detector, MonitorMemory } from '../types';

/** VM actor states in which an earlier unexpected stop no longer matters (the VM is being destroyed or is gone). */
const GONE_STATES: ReadonlySet<string> = new Set(['destroying', 'destroyed']);

export const detectVmStops: Detector = ({ input, before }) => {
  const { now, vms, vmIssues, thresholds } = input;
  const window = thresholds.crashLoopWindowMs;
  const conditions: Condition[] = [];
  const stops: MonitorMemory['stops'] = {};
  const stopped: MonitorMemory['stopped'] = {};

  for (const [key, times] of Object.entries(before.stops)) {
    const kept = times.filter((t) => now - t < window);
    const vm = vms.get(key);
    // A destroyed VM's crashes are not held against a new VM given its VMID.
    if (kept.length > 0 && vm && !GONE_STATES.has(vm.state)) stops[key] = kept;
  }
  for (const [key, stop] of Object.entries(before.stopped)) if (vms.has(key)) stopped[key] = stop;

  const stoppedNow = new Set<string>();
  for (const issue of vmIssues) {
    const key = vmKey(issue.cluster, issue.vmid);
    if (issue.kind === 'vanished') {
      delete stops[key];
      delete stopped[key];
      const name = vms.get(key)?.info.name ?? '';
      const label = vmLabel({ cluster: issue.cluster, vmid: issue.vmid, name });
      conditions.push(
        condition(
          'vm-vanished',
          subjectOf.vm(issue.cluster, issue.vmid),
          'warning',
          issue.detail ?? `${label} is gone from the platform with no request behind it`,
          { at: issue.at },
        ),
      );
      continue;
    }
    if (!vms.has(key)) continue;
    const times = stops[key] ?? [];
    if (now - issue.at < window && !times.includes(issue.at)) stops[key] = [...times, issue.at].sort((a, b) => a - b);
    if (!stopped[key] || stopped[key].at <= issue.at) stopped[key] = { at: issue.at, detail: issue.detail };
    stoppedNow.add(key);
  }

  for (const [key, stop] of Object.entries(stopped)) {
    const vm = vms.get(key);
    const runningAgain = vm && (vm.info.status === 'running' || vm.info.status === 'paused');
    if (!vm || GONE_STATES.has(vm.state) || (runningAgain && !stoppedNow.has(key))) {
      delete stopped[key];
      continue;
    }
    const label = vmLabel(vm.info);
    conditions.push(
      condition(
        'vm-unexpected-stop',
        subjectOf.vm(vm.info.cluster, vm.info.vmid),
        'critical',
        stop.detail ?? `${label} stopped with no request behind it`,
        { at: stop.at, status: vm.info.status },
      ),
    );
  }

  for (const [key, times] of Object.entries(stops)) {
    const vm = vms.get(key);
    if (!vm || times.length < thresholds.crashLoopStops) continue;
    conditions.push(
      condition(
        'vm-crash-loop',
        subjectOf.vm(vm.info.cluster, vm.info.vmid),
        'critical',
        `${vmLabel(vm.info)} is crash-looping: ${times.length} unexpected stops within ${duration(window)}`,
        { stops: times.length, times: [...times], windowMs: window },
      ),
    );
  }

  return { conditions, memory: { stops, stopped } };
};
