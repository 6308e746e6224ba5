// The Overseer runtime: wires the pure machines to the real world. It restores every actor from its snapshot,
// runs the root actor (which supervises the loops), persists every change, and answers submissions, approvals
// and reads. Each responsibility has its own file; this class holds them together and is the runtime's face:
// - entity-actors.ts: the VM and host actors and their coalesced writes
// - request-service.ts: the request actors, submissions, approvals, denials, cancellations
// - execution-feed.ts: hands approved requests to the execution loop
// - root-supervisor.ts: the root actor, the loops' work (sync, monitor, health) and the health report
// - restore.ts: bringing the actors back from their snapshots
// - lab-service.ts: the lab actors, lab files applied, approvals, teardowns, whole-lab snapshots, drift
// - event-publisher.ts: publishing events
import { randomUUID } from 'node:crypto';
import type { AnyActorRef } from 'xstate';
import type { Inventory } from '../adapters/platform/types';
import type { HostMachine } from '../machines/host.machine';
import type { LabMachine } from '../machines/lab.machine';
import type { RequestMachine } from '../machines/request.machine';
import type { Requester } from '../machines/types';
import { actorId } from '../machines/types';
import type { VmMachine } from '../machines/vm.machine';
import type { SummaryStore } from '../state';
import { createSummaryStore, summarize } from '../state';
import { ActorJournal } from './actor-journal';
import type { ActorSet } from './actor-set';
import { AddressBook } from './address-book';
import { sshCommandRunner } from './command-executor';
import { monitorThresholdsOf, remediationPolicyOf } from './config';
import { EntityActors } from './entity-actors';
import { EventPublisher } from './event-publisher';
import { ExecutionFeed } from './execution-feed';
import { platformFacts } from './gate-facts';
import { GateService, sshTargetKeys } from './gate-service';
import type { HealthReport } from './health';
import { LabService } from './lab-service';
import { loadMaintenance } from './maintenance-service';
import { Monitor } from './monitor';
import type { OverseerDeps } from './overseer-deps';
import { RequestService } from './request-service';
import type { RestoreReport } from './restore';
import { restoreActors } from './restore';
import { RootSupervisor } from './root-supervisor';
import { SnapshotRetention } from './snapshot-retention';
import type { CommandResult, Submission, SubmitResult } from './submission';
import type { ApplyOptions, ClusterSyncReport } from './sync';
import { SystemView } from './system-view';

export type { EventSink, FailureSink, OverseerDeps } from './overseer-deps';
export type { CommandResult, Submission, SubmitResult } from './submission';

export class Overseer {
  readonly view = new SystemView();
  readonly vms: ActorSet<VmMachine>;
  readonly hosts: ActorSet<HostMachine>;
  readonly requests: ActorSet<RequestMachine>;
  readonly labs: ActorSet<LabMachine>;
  /** The lab actors and their commands. */
  readonly labService: LabService;
  readonly gate: GateService;
  readonly monitor: Monitor;
  /** Actors by id (`overseer`, `loop:sync`, `req:<id>`, `vm:lab/101`, ...), also reachable over NATS. */
  readonly addresses = new AddressBook((id) => this.actorById(id));
  /** Counts by state of VMs, hosts and requests (the system summary). */
  readonly summary: SummaryStore = createSummaryStore();
  private readonly events: EventPublisher;
  private readonly entities: EntityActors;
  private readonly requestService: RequestService;
  private readonly execution: ExecutionFeed;
  private readonly supervisor: RootSupervisor;
  private readonly retention: SnapshotRetention;
  /** The restored request actors' start (see `startRequests`). */
  private requestsStarted: Promise<void> | undefined;

  /** The events each actor received (the dashboard's inspector). */
  readonly journal: ActorJournal;
  private readonly deps: OverseerDeps;

