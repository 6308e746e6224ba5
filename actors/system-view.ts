// The live view of the fleet that the gate and the gateway's reads use: kept up to date incrementally as actors
// change (never rebuilt per request), so a decision costs the same with 10 or 100k VMs.
import type { Action, ClusterInfo, HostInfo, VmInfo } from '../machines/types';
import { hostKey, vmKey } from '../machines/types';
import { GuestReads } from './guest-reads';
import { MaintenanceBoard } from './maintenance-board';

export interface ActiveRequest {
  id: string;
  action: Action;
}

export class SystemView {
  readonly vms = new Map<string, VmInfo>();
  readonly hosts = new Map<string, HostInfo>();
  readonly clusters = new Map<string, ClusterInfo>();
  /** VM key → the request that holds it (awaiting approval, approved, queued or executing). */
  readonly activeRequests = new Map<string, ActiveRequest>();
  /** Maintenance windows and silences not yet run out (the gate's maintenance check, the monitor's restraint). */
  readonly maintenance = new MaintenanceBoard();
  /** Reads of one guest after a task on it, against the syncs' inventories: which word on a VM is newer. */
  readonly guestReads = new GuestReads();
  /** Destructive requests that were approved or sent for approval: id → submittedAt. */
  private readonly destructive = new Map<string, number>();

  /** `key` is vmKey(info.cluster, info.vmid), when the caller has it already. */
  setVm(info: VmInfo, key = vmKey(info.cluster, info.vmid)): void {
    this.vms.set(key, info);
  }
  removeVm(cluster: string, vmid: number): void {
    this.vms.delete(vmKey(cluster, vmid));
  }
  setHost(info: HostInfo): void {
    this.hosts.set(hostKey(info.cluster, info.node), info);
  }
  setCluster(info: ClusterInfo): void {
    this.clusters.set(info.cluster, info);
  }
  vmsOfCluster(cluster: string): VmInfo[] {
    const out: VmInfo[] = [];
    for (const vm of this.vms.values()) if (vm.cluster === cluster) out.push(vm);
    return out;
  }

  /** A request holds its VM from its decision until it ends. */
  hold(key: string, request: ActiveRequest): void {
    this.activeRequests.set(key, request);
  }
  release(key: string, requestId: string): void {
    if (this.activeRequests.get(key)?.id === requestId) this.activeRequests.delete(key);
  }
  recordDestructive(requestId: string, submittedAt: number): void {
    this.destructive.set(requestId, submittedAt);
  }
  forgetDestructive(requestId: string): void {
    this.destructive.delete(requestId);
  }
  /** Times of destructive requests inside the window ending now (older ones are dropped). */
  recentDestructive(now: number, windowMs: number): number[] {
    const out: number[] = [];
    for (const [id, at] of this.destructive) {
      if (now - at >= windowMs) this.destructive.delete(id);
      else out.push(at);
    }
    return out;
  }
}
