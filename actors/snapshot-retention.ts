// Snapshot retention (like cv4pve-autosnap's "keep the last N"): for each rule in `snapshots.retention`, of the
// snapshots of each guest it covers whose names start with the rule's prefix, all but the newest `keep` are deleted
// — each by a `delsnapshot` request of the Overseer's own identity, through the gate and the same execution as any
// request, one at a time per guest. Snapshots a person named otherwise are never the rule's. Runs every
// `snapshots.retentionIntervalSeconds`, started from the monitor loop; a run never overlaps the previous one.
import type { Clock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import type { Platform, SnapshotInfo } from '../adapters/platform/types';
import type { VmInfo } from '../machines/types';
import { guestTypeOf, OVERSEER_IDENTITY, vmKey } from '../machines/types';
import type { OverseerConfig } from './config';
import type { Submission, SubmitResult } from './submission';

export type RetentionRule = OverseerConfig['snapshots']['retention'][number];

export interface RetentionDeps {
  clock: Clock;
  log: Log;
  rules: readonly RetentionRule[];
  intervalMs: number;
  platforms: ReadonlyMap<string, Platform>;
  vms: () => Iterable<VmInfo>;
  /** Is another request active on the guest (then it is left for the next run)? */
  busy: (key: string) => boolean;
  submit: (submission: Submission) => Promise<SubmitResult>;
  /** Resolves once the request ended (any terminal status). */
  settled: (requestId: string) => Promise<string>;
}

const covers = (rule: RetentionRule, vm: VmInfo): boolean =>
  !vm.template && (rule.tag !== undefined ? vm.tags.includes(rule.tag) : rule.vm === vmKey(vm.cluster, vm.vmid));

/** The rule's snapshots of a guest beyond the newest `keep`, oldest first. */
export function snapshotsToDelete(rule: RetentionRule, snapshots: readonly SnapshotInfo[]): SnapshotInfo[] {
  const own = snapshots
    .filter((s) => s.name.startsWith(rule.prefix))
    .sort((a, b) => (a.snaptime ?? 0) - (b.snaptime ?? 0) || a.name.localeCompare(b.name));
  return own.slice(0, Math.max(0, own.length - rule.keep));
}

export class SnapshotRetention {
  private lastRunAt: number | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly deps: RetentionDeps) {}

  /**
   * Starts a run when one is due and none is running (does not wait for it). Before the first sync has brought any
   * guest there is nothing to run on: the first run waits for one.
   */
  tick(): void {
    const { clock, rules, intervalMs, log, vms } = this.deps;
    if (rules.length === 0 || this.running) return;
    const now = clock.now();
    if (this.lastRunAt !== undefined && now - this.lastRunAt < intervalMs) return;
    const guests = [...vms()];
    if (guests.length === 0) return;
    this.lastRunAt = now;
    this.running = this.run(guests)
      .catch((error: unknown) => log.error('snapshot retention failed', error))
      .finally(() => {
        this.running = undefined;
      });
  }

  /** One pass over every rule; resolves when every deletion it asked for has ended. */
  async run(guests: readonly VmInfo[] = [...this.deps.vms()]): Promise<void> {
    const { rules } = this.deps;
    const work: Promise<void>[] = [];
    for (const vm of guests) {
      const matching = rules.filter((r) => covers(r, vm));
      if (matching.length > 0) work.push(this.prune(vm, matching));
    }
    await Promise.all(work);
  }

  private async prune(vm: VmInfo, rules: readonly RetentionRule[]): Promise<void> {
    const { platforms, log, busy, submit, settled } = this.deps;
    const key = vmKey(vm.cluster, vm.vmid);
    const platform = platforms.get(vm.cluster);
    if (!platform || busy(key)) return;
    let snapshots: SnapshotInfo[];
    try {
      snapshots = await platform.listSnapshots(vm.node, vm.vmid, guestTypeOf(vm));
    } catch (error) {
      log.warn(`retention: the snapshots of ${key} could not be listed: ${(error as Error).message}`);
      return;
    }
    const doomed = new Set<string>();
    for (const rule of rules) for (const s of snapshotsToDelete(rule, snapshots)) doomed.add(s.name);
    for (const snapname of doomed) {
      if (busy(key)) return;
      const answer = await submit({
        action: 'delsnapshot',
        target: { cluster: vm.cluster, vmid: vm.vmid },
        params: { snapname },
        force: false,
        requester: OVERSEER_IDENTITY,
        origin: 'overseer',
      });
      log.info(`retention: delete snapshot ${snapname} of ${key}: ${answer.decision} (request ${answer.requestId})`);
      if (answer.decision !== 'approved') return;
      const status = await settled(answer.requestId);
      if (status !== 'completed') return;
    }
  }
}
