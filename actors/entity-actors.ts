// The VM and host actors: one per VM and host, each persisted on its own. Their snapshots and inventory rows are
// coalesced into one write per burst of work (see WriteBatch): keeping 100k VM actors inside the root's own
// snapshot would make every write rewrite the whole fleet.
import type { InspectionEvent, Observer } from 'xstate';
import type { Clock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import type { HostMachine } from '../machines/host.machine';
import { hostMachine } from '../machines/host.machine';
import type { HostInfo, VmInfo } from '../machines/types';
import type { VmIssue, VmMachine } from '../machines/vm.machine';
import { vmMachine } from '../machines/vm.machine';
import { subjects } from '../protocol';
import type { StateStore, SummaryStore } from '../state';
import { ActorSet } from './actor-set';
import { deadline } from './deadline';
import type { EventPublisher } from './event-publisher';
import type { SystemView } from './system-view';
import type { StateChange } from './watch';
import { stateName } from './watch';
import { WriteBatch } from './write-batch';

interface EntityWrite {
  kind: 'vm' | 'host';
  snapshot: unknown;
  state: string;
  info: VmInfo | HostInfo;
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

  constructor(deps: EntityActorsDeps) {
    const { clock, log, store, view, summary, events } = deps;
    this.writes = new WriteBatch((rows) => {
      const at = clock.now();
      store.transaction(() => {
        store.snapshots.saveMany(
          rows.map((r) => ({ actorId: r.key, kind: r.value.kind, snapshot: r.value.snapshot, at })),
        );
        const vms = rows
          .filter((r) => r.value.kind === 'vm')
          .map((r) => ({ info: r.value.info as VmInfo, state: r.value.state, at }));
        const hosts = rows
          .filter((r) => r.value.kind === 'host')
          .map((r) => ({ info: r.value.info as HostInfo, state: r.value.state, at }));
        if (vms.length > 0) store.inventory.upsertVms(vms);
        if (hosts.length > 0) store.inventory.upsertHosts(hosts);
      });
    });

    this.vms = new ActorSet({
      kind: 'vm',
      logic: vmMachine,
      idOf: (key) => `vm:${key}`,
      clock,
      log,
      inspect: deps.inspect,
      onSnapshot: (key, snapshot, changed) => {
        this.writes.put(`vm:${key}`, {
          kind: 'vm',
          snapshot: this.vms.get(key)?.getPersistedSnapshot() ?? snapshot,
          state: stateName(snapshot.value),
          info: snapshot.context.info,
        });
        if (snapshot.status === 'done') view.removeVm(snapshot.context.info.cluster, snapshot.context.info.vmid);
        else if (changed) view.setVm(snapshot.context.info);
      },
      onStateChange: (key, change) => {
        countChange(summary, 'vmStateChanged', change);
        events.publishState('vm', key, change);
      },
      onCreated: (key, actor) =>
        actor.on('issue', (issue) => {
          log.warn(`vm:${key}: ${issue.detail}`);
          store.audit.append({ at: issue.at, actor: 'overseer', kind: `vm.${issue.kind}`, data: issue });
          events.publish(() => subjects.evtVm(issue.cluster, issue.vmid, 'issue'), issue);
          deps.onIssue(issue);
        }),
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