  constructor(given: OverseerDeps) {
    // Every actor's inspection events go to the journal, and on to Stately's inspector when one is configured.
    this.journal = new ActorJournal(given.clock);
    const deps: OverseerDeps = { ...given, inspect: this.journal.observer(given.inspect) };
    // Without Stately's inspector, the VM and request actors' events go straight to the journal, and XState builds no
    // inspection stream for them (see ActorSetOptions.journal).
    const directJournal = given.inspect ? undefined : (id: string, type: string) => this.journal.record(id, type);
    this.deps = deps;
    const { clock, log, config, store } = deps;
    const { view, summary } = this;
    this.events = new EventPublisher(deps);
    this.gate = new GateService(view, config.gate, clock, {
      knowledge: deps.knowledge,
      sshTargets: () => sshTargetKeys(deps.ssh),
      facts: platformFacts(deps.platforms),
      parentMembers: (id) =>
        id.startsWith('lab:') ? this.labService.coverage(id) : this.requestService.parentMembers(id),
    });
    this.entities = new EntityActors({
      clock,
      log,
      store,
      inspect: deps.inspect,
      vmJournal: directJournal,
      view,
      summary,
      events: this.events,
      onIssue: (issue) => {
        this.monitor.recordIssue(issue);
        this.labService.vmIssue(issue);
        // Look at it now rather than at the next monitor tick.
        this.addresses.send(actorId.loop('monitor'), { type: 'RUN_NOW' });
      },
    });
    this.vms = this.entities.vms;
    this.hosts = this.entities.hosts;
    this.requestService = new RequestService({
      deps,
      view,
      gate: this.gate,
      summary,
      events: this.events,
      vms: this.vms,
      execution: {
        enqueue: (id, spec) => this.execution.enqueue(id, spec),
        finished: (id) => this.execution.finished(id),
      },
      recordFailedRequest: (...failure) => this.monitor.recordFailedRequest(...failure),
      platformChanged: (cluster, readBack) => this.supervisor.platformChanged(cluster, readBack),
      journal: directJournal,
    });
    this.requests = this.requestService.requests;
    const ssh = deps.ssh;
    this.labService = new LabService({
      deps,
      view,
      events: this.events,
      requests: this.requestService,
      openDriftIncident: (notice) => {
        this.monitor
          .openLabDrift(notice)
          .catch((error: unknown) => log.error('a lab drift incident was not opened', error));
      },
      clearDriftIncident: (cluster, lab, at) => this.monitor.clearLabDrift(cluster, lab, at),
      sshProbe:
        ssh &&
        ((key, command) =>
          sshCommandRunner(ssh)
            .run(key, command)
            .then((r) => r.code)),
    });
    this.labs = this.labService.labs;
    this.execution = new ExecutionFeed({
      view,
      requests: this.requests,
      loop: () => this.supervisor.executionLoop(),
    });
    this.supervisor = new RootSupervisor({
      deps,
      view,
      vms: this.vms,
      hosts: this.hosts,
      events: this.events,
      addresses: this.addresses,
      flushEntities: () => this.entities.flush(),
      monitorCycle: async () => {
        await this.monitor.cycle();
        this.retention.tick();
      },
      feedExecutionLoop: () => this.execution.feed(),
      startExecution: (id) => {
        this.requestService.execute(id).catch((error: unknown) => log.error(`req:${id}: could not start`, error));
      },
      summary: () => summarize(this.summary),
    });
    this.monitor = new Monitor({
      clock,
      log,
      store,
      overseer: this,
      thresholds: monitorThresholdsOf(config),
      policy: remediationPolicyOf(config),
      gate: config.gate,
      notifier: deps.notifier,
      ssh: deps.ssh,
      knowledge: deps.knowledge,
      publish: (subject, payload) => this.events.publish(subject, payload),
      newId: () => (deps.newId ? deps.newId('incident') : randomUUID()),
      labOf: (cluster, vmid) => this.labService.labOf(cluster, vmid),
    });
    this.retention = new SnapshotRetention({
      clock,
      log,
      rules: config.snapshots.retention,
      intervalMs: config.snapshots.retentionIntervalSeconds * 1000,
      platforms: deps.platforms,
      vms: () => view.vms.values(),
      busy: (key) => view.activeRequests.has(key),
      submit: (submission) => this.submit(submission),
      settled: (id) => this.requestService.settled(id),
    });
  }

  /** Restores every actor from its snapshot, then starts the root and its loops. */
  start(): void {
    this.restore();
    this.startRoot();
  }

