// The root actor and the work of its loops: it spawns and supervises the sync, monitor, health and execution
// loops (restarting a failed or stalled one, escalating when restarts do not help); this file gives each loop its
// work — a state sync of every cluster, a monitor cycle, a health check — and reports self and platform health.
import type { Actor, AnyActorRef } from 'xstate';
import { createActor, fromPromise } from 'xstate';
import type { Inventory } from '../adapters/platform/types';
import type { HostMachine } from '../machines/host.machine';
import { executionLoopMachine } from '../machines/loops/execution-loop.machine';
import { periodicLoopMachine } from '../machines/loops/periodic-loop.machine';
import type { OverseerMachine } from '../machines/overseer.machine';
import { overseerMachine } from '../machines/overseer.machine';
import { actorId } from '../machines/types';
import type { VmMachine } from '../machines/vm.machine';
import type { SummaryReply } from '../protocol';
import { subjects } from '../protocol';
import type { SystemSummary } from '../state';
import type { ActorSet } from './actor-set';
import type { AddressBook } from './address-book';
import type { EventPublisher } from './event-publisher';
import type { ExecutionLoopActor } from './execution-feed';
import { fleetSummary } from './fleet-summary';
import type { GuestRef } from './guest-refresh';
import { refreshGuest } from './guest-refresh';
import type { HealthReport, PeriodicLoop } from './health';
import { HealthTracker } from './health';
import type { OverseerDeps } from './overseer-deps';
import type { ApplyOptions, ClusterSyncReport, SyncTargets } from './sync';
import { applyInventory, syncCluster } from './sync';
import type { SystemView } from './system-view';
import { watchActor } from './watch';

export interface RootSupervisorDeps {
  deps: OverseerDeps;
  view: SystemView;
  vms: ActorSet<VmMachine>;
  hosts: ActorSet<HostMachine>;
  events: EventPublisher;
  addresses: AddressBook;
  /** Writes every pending VM and host snapshot now. */
  flushEntities: () => void;
  /** The monitor loop's work. */
  monitorCycle: () => Promise<void>;
  /** Hands every approved, queued and executing request to a (new) execution loop. */
  feedExecutionLoop: () => void;
  /** The execution loop starts a queued request (re-checked right before its first platform call). */
  startExecution: (requestId: string) => void;
  /** Counts by state of VMs, hosts and requests, published at every health cycle (the gateway's /metrics). */
  summary: () => SystemSummary;
}

export class RootSupervisor {
  private root: Actor<OverseerMachine> | undefined;
  private unwatchRoot: (() => void) | undefined;
  private lastSync: (ClusterSyncReport & { durationMs: number })[] = [];
  private readonly healthTracker: HealthTracker;
  private readonly deps: OverseerDeps;

  constructor(private readonly wiring: RootSupervisorDeps) {
    const { clock, log, store, config, notifier } = wiring.deps;
    this.deps = wiring.deps;
    this.healthTracker = new HealthTracker({ clock, log, store, config, notifier });
  }

  /** Starts the root actor, which spawns and supervises the loops. */
  start(): void {
    const { store, config, clock, log } = this.deps;
    const { events } = this.wiring;
    this.healthTracker.started(clock.now());

    // Every cycle, finished or failed, is a heartbeat; the health loop restarts a loop that stops beating.
    const loopWork = (name: PeriodicLoop, work: () => Promise<void>) =>
      periodicLoopMachine.provide({
        actors: {
          work: fromPromise(async () => {
            try {
              await work();
            } finally {
              this.healthTracker.beat(name);
            }
          }),
        },
      });
    const root = createActor(
      overseerMachine.provide({
        actors: {
          syncLoop: loopWork('sync', () => this.syncAll()),
          monitorLoop: loopWork('monitor', () => this.monitorCycle()),
          healthLoop: loopWork('health', async () => this.healthCycle()),
          executionLoop: executionLoopMachine.provide({
            actions: {
              startExecution: (_, work) => this.wiring.startExecution(work.requestId),
            },
          }),
        },
      }),
      {
        id: actorId.overseer,
        clock,
        inspect: this.deps.inspect,
        input: {
          supervision: {
            maxRestarts: config.supervision.maxRestarts,
            withinMs: config.supervision.withinSeconds * 1000,
          },
          intervals: {
            syncMs: config.loops.syncIntervalSeconds * 1000,
            monitorMs: config.loops.monitorIntervalSeconds * 1000,
            healthMs: config.loops.healthIntervalSeconds * 1000,
          },
          perNodeLimit: config.execution.perNodeConcurrency,
          now: () => clock.now(),
        },
      },
    );
    this.root = root;
    this.unwatchRoot = watchActor(root, { actorId: actorId.overseer, log, initial: 'none' });
    root.on('loopRestarted', (e) => {
      log.warn(`overseer: restarted loop ${e.loop} (${e.reason})`);
      events.publish(() => subjects.evtLoop(e.loop, 'restarted'), e);
      if (e.loop === 'execution') this.wiring.feedExecutionLoop();
    });
    root.on('escalated', (e) => {
      log.error(`overseer: loop ${e.loop} ${e.reason} ${e.restarts} times; gave up restarting it`);
      store.audit.append({ at: clock.now(), actor: 'overseer', kind: 'loop.escalated', data: e });
      events.publish(() => subjects.evtLoop(e.loop, 'escalated'), e);
    });
    root.start();
  }

