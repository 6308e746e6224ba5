// The Overseer runtime: wires the pure machines to the real world. It restores every actor from its snapshot,
// runs the root actor (which supervises the loops), persists every change, and answers submissions, approvals
// and reads. Entity actors (VMs, hosts, requests) are spawned here on the root's behalf and persisted one by one:
// keeping 100k VM actors inside the root's own snapshot would make every write rewrite the whole fleet.
import { randomUUID } from 'node:crypto';
import type { Actor, AnyActorRef, InspectionEvent, Observer } from 'xstate';
import { createActor, fromCallback, fromPromise, waitFor } from 'xstate';
import type { Clock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import { subjects } from '../adapters/nats/subjects';
import type { Notifier } from '../adapters/notify';
import type { Inventory, Platform } from '../adapters/platform/types';
import type { HostMachine } from '../machines/host.machine';
import { hostMachine } from '../machines/host.machine';
import { executionLoopMachine } from '../machines/loops/execution-loop.machine';
import { periodicLoopMachine } from '../machines/loops/periodic-loop.machine';
import type { OverseerMachine } from '../machines/overseer.machine';
import { overseerMachine } from '../machines/overseer.machine';
import type { RequestContext, RequestMachine } from '../machines/request.machine';
import { approvalRefusal, closeRefusal, requestMachine } from '../machines/request.machine';
import type { Action, HostInfo, Requester, RequestSpec, RequestStatus, VmInfo } from '../machines/types';
import { actorId, TERMINAL_REQUEST_STATUSES, vmKey } from '../machines/types';
import type { VmMachine } from '../machines/vm.machine';
import { vmMachine } from '../machines/vm.machine';
import type { StateStore, SummaryStore } from '../state';
import { createSummaryStore } from '../state';
import { ActorSet } from './actor-set';
import { AddressBook } from './address-book';
import type { OverseerConfig } from './config';
import { monitorThresholdsOf, remediationPolicyOf } from './config';
import { createExecutor } from './executor';
import type { KnowledgeAdvisor } from './gate-service';
import { GateService } from './gate-service';
import type { HealthReport, PeriodicLoop } from './health';
import { HealthTracker } from './health';
import type { KnowledgeSink, SshTargetSource } from './monitor';
import { Monitor } from './monitor';
import { RequestWriter } from './request-writer';
import type { ClusterSyncReport, SyncTargets } from './sync';
import { applyInventory, syncCluster } from './sync';
import { SystemView } from './system-view';
import type { StateChange } from './watch';
import { stateName, watchActor } from './watch';
import { WriteBatch } from './write-batch';

interface EntityWrite {
  kind: 'vm' | 'host';
  snapshot: unknown;
  state: string;
  info: VmInfo | HostInfo;
}

/** Where state changes, decisions and loop events go (NATS in production; a list in tests). */
export interface EventSink {
  publish(subject: string, payload: unknown): void;
}

export interface OverseerDeps {
  clock: Clock;
  log: Log;
  config: OverseerConfig;
  store: StateStore;
  platforms: ReadonlyMap<string, Platform>;
  events?: EventSink | undefined;
  inspect?: Observer<InspectionEvent> | undefined;
  /** Request and incident ids (random UUIDs by default; scenario tests number them). */
  newId?: ((kind: 'request' | 'incident') => string) | undefined;
  notifier?: Notifier | undefined;
  ssh?: SshTargetSource | undefined;
  knowledge?: (KnowledgeSink & FailureSink & KnowledgeAdvisor) | undefined;
}

/** Where failed requests are written back (the knowledge base). */
export interface FailureSink {
  recordFailedRequest(failure: {
    requestId: string;
    action: Action;
    target: RequestSpec['target'];
    error: string;
    params: Record<string, unknown>;
  }): unknown;
}

export interface Submission {
  action: Action;
  target: { cluster: string; vmid?: number | undefined };
  params?: Record<string, unknown> | undefined;
  force?: boolean | undefined;
  requester: Requester;
  idempotencyKey?: string | undefined;
  origin?: 'human' | 'overseer' | undefined;
}

export interface SubmitResult {
  requestId: string;
  decision: 'approved' | 'denied' | 'awaiting_approval';
  reasons: string[];
  checks: RequestContext['checks'];
  status: RequestStatus;
  /** True when an Idempotency-Key matched an earlier submission and this is its answer. */
  replayed: boolean;
}

export type CommandResult =
  | { ok: true; status: RequestStatus }
  | { ok: false; code: 'not_found' | 'refused' | 'conflict'; reason: string };

/** States a request rests in once the gate has spoken. */
const DECIDED: ReadonlySet<string> = new Set([
  'denied',
  'awaiting_approval',
  'approved',
  'queued',
  'executing',
  'completed',
  'failed',
  'cancelled',
  'expired',
]);

/** Fires an event at an absolute time of the injected clock; survives restarts because its input is the deadline. */
function deadline(clock: Clock, type: string) {
  return fromCallback<{ type: string }, { at: number }>(({ input, sendBack }) => {
    const handle = clock.setTimeout(() => sendBack({ type }), Math.max(0, input.at - clock.now()));
    return () => clock.clearTimeout(handle);
  });
}

export class Overseer {
  readonly view = new SystemView();
  readonly vms: ActorSet<VmMachine>;
  readonly hosts: ActorSet<HostMachine>;
  readonly requests: ActorSet<RequestMachine>;
  readonly gate: GateService;
  readonly monitor: Monitor;
  /** Actors by id (`overseer`, `loop:sync`, `req:<id>`, `vm:lab/101`, ...), also reachable over NATS. */
  readonly addresses = new AddressBook((id) => this.actorById(id));
  private root: Actor<OverseerMachine> | undefined;
  private unwatchRoot: (() => void) | undefined;
  private readonly entityWrites: WriteBatch<EntityWrite>;
  /** Counts by state of VMs, hosts and requests (the system summary). */
  readonly summary: SummaryStore = createSummaryStore();
  private lastSync: (ClusterSyncReport & { durationMs: number })[] = [];
  private readonly healthTracker: HealthTracker;
  private readonly requestWriter: RequestWriter;
  /** When each live request entered its current status. */
  private readonly requestSince = new Map<string, number>();

  constructor(private readonly deps: OverseerDeps) {
    const { clock, log, config, store } = deps;
    this.requestWriter = new RequestWriter(store);
    this.healthTracker = new HealthTracker({ clock, log, store, config });
    this.gate = new GateService(this.view, config.gate, clock, deps.knowledge);
    this.entityWrites = new WriteBatch((rows) => {
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
        this.entityWrites.put(`vm:${key}`, {
          kind: 'vm',
          snapshot: this.vms.get(key)?.getPersistedSnapshot() ?? snapshot,
          state: stateName(snapshot.value),
          info: snapshot.context.info,
        });
        if (snapshot.status === 'done') this.view.removeVm(snapshot.context.info.cluster, snapshot.context.info.vmid);
        else if (changed) this.view.setVm(snapshot.context.info);
      },
      onStateChange: (key, change) => {
        this.count('vmStateChanged', change);
        this.publishState('vm', key, change);
      },
      onCreated: (key, actor) =>
        actor.on('issue', (issue) => {
          log.warn(`vm:${key}: ${issue.detail}`);
          store.audit.append({ at: issue.at, actor: 'overseer', kind: `vm.${issue.kind}`, data: issue });
          this.publish(() => subjects.evtVm(issue.cluster, issue.vmid, 'issue'), issue);
          this.monitor.recordIssue(issue);
          // Look at it now rather than at the next monitor tick.
          this.addresses.send(actorId.loop('monitor'), { type: 'RUN_NOW' });
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
          this.entityWrites.put(`host:${key}`, {
            kind: 'host',
            snapshot: actor.getPersistedSnapshot(),
            state: stateName(snapshot.value),
            info: snapshot.context.info,
          });
        }
      },
      onStateChange: (key, change) => {
        this.count('hostStateChanged', change);
        this.publishState('host', key, change);
      },
    });

    const gate = this.gate;
    this.requests = new ActorSet({
      kind: 'request',
      logic: requestMachine.provide({
        actors: {
          validate: fromPromise(async ({ input }) => gate.validate(input.spec)),
          gate: fromPromise(async ({ input }) => gate.decide(input.spec)),
          approvalDeadline: deadline(clock, 'APPROVAL_EXPIRED'),
          execute: createExecutor({
            clock,
            log,
            platforms: deps.platforms,
            vms: this.view.vms,
            requestContext: (id) => this.requests.get(id)?.getSnapshot().context,
            taskTimeoutMs: config.execution.taskTimeoutSeconds * 1000,
            onPlatformChanged: () => this.syncSoon(),
            durable: () => this.flushRequests(),
            taskOwner: (upid) => {
              this.flushRequests();
              return store.requests.findIdByTaskUpid(upid);
            },
          }),
        },
      }),
      idOf: (key) => actorId.request(key),
      clock,
      log,
      inspect: deps.inspect,
      onSnapshot: (key, snapshot, changed) => {
        if (!changed) this.persistRequest(key, snapshot.context, undefined);
      },
      onStateChange: (key, change) => {
        this.count('requestStateChanged', change);
        this.onRequestState(key, change);
      },
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
      publish: (subject, payload) => this.publish(subject, payload),
      newId: () => (deps.newId ? deps.newId('incident') : randomUUID()),
    });
  }

  private count(
    type: 'vmStateChanged' | 'hostStateChanged' | 'requestStateChanged',
    change: StateChange<unknown>,
  ): void {
    this.summary.send({ type, from: change.from === 'none' ? undefined : change.from, to: change.to });
  }

  /** Restores every actor from its snapshot, then starts the root and its loops. */
  start(): void {
    this.restore();
    this.startRoot();
  }

  /** Brings back every VM, host and unfinished request actor from its snapshot. */
  restore(): { vms: number; hosts: number; requests: number } {
    const { store, log } = this.deps;
    let vms = 0;
    let hosts = 0;
    for (const record of store.inventory.listClusters()) this.view.setCluster(record.info);
    for (const row of store.snapshots.listByKind('vm')) {
      const key = row.actorId.slice('vm:'.length);
      const actor = this.vms.restore(key, row.snapshot);
      if (actor) {
        this.view.setVm(actor.getSnapshot().context.info);
        vms++;
      }
    }
    for (const row of store.snapshots.listByKind('host')) {
      const actor = this.hosts.restore(row.actorId.slice('host:'.length), row.snapshot);
      if (actor) {
        this.view.setHost(actor.getSnapshot().context.info);
        hosts++;
      }
    }
    const restoredRequests: string[] = [];
    for (const row of store.snapshots.listByKind('request')) {
      const id = row.actorId.slice('req:'.length);
      const snapshot = row.snapshot as { status?: string; value?: string; context?: RequestContext };
      if (snapshot.status !== 'active' || !snapshot.context) continue;
      if (snapshot.value && ['awaiting_approval', 'approved', 'queued', 'executing'].includes(snapshot.value)) {
        this.gate.hold(snapshot.context.spec);
      }
      if (this.requests.restore(id, row.snapshot)) restoredRequests.push(id);
    }
    // A request recorded but killed before its actor wrote a first snapshot was never answered nor decided:
    // it is gated afresh.
    for (const record of store.requests.listActive()) {
      if (this.requests.has(record.id)) continue;
      if (record.status === 'received') {
        const { id, action, target, params, force, requester, submittedAt, origin } = record;
        this.requests.create(id, {
          spec: { id, action, target, params, force, requester, submittedAt, origin },
          approvalTimeoutMs: this.deps.config.gate.approvalTimeoutSeconds * 1000,
        });
        restoredRequests.push(id);
      } else {
        log.error(`request ${record.id} is ${record.status} but has no snapshot; it cannot be restored`);
      }
    }
    const countStates = (set: Iterable<[string, { getSnapshot(): { value: unknown } }]>) => {
      const counts: Record<string, number> = {};
      for (const [, a] of set) {
        const s = stateName(a.getSnapshot().value as never);
        counts[s] = (counts[s] ?? 0) + 1;
      }
      return counts;
    };
    this.summary.send({
      type: 'reset',
      vms: countStates(this.vms.entries()),
      hosts: countStates(this.hosts.entries()),
      requests: store.requests.countByStatus(),
    });
    this.flushRequests();
    log.info(`restored ${vms} VM, ${hosts} host and ${restoredRequests.length} request actors`);
    return { vms, hosts, requests: restoredRequests.length };
  }

  /** Starts the root actor, which spawns and supervises the loops, and hands it the restored requests. */
  startRoot(): void {
    const { store, config, clock, log } = this.deps;
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
              startExecution: (_, work) => this.addresses.send(actorId.request(work.requestId), { type: 'EXECUTE' }),
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
      this.publish(() => subjects.evtLoop(e.loop, 'restarted'), e);
      if (e.loop === 'execution') this.feedExecutionLoop();
    });
    root.on('escalated', (e) => {
      log.error(`overseer: loop ${e.loop} ${e.reason} ${e.restarts} times; gave up restarting it`);
      store.audit.append({ at: clock.now(), actor: 'overseer', kind: 'loop.escalated', data: e });
      this.publish(() => subjects.evtLoop(e.loop, 'escalated'), e);
    });
    root.start();
    this.feedExecutionLoop();
  }

  /** Stops every actor and writes what is pending. */
  stop(): void {
    this.unwatchRoot?.();
    this.root?.stop();
    this.root = undefined;
    this.flushRequests();
    this.requests.stopAll();
    this.vms.stopAll();
    this.hosts.stopAll();
    this.entityWrites.flush();
  }

  private actorById(id: string): AnyActorRef | undefined {
    if (id === actorId.overseer) return this.root;
    if (id.startsWith('loop:')) return this.root?.system.get(id);
    if (id.startsWith('req:')) return this.requests.get(id.slice(4));
    if (id.startsWith('vm:')) return this.vms.get(id.slice(3));
    if (id.startsWith('host:')) return this.hosts.get(id.slice(5));
    if (id.startsWith('incident:')) return this.monitor.incidents.get(id.slice(9));
    return undefined;
  }

  /** When a live request entered its current status. */
  statusSince(id: string): number | undefined {
    return this.requestSince.get(id);
  }

  get rootSnapshot() {
    return this.root?.getSnapshot();
  }

  // ---- requests ---------------------------------------------------------------------------------------------

  async submit(submission: Submission): Promise<SubmitResult> {
    const { store, clock, config } = this.deps;
    if (submission.idempotencyKey) {
      const earlier = store.requests.findByIdempotencyKey(submission.requester.id, submission.idempotencyKey);
      if (earlier) {
        // The first submission may still be deciding: answer with its decision, not a guess.
        const live = this.requests.get(earlier.id);
        if (live && !DECIDED.has(String(live.getSnapshot().value))) {
          const decided = await waitFor(live, (s) => DECIDED.has(String(s.value)));
          this.flushRequests();
          return { ...this.answerOf(earlier.id, decided), replayed: true };
        }
        return {
          requestId: earlier.id,
          decision: (earlier.decision ?? 'denied') as SubmitResult['decision'],
          reasons: earlier.reasons,
          checks: earlier.checks,
          status: earlier.status,
          replayed: true,
        };
      }
    }
    const spec: RequestSpec = {
      id: this.deps.newId ? this.deps.newId('request') : randomUUID(),
      action: submission.action,
      target: submission.target,
      params: submission.params ?? {},
      force: submission.force ?? false,
      requester: submission.requester,
      submittedAt: clock.now(),
      origin: submission.origin ?? 'human',
    };
    store.transaction(() => {
      store.requests.insert(spec, 'received', submission.idempotencyKey);
      store.audit.append({ at: spec.submittedAt, actor: spec.requester.id, kind: 'request.received', data: spec });
    });
    const actor = this.requests.create(spec.id, { spec, approvalTimeoutMs: config.gate.approvalTimeoutSeconds * 1000 });
    const snapshot = await waitFor(actor, (s) => DECIDED.has(String(s.value)));
    // The decision is on disk before the answer leaves.
    this.flushRequests();
    return { ...this.answerOf(spec.id, snapshot), replayed: false };
  }

  private answerOf(
    requestId: string,
    snapshot: { value: unknown; context: RequestContext },
  ): Omit<SubmitResult, 'replayed'> {
    const { context } = snapshot;
    return {
      requestId,
      decision: context.decision ?? 'denied',
      reasons: context.reasons,
      checks: context.checks,
      status: String(snapshot.value) as RequestStatus,
    };
  }

  approve(id: string, by: Requester): CommandResult {
    return this.command(id, by, 'APPROVE', (context) => approvalRefusal(context, by));
  }
  deny(id: string, by: Requester, reason?: string): CommandResult {
    return this.command(id, by, 'DENY', (context) => closeRefusal(context, by), reason);
  }
  cancel(id: string, by: Requester): CommandResult {
    return this.command(id, by, 'CANCEL', (context) => closeRefusal(context, by));
  }

  private command(
    id: string,
    by: Requester,
    type: 'APPROVE' | 'DENY' | 'CANCEL',
    refusal: (context: RequestContext) => string | undefined,
    reason?: string,
  ): CommandResult {
    const actor = this.requests.get(id);
    if (!actor) {
      const record = this.deps.store.requests.get(id);
      if (!record) return { ok: false, code: 'not_found', reason: `request ${id} does not exist` };
      return { ok: false, code: 'conflict', reason: `request ${id} is ${record.status}` };
    }
    const snapshot = actor.getSnapshot();
    const why = refusal(snapshot.context);
    if (why) return { ok: false, code: 'refused', reason: why };
    const at = this.deps.clock.now();
    const event = type === 'DENY' ? { type, by, at, reason } : { type, by, at };
    if (!snapshot.can(event)) {
      return {
        ok: false,
        code: 'conflict',
        reason: `request ${id} is ${String(snapshot.value)}: cannot ${type.toLowerCase()} it now`,
      };
    }
    this.deps.store.audit.append({ at, actor: by.id, kind: `request.${type.toLowerCase()}`, data: { id, reason } });
    actor.send(event);
    this.flushRequests();
    return { ok: true, status: String(actor.getSnapshot().value) as RequestStatus };
  }

  private onRequestState(id: string, change: StateChange<ReturnType<Actor<RequestMachine>['getSnapshot']>>): void {
    const { context } = change.snapshot;
    const status = change.to as RequestStatus;
    const spec = context.spec;
    this.requestSince.set(id, this.deps.clock.now());
    this.persistRequest(id, context, { status, from: change.from });
    this.publish(() => subjects.evtReq(id, status), {
      id,
      action: spec.action,
      target: spec.target,
      status,
      decision: context.decision,
      reasons: context.reasons,
      at: this.deps.clock.now(),
    });
    const vm = spec.target.vmid !== undefined ? this.vms.get(vmKey(spec.target.cluster, spec.target.vmid)) : undefined;
    const opVm = spec.action === 'deploy' ? this.vms.get(vmKey(spec.target.cluster, Number(spec.params.template))) : vm;
    switch (status) {
      case 'approved':
        this.enqueue(id, spec);
        break;
      case 'executing':
        opVm?.send({ type: 'OPERATION_STARTED', requestId: id, action: spec.action });
        break;
      default:
        if (TERMINAL_REQUEST_STATUSES.has(status)) {
          const ran = change.from === 'executing';
          this.gate.release(spec, ran || status === 'completed');
          if (status === 'failed') this.recordFailure(id, context);
          if (ran) {
            opVm?.send({ type: 'OPERATION_ENDED', requestId: id, ok: status === 'completed' });
            this.executionLoop()?.send({ type: 'FINISHED', requestId: id });
          } else if (change.from === 'queued' || change.from === 'approved') {
            this.executionLoop()?.send({ type: 'FINISHED', requestId: id });
          }
          // Stop the actor once its final snapshot is written.
          this.requestSince.delete(id);
          queueMicrotask(() => this.requests.remove(id));
        }
    }
  }

  /** Queues a request's changes for the next group commit (see RequestWriter). */
  private persistRequest(
    id: string,
    context: RequestContext,
    change: { status: RequestStatus; from: string } | undefined,
  ): void {
    const actor = this.requests.get(id);
    if (!actor) return;
    const at = this.deps.clock.now();
    this.requestWriter.queue(
      id,
      context,
      actor.getPersistedSnapshot(),
      at,
      change && {
        ...change,
        at,
        by: this.actorOfChange(context, change.status),
        reasons: change.status === 'denied' ? context.reasons : undefined,
      },
    );
  }

  /** Writes every queued request change now. */
  flushRequests(): void {
    this.requestWriter.flush();
  }

  private recordFailure(id: string, context: RequestContext): void {
    const { spec } = context;
    const error = context.error ?? 'failed';
    this.monitor.recordFailedRequest(id, spec.target.cluster, error, context.tasks, this.deps.clock.now());
    const write = this.deps.knowledge?.recordFailedRequest({
      requestId: id,
      action: spec.action,
      target: spec.target,
      error,
      params: spec.params,
    });
    if (write instanceof Promise)
      write.catch((e: unknown) => this.deps.log.error(`knowledge: recording request ${id} failed`, e));
  }

  private actorOfChange(context: RequestContext, status: RequestStatus): string | undefined {
    if (status === 'approved' && context.approvedBy) return context.approvedBy.id;
    if ((status === 'denied' || status === 'cancelled') && context.closedBy) return context.closedBy.id;
    return undefined;
  }

  private nodeOf(spec: RequestSpec): string {
    if (spec.action === 'deploy') {
      const template = this.view.vms.get(vmKey(spec.target.cluster, Number(spec.params.template)));
      return `${spec.target.cluster}/${template?.node ?? String(spec.params.node)}`;
    }
    const vm =
      spec.target.vmid !== undefined ? this.view.vms.get(vmKey(spec.target.cluster, spec.target.vmid)) : undefined;
    return `${spec.target.cluster}/${vm?.node ?? '?'}`;
  }

  private enqueue(id: string, spec: RequestSpec): void {
    const loop = this.executionLoop();
    if (!loop) return;
    // QUEUED first: the loop may start the request at once, and EXECUTE is only accepted once it is queued.
    this.requests.get(id)?.send({ type: 'QUEUED' });
    loop.send({ type: 'ENQUEUE', work: { requestId: id, node: this.nodeOf(spec) } });
  }

  private executionLoop() {
    return this.root?.system.get('loop:execution') as Actor<typeof executionLoopMachine> | undefined;
  }

  /** Hands every approved, queued and executing request to a (new) execution loop. */
  private feedExecutionLoop(): void {
    const loop = this.executionLoop();
    if (!loop) return;
    for (const [id, actor] of this.requests.entries()) {
      const snapshot = actor.getSnapshot();
      const spec = snapshot.context.spec;
      if (snapshot.value === 'executing')
        loop.send({ type: 'ADOPT_RUNNING', work: { requestId: id, node: this.nodeOf(spec) } });
    }
    for (const [id, actor] of this.requests.entries()) {
      const snapshot = actor.getSnapshot();
      if (snapshot.value === 'approved') this.enqueue(id, snapshot.context.spec);
      else if (snapshot.value === 'queued')
        loop.send({ type: 'ENQUEUE', work: { requestId: id, node: this.nodeOf(snapshot.context.spec) } });
    }
  }

  // ---- loops ------------------------------------------------------------------------------------------------

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
    this.entityWrites.flush();
    this.lastSync = reports;
    for (const r of reports) this.publish(() => subjects.evtLoop('sync', r.ok ? 'synced' : 'failed'), r);
    const failed = reports.filter((r) => !r.ok);
    if (failed.length > 0) throw new Error(failed.map((r) => `${r.cluster}: ${r.error}`).join('; '));
  }

  /** Applies one inventory answer (what a sync does per cluster); used by the sync and by scenario tests. */
  observe(inventory: Inventory): ClusterSyncReport {
    const report = applyInventory(inventory, this.syncTargets());
    this.entityWrites.flush();
    return report;
  }

  private syncTargets(): SyncTargets {
    const { config, clock, log } = this.deps;
    return {
      clock,
      log,
      view: this.view,
      vms: this.vms,
      hosts: this.hosts,
      setCluster: (info) => {
        this.view.setCluster(info);
        this.deps.store.inventory.upsertCluster(info, clock.now());
      },
      hostThresholds: {
        cpu: config.hosts.cpuThreshold,
        mem: config.hosts.memThreshold,
        offlineGraceMs: config.hosts.offlineGraceSeconds * 1000,
      },
    };
  }

  /** Asks the sync loop for a cycle now (after a request changed the platform). */
  syncSoon(): void {
    this.addresses.send(actorId.loop('sync'), { type: 'RUN_NOW' });
  }

  get lastSyncReports(): readonly ClusterSyncReport[] {
    return this.lastSync;
  }

  private async monitorCycle(): Promise<void> {
    this.entityWrites.flush();
    await this.monitor.cycle();
  }

  /** The health loop: checks the database; a periodic loop that missed its heartbeats is restarted by the root. */
  private healthCycle(): void {
    for (const loop of this.healthTracker.cycle()) this.root?.send({ type: 'LOOP_STALLED', loop });
  }

  /** Self and platform health: database, clusters, loops. */
  health(): HealthReport {
    return this.healthTracker.report({
      clusters: [...this.deps.platforms.keys()],
      cluster: (name) => this.view.clusters.get(name),
      lastSync: this.lastSync,
      escalated: this.root?.getSnapshot().context.escalated ?? [],
    });
  }

  // ---- events -----------------------------------------------------------------------------------------------

  /** Publishes an event; a subject that cannot be built or a bus that fails is logged, never thrown. */
  private publish(subject: () => string, payload: unknown): void {
    if (!this.deps.events) return;
    try {
      this.deps.events.publish(subject(), payload);
    } catch (error) {
      this.deps.log.error('publishing an event failed', error);
    }
  }

  private publishState(kind: 'vm' | 'host', key: string, change: StateChange<unknown>): void {
    const [cluster = '', id = ''] = key.split('/');
    const payload = { id: change.actorId, from: change.from, to: change.to, at: this.deps.clock.now() };
    this.publish(
      () => (kind === 'vm' ? subjects.evtVm(cluster, Number(id), 'state') : subjects.evtHost(cluster, id, 'state')),
      payload,
    );
  }
}