  /**
   * Brings back every VM, host and unfinished request actor from its snapshot. The platform facts of requests
   * awaiting approval are read again for their approval's re-check (they were only in memory).
   */
  restore(): RestoreReport {
    const { store, log, config } = this.deps;
    loadMaintenance(this.view, store, this.deps.clock.now());
    const report = store.withMappedReads(() =>
      restoreActors({
        store,
        log,
        approvalTimeoutMs: config.gate.approvalTimeoutSeconds * 1000,
        view: this.view,
        summary: this.summary,
        gate: this.gate,
        vms: this.vms,
        hosts: this.hosts,
        requests: this.requests,
        flushRequests: () => this.flushRequests(),
      }),
    );
    // Labs after requests, whose actors their steps wait for; their steps go on once everything is back.
    report.labs = this.labService.restore();
    this.labService.started();
    for (const [, actor] of this.requests.entries()) {
      const { value, context } = actor.getSnapshot();
      if (value !== 'awaiting_approval') continue;
      this.gate
        .refreshFacts(context.spec)
        .catch((error: unknown) =>
          log.warn(`req:${context.spec.id}: facts not read again: ${(error as Error).message}`),
        );
    }
    return report;
  }

  /**
   * Starts the request actors `restore` brought back (readable, and started when asked for, until then), in slices
   * from the next turn of the event loop on; resolves when all have started. `startRoot` calls it.
   */
  startRequests(): Promise<void> {
    this.requestsStarted ??= this.requests
      .startDeferred()
      .catch((error: unknown) => this.deps.log.error('the restored request actors could not all be started', error));
    return this.requestsStarted;
  }

  /** Starts the restored request actors, and the root actor, which spawns and supervises the loops, and feeds it. */
  startRoot(): void {
    void this.startRequests();
    this.supervisor.start();
    this.execution.feed();
  }

  /** Stops every actor and writes what is pending. */
  stop(): void {
    this.supervisor.stop();
    this.labService.stop();
    this.requestService.stop();
    this.entities.stop();
  }

  /** An actor of this core by its id (`overseer`, `loop:sync`, `vm:lab/101`, `req:<id>`, `lab:lab/x`, ...). */
  actor(id: string): AnyActorRef | undefined {
    return this.actorById(id);
  }

  private actorById(id: string): AnyActorRef | undefined {
    if (id === actorId.overseer) return this.supervisor.actor;
    if (id.startsWith('loop:')) return this.supervisor.systemActor(id);
    if (id.startsWith('req:')) return this.requests.get(id.slice(4));
    if (id.startsWith('vm:')) return this.vms.get(id.slice(3));
    if (id.startsWith('host:')) return this.hosts.get(id.slice(5));
    if (id.startsWith('incident:')) return this.monitor.incidents.get(id.slice(9));
    if (id.startsWith('lab:')) return this.labs.get(id.slice(4));
    return undefined;
  }

  /** When a live request entered its current status. */
  statusSince(id: string): number | undefined {
    return this.requestService.statusSince(id);
  }

  /** The clusters' platforms (reads the core makes on a person's behalf: snapshots, backups). */
  get platforms() {
    return this.deps.platforms;
  }

  get rootSnapshot() {
    return this.supervisor.rootSnapshot;
  }

  // ---- requests ---------------------------------------------------------------------------------------------

  submit(submission: Submission): Promise<SubmitResult> {
    return this.requestService.submit(submission);
  }
  approve(id: string, by: Requester, reason?: string): CommandResult {
    return this.requestService.approve(id, by, reason);
  }
  deny(id: string, by: Requester, reason?: string): CommandResult {
    return this.requestService.deny(id, by, reason);
  }
  cancel(id: string, by: Requester, reason?: string): CommandResult {
    return this.requestService.cancel(id, by, reason);
  }

  /** Writes every queued request change now. */
  flushRequests(): void {
    this.requestService.flush();
  }

  // ---- loops ------------------------------------------------------------------------------------------------

  /** One state sync of every cluster; fails (the loop records it) when any cluster could not be read. */
  syncAll(): Promise<void> {
    return this.supervisor.syncAll();
  }

  /** Applies one inventory answer (what a sync does per cluster); used by the sync and by scenario tests. */
  observe(inventory: Inventory, options?: ApplyOptions): ClusterSyncReport {
    return this.supervisor.observe(inventory, options);
  }

  /** Asks the sync loop for a cycle now (after a request changed the platform). */
  syncSoon(): void {
    this.supervisor.syncSoon();
  }

  get lastSyncReports(): readonly ClusterSyncReport[] {
    return this.supervisor.lastSyncReports;
  }

  /** Self and platform health: database, clusters, loops. */
  health(): HealthReport {
    return this.supervisor.health();
  }
}