  /** Stops the root actor and its loops. */
  stop(): void {
    this.unwatchRoot?.();
    this.root?.stop();
    this.root = undefined;
  }

  /** The root actor, when it runs. */
  get actor(): Actor<OverseerMachine> | undefined {
    return this.root;
  }

  /** An actor of the root's system (`loop:sync`, ...), when the root runs. */
  systemActor(id: string): AnyActorRef | undefined {
    return this.root?.system.get(id);
  }

  executionLoop(): ExecutionLoopActor | undefined {
    return this.systemActor('loop:execution') as ExecutionLoopActor | undefined;
  }

  get rootSnapshot() {
    return this.root?.getSnapshot();
  }

  /** One state sync of every cluster; fails (the loop records it) when any cluster could not be read. */
  async syncAll(): Promise<void> {
    const targets = this.syncTargets();
    const { clock } = this.deps;
    const reports = await Promise.all(
      [...this.deps.platforms.values()].map(async (p) => {
        const t0 = clock.now();
        const report = await syncCluster(p, targets);
        return { ...report, durationMs: clock.now() - t0 };
      }),
    );
    this.wiring.flushEntities();
    this.lastSync = reports;
    for (const r of reports) this.wiring.events.publish(() => subjects.evtLoop('sync', r.ok ? 'synced' : 'failed'), r);
    const failed = reports.filter((r) => !r.ok);
    if (failed.length > 0) throw new Error(failed.map((r) => `${r.cluster}: ${r.error}`).join('; '));
  }

  /** Applies one inventory answer (what a sync does per cluster); used by the sync and by scenario tests. */
  observe(inventory: Inventory, options?: ApplyOptions): ClusterSyncReport {
    const report = applyInventory(inventory, this.syncTargets(), options);
    this.wiring.flushEntities();
    return report;
  }

  private syncTargets(): SyncTargets {
    const { config, clock, log } = this.deps;
    const { view } = this.wiring;
    return {
      clock,
      log,
      view,
      vms: this.wiring.vms,
      hosts: this.wiring.hosts,
      setCluster: (info) => {
        view.setCluster(info);
        this.deps.store.inventory.upsertCluster(info, clock.now());
      },
      taskOwner: (upid) => this.deps.store.requests.findIdByTaskUpid(upid),
      hostThresholds: {
        cpu: config.hosts.cpuThreshold,
        mem: config.hosts.memThreshold,
        offlineGraceMs: config.hosts.offlineGraceSeconds * 1000,
      },
    };
  }

  /** Asks the sync loop for a cycle now (after a request changed the platform). */
  syncSoon(): void {
    this.wiring.addresses.send(actorId.loop('sync'), { type: 'RUN_NOW' });
  }

  /**
   * A request changed the platform: the guest its tasks left in place is read again (guest-refresh.ts); the sync loop
   * is asked for a cycle when there is none, or when that read cannot tell. Resolves once the read is applied (never
   * rejects).
   */
  async platformChanged(cluster: string, readBack?: GuestRef): Promise<void> {
    const platform = readBack && this.deps.platforms.get(cluster);
    let done = false;
    if (platform && readBack) {
      try {
        done = await refreshGuest(platform, readBack, this.syncTargets());
      } catch (error) {
        this.deps.log.warn(`sync ${cluster}: VM ${readBack.vmid} was not read again: ${String(error)}`);
      }
    }
    if (!done) this.syncSoon();
  }

  get lastSyncReports(): readonly ClusterSyncReport[] {
    return this.lastSync;
  }

  private async monitorCycle(): Promise<void> {
    this.wiring.flushEntities();
    await this.wiring.monitorCycle();
  }

  /** The health loop: checks the database; a periodic loop that missed its heartbeats is restarted by the root. */
  private healthCycle(): void {
    for (const loop of this.healthTracker.cycle()) this.root?.send({ type: 'LOOP_STALLED', loop });
    // This cycle is the health loop's heartbeat: count it in what is published now.
    this.healthTracker.beat('health');
    this.wiring.events.publish(() => subjects.evtLoop('health', 'summary'), this.publishedSummary());
  }

  /** What the health loop publishes: the counts by state, heartbeats, open incidents, quorum, node states. */
  publishedSummary(): SummaryReply {
    const { view, hosts } = this.wiring;
    return fleetSummary({
      counts: this.wiring.summary(),
      at: this.deps.clock.now(),
      loops: this.healthTracker.loopHeartbeats(this.root?.getSnapshot().context.escalated ?? []),
      view,
      hosts,
      store: this.deps.store,
    });
  }

  /** Self and platform health: database, clusters, loops. */
  health(): HealthReport {
    return this.healthTracker.report({
      clusters: [...this.deps.platforms.keys()],
      cluster: (name) => this.wiring.view.clusters.get(name),
      lastSync: this.lastSync,
      escalated: this.root?.getSnapshot().context.escalated ?? [],
    });
  }
}
