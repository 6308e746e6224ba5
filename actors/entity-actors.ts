// The VM and host actors: one per VM and host, each persisted on its own. Their snapshots (and a host's inventory
// row) are coalesced into one write per burst of work (see WriteBatch): keeping 100k VM actors inside the root's own
// snapshot would make every write rewrite the whole fleet. A VM's snapshot is its only row: the VM inventory is a
// view of these snapshots (state/migrations.ts, v11).
import type { InspectionEvent, Observer, SnapshotFrom } from 'xstate';
import type { Clock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import type { HostMachine } from '../machines/host.machine';
import { hostMachine } from '../machines/host.machine';
import type { HostInfo } from '../machines/types';
import type { VmIssue, VmMachine, VmStoppedNotice } from '../machines/vm.machine';
import { vmMachine } from '../machines/vm.machine';
import { subjects } from '../protocol';
import type { AuditEntry, StateStore, SummaryStore } from '../state';
import { ActorSet } from './actor-set';
import { deadline } from './deadline';
import type { EventPublisher } from './event-publisher';
import type { SystemView } from './system-view';
import { archiveVmSnapshot } from './vm-archive';
import type { StateChange } from './watch';
import { stateName } from './watch';
import { WriteBatch } from './write-batch';

type EntityWrite =
  | { kind: 'vm'; snapshot: unknown }
  | { kind: 'host'; snapshot: unknown; state: string; info: HostInfo };

/**
 * XState's persisted form of a VM snapshot (what `getPersistedSnapshot` returns), built directly: the VM machine has
 * no children, no history states and a context of plain data, so the generic walk (the rest spread of the snapshot,
 * the search of the context for actor references, the children and history maps) finds nothing to change. A snapshot
 * with children or history after all takes the generic way.
 */
export function persistedVmSnapshot(snapshot: SnapshotFrom<VmMachine>): unknown {
  const s = snapshot as unknown as {
    status: string;
    output: unknown;
    error: unknown;
    value: unknown;
    historyValue: object | undefined;
    context: unknown;
    children: object;
  };
  if (!isEmpty(s.children) || (s.historyValue !== undefined && !isEmpty(s.historyValue))) {
    return vmMachine.getPersistedSnapshot(snapshot);
  }
  return {
    status: s.status,
    output: s.output,
    error: s.error,
    value: s.value,
    historyValue: {},
    context: s.context,
    children: {},
  };
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

/** The audit kind (and event name) of a stop someone decided: `vm.stopped_by_operator` or `vm.stopped_by_ha`. */
export const stoppedKind = (notice: Pick<VmStoppedNotice, 'by'>): string => `stopped_by_${notice.by}`;

/** What the audit log keeps of a stop someone decided: who, when, which task. */
function stopRecord(n: VmStoppedNotice): Record<string, unknown> {
  if (n.by === 'ha') return { cluster: n.cluster, vmid: n.vmid, haState: n.haState, at: n.at };
  return { cluster: n.cluster, vmid: n.vmid, user: n.user, upid: n.upid, task: n.task, at: n.taskAt, seenAt: n.at };
}

/** Counts a state change of a VM, host or request in the system summary. */
export function countChange(
  summary: SummaryStore,
  type: 'vmStateChanged' | 'hostStateChanged' | 'requestStateChanged',
  change: StateChange<unknown>,
): void {
  summary.send({ type, from: change.from === 'none' ? undefined : change.from, to: change.to });
}

export interface EntityActorsDeps {
  clock: Clock;
  log: Log;
  store: StateStore;
  inspect?: Observer<InspectionEvent> | undefined;
  /**
   * Where the events VM actors receive are journaled when no inspector needs XState's whole inspection stream: the
   * VM actors then run without `inspect` (the stream costs more than the transition it reports).
   */
  vmJournal?: ((actorId: string, eventType: string) => void) | undefined;
  view: SystemView;
  summary: SummaryStore;
  events: EventPublisher;
  /** A VM saw something no request explains (after it is logged, audited and published). */
  onIssue: (issue: VmIssue) => void;
}

export class EntityActors {
  readonly vms: ActorSet<VmMachine>;
  readonly hosts: ActorSet<HostMachine>;
  private readonly writes: WriteBatch<EntityWrite>;
  /** Keys of VM actors that ended (destroyed): a new actor under one of these archives the old one's snapshot. */
  private readonly ended = new Set<string>();
  /** Nesting of VM batches under way: inside one, the audit rows of what the VMs emit are one group commit. */
  private batchDepth = 0;

  private readonly store: StateStore;

  constructor(deps: EntityActorsDeps) {
    const { clock, log, store, view, summary, events } = deps;
    this.store = store;
    this.writes = new WriteBatch((rows) => {
      const at = clock.now();
      store.transaction(() => {
        store.snapshots.saveMany(
          rows.map((r) => ({ actorId: r.key, kind: r.value.kind, snapshot: r.value.snapshot, at })),
        );
        const hosts = [];
        for (const { value } of rows)
          if (value.kind === 'host') hosts.push({ info: value.info, state: value.state, at });
        if (hosts.length > 0) store.inventory.upsertHosts(hosts);
      });
    });

    this.vms = new ActorSet({
      kind: 'vm',
      logic: vmMachine,
      idOf: (key) => `vm:${key}`,
      // A VM actor has no timers, delays or children: between the rare events that change it, it rests as a snapshot.
      passivate: true,
      // A sync's slice of VM events is one group commit: the audit rows of what its VMs emit and the snapshots and
      // inventory rows it left pending are written at its end, in its transaction, just before it commits.
      transaction: (fn) => store.transaction(() => this.groupCommit(fn)),
      clock,
      log,
      inspect: deps.vmJournal ? undefined : deps.inspect,
      journal: deps.vmJournal,
      onSnapshot: (key, snapshot, changed) => {
        this.writes.put(`vm:${key}`, { kind: 'vm', snapshot: persistedVmSnapshot(snapshot) });
        if (snapshot.status === 'done') {
          view.removeVm(snapshot.context.info.cluster, snapshot.context.info.vmid);
          this.ended.add(key);
        } else if (changed) view.setVm(snapshot.context.info);
      },
      onStateChange: (key, change) => {
        countChange(summary, 'vmStateChanged', change);
        events.publishState('vm', key, change);
      },
      onNew: (key) => {
        // A VMID given out again: the destroyed VM's snapshot is written, then kept apart, before the new actor's.
        if (this.ended.delete(key)) {
          this.writes.flush();
          const archived = archiveVmSnapshot(store, key);
          if (archived) log.info(`vm:${key}: the destroyed VM's history is kept as vm:${archived}`);
        }
      },
      // What a VM actor emits, running or handled at rest.
      onEmitted: (key, emitted) => {
        if (emitted.type === 'issue') {
          const issue = emitted;
          log.warn(`vm:${key}: ${issue.detail}`);
          this.audit({ at: issue.at, actor: 'overseer', kind: `vm.${issue.kind}`, data: issue });
          events.publish(() => subjects.evtVm(issue.cluster, issue.vmid, 'issue'), issue);
          deps.onIssue(issue);
        } else if (emitted.type === 'stopped') {
          const notice = emitted;
          log.info(`vm:${key}: ${notice.detail}`);
          const data = stopRecord(notice);
          this.audit({ at: notice.at, actor: 'overseer', kind: `vm.${stoppedKind(notice)}`, data });
          events.publish(() => subjects.evtVm(notice.cluster, notice.vmid, stoppedKind(notice)), data);
        }
      },
    });

    this.hosts = new ActorSet({
      kind: 'host',
      logic: hostMachine.provide({ actors: { offlineDeadline: deadline(clock, 'GRACE_EXPIRED') } }),
      idOf: (key) => `host:${key}`,
      clock,
      log,
      inspect: deps.inspect,
      onSnapshot: (key, snapshot, changed) => {
        const actor = this.hosts.get(key);
        if (changed && actor) {
          this.writes.put(`host:${key}`, {
            kind: 'host',
            snapshot: actor.getPersistedSnapshot(),
            state: stateName(snapshot.value),
            info: snapshot.context.info,
          });
        }
      },
      onStateChange: (key, change) => {
        countChange(summary, 'hostStateChanged', change);
        events.publishState('host', key, change);
      },
    });
  }

  /** An audit row of what a VM emitted: queued for its batch's group commit inside one, appended at once outside. */
  private audit(entry: AuditEntry): void {
    if (this.batchDepth > 0) this.store.audit.defer(entry);
    else this.store.audit.append(entry);
  }

  /**
   * Runs a VM batch (inside its transaction). The outermost batch appends the audit rows its VMs queued (in one
   * statement loop: one read of the chain's end, one move of its head) and writes the pending snapshots before the
   * transaction commits; it forgets the queued rows when it throws (the transaction rolls back what they were about).
   */
  private groupCommit<T>(fn: () => T): T {
    if (this.batchDepth > 0) return fn();
    this.batchDepth++;
    try {
      const out = fn();
      this.store.audit.flushDeferred();
      this.writes.flush();
      return out;
    } catch (error) {
      this.store.audit.discardDeferred();
      throw error;
    } finally {
      this.batchDepth--;
    }
  }

  /** Writes every pending VM and host snapshot now. */
  flush(): void {
    this.writes.flush();
  }

  /** Stops every VM and host actor and writes what is pending. */
  stop(): void {
    this.vms.stopAll();
    this.hosts.stopAll();
    this.writes.flush();
  }
}
