import type {
  ClusterInfo,
  MonitoredHost,
  MonitoredVm,
  MonitorInput,
  MonitorMemory,
  MonitorResult,
} from '../../machines';
import { createDefaultMonitorThresholds, detectConditions, emptyMonitorMemory, hostKey, vmKey } from '../../machines';
import { hostInfo, vmInfo } from '../machines/fixtures';

export { hostInfo, vmInfo };

export function vm(over: Parameters<typeof vmInfo>[0] = {}, state?: string, extra: Partial<MonitoredVm> = {}) {
  const info = vmInfo(over);
  return { info, state: state ?? (info.lock ? 'locked' : info.status), ...extra } satisfies MonitoredVm;
}

export function host(over: Parameters<typeof hostInfo>[0] = {}, state = 'online'): MonitoredHost {
  return { info: hostInfo(over), state };
}

/** A world with one healthy cluster `lab`, node pve1 and VM 101; override any part. */
export function world(over: Partial<MonitorInput> & { vmList?: MonitoredVm[]; hostList?: MonitoredHost[] } = {}) {
  const { vmList, hostList, ...rest } = over;
  const vms = new Map((vmList ?? [vm()]).map((v) => [vmKey(v.info.cluster, v.info.vmid), v] as const));
  const hosts = new Map((hostList ?? [host()]).map((h) => [hostKey(h.info.cluster, h.info.node), h] as const));
  const clusters = new Map<string, ClusterInfo>([['lab', { cluster: 'lab', reachable: true, quorate: true }]]);
  return {
    now: 1_000_000,
    vms,
    hosts,
    clusters,
    requests: [],
    vmIssues: [],
    thresholds: createDefaultMonitorThresholds(),
    ...rest,
  } satisfies MonitorInput;
}

/** Runs cycles one after another, carrying the memory. */
export function monitor(memory: MonitorMemory = emptyMonitorMemory()) {
  let mem = memory;
  return {
    cycle(input: MonitorInput): MonitorResult {
      const result = detectConditions(input, mem);
      mem = result.memory;
      return result;
    },
    get memory() {
      return mem;
    },
  };
}

export const keys = (result: MonitorResult): string[] => result.conditions.map((c) => c.dedupeKey);
