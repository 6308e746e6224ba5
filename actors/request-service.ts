// The request actors and what is done with them: submissions (idempotent, answered once the gate has spoken),
// approvals, denials and cancellations, and what follows each status change (persist, publish, queue, tell the
// VM, release the gate's hold, record a failure). Requests are written through the RequestWriter's group commit.
import type { Actor } from 'xstate';
import { waitFor } from 'xstate';
import type { RecheckResult } from '../machines/gate';
import type { GateActorInput, RequestContext, RequestEvent, RequestMachine } from '../machines/request.machine';
import { approvalRefusal, closeRefusal, requestMachine } from '../machines/request.machine';
import type { BulkMember, Requester, RequestSpec, RequestStatus } from '../machines/types';
import { actorId, OVERSEER_ID, TERMINAL_REQUEST_STATUSES, UNDECIDED_REQUEST_STATUSES } from '../machines/types';
import type { VmMachine } from '../machines/vm.machine';
import { subjects } from '../protocol';
import type { SummaryStore } from '../state';
import { ActorSet } from './actor-set';
import { requestNotice } from './approval-notices';
import { createBulkRunner } from './bulk-executor';
import { requestBulkHost } from './bulk-host';
import { AUDIT_COMMAND_KIND, sshCommandRunner } from './command-executor';
import { deadline } from './deadline';
import { countChange } from './entity-actors';
import type { EventPublisher } from './event-publisher';
import type { ExecutionFeed } from './execution-feed';
import { createExecutor } from './executor';
import type { GateService } from './gate-service';
import type { GuestRef } from './guest-refresh';
import type { Monitor } from './monitor';
import type { OverseerDeps } from './overseer-deps';
import { fromSettled } from './promise-logic';
import { answerOf, dryRunAnswer, requestSpecOf } from './request-answers';
import { newRequestId } from './request-ids';
import { causeOfChange, operationVm, recordRequestFailure } from './request-status-change';
import { RequestWriter } from './request-writer';
import type { CommandResult, Submission, SubmitResult } from './submission';
import type { SystemView } from './system-view';
import type { StateChange } from './watch';

export interface RequestServiceDeps {
  deps: OverseerDeps;
  view: SystemView;
  gate: GateService;
  summary: SummaryStore;
  events: EventPublisher;
  vms: ActorSet<VmMachine>;
  execution: Pick<ExecutionFeed, 'enqueue' | 'finished'>;
  /** A request failed on the platform (the monitor counts its tasks as failed tasks). */
  recordFailedRequest: Monitor['recordFailedRequest'];
  /** A request changed the platform: the guest it left in place is read again, or the sync loop asked for a cycle. */
  platformChanged: (cluster: string, readBack?: GuestRef) => Promise<void>;
  /** Where the request actors' events are journaled when no inspector needs XState's inspection stream. */
  journal?: ((actorId: string, eventType: string) => void) | undefined;
}

export class RequestService {
  readonly requests: ActorSet<RequestMachine>;
  private readonly writer: RequestWriter;
  /** When each live request entered its current status. */
  private readonly since = new Map<string, number>();
  private readonly deps: OverseerDeps;

  constructor(private readonly wiring: RequestServiceDeps) {
    const { deps, view, gate, summary } = wiring;
    const { clock, log, config, store } = deps;
    this.deps = deps;
    this.writer = new RequestWriter(store);
    this.requests = new ActorSet({
      kind: 'request',
      logic: requestMachine.provide({
        actors: {
          // Promise logic without an AbortController each (actors/promise-logic.ts): neither step is ever cancelled.
          validate: fromSettled(async ({ input }: { input: GateActorInput }) => gate.validate(input.spec)),
          gate: fromSettled(async ({ input }: { input: GateActorInput }) => gate.decide(input.spec)),
          approvalDeadline: deadline(clock, 'APPROVAL_EXPIRED'),
          execute: createExecutor({
            clock,
            log,
            platforms: deps.platforms,
            vms: view.vms,
            requestContext: (id) => this.requests.get(id)?.getSnapshot().context,
            taskTimeoutMs: config.execution.taskTimeoutSeconds * 1000,
            onPlatformChanged: (cluster, readBack) => wiring.platformChanged(cluster, readBack),
            // Before every platform call: what the request recorded so far is on the local disk, and (several
            // cores, issue 15) in the replicated record.
            // The shared group commit, not a commit of its own per call.
            durable: async () => {
              await this.writer.durable();
              await deps.afterDurable?.();
            },
            taskOwner: (upid) => {
              this.flush();
              return store.requests.findIdByTaskUpid(upid);
            },
            ssh: deps.ssh && sshCommandRunner(deps.ssh),
            // The decision is in the request's record; what the command did is in the audit log.
            onCommandResult: (record) =>
              store.audit.append({ at: clock.now(), actor: OVERSEER_ID, kind: AUDIT_COMMAND_KIND, data: record }),
            backupWaitMs: config.execution.backupWaitSeconds * 1000,
            bulk: createBulkRunner(
              requestBulkHost({
                deps,
                wiring,
                requests: () => this.requests,
                service: () => this,
                cancel: (id, by, reason) => this.cancel(id, by, reason),
                settled: (id, signal) => this.settled(id, signal),
              }),
            ),
          }),
        },
      }),
      idOf: (key) => actorId.request(key),
      clock,
      log,
      inspect: wiring.journal ? undefined : deps.inspect,
      journal: wiring.journal,
      onSnapshot: (key, snapshot, changed) => {
        if (!changed) this.persist(key, snapshot.context, undefined);
      },
      onStateChange: (key, change) => {
        countChange(summary, 'requestStateChanged', change);
        this.onState(key, change);
      },
    });
  }

  async submit(submission: Submission): Promise<SubmitResult> {
    const { store, config } = this.deps;
    if (submission.dryRun) return dryRunAnswer(submission, this.wiring.gate, this.deps.clock);
    if (submission.idempotencyKey) {
      // A first submission with this key still on its way to disk is found once it is there.
      if (this.writer.pendingIdempotent(submission.requester.id, submission.idempotencyKey) !== undefined) {
        await this.writer.durable({ all: true });
      }
      const earlier = store.requests.findByIdempotencyKey(submission.requester.id, submission.idempotencyKey);
      if (earlier) {
        // Its answer may still be waiting for the record (several cores): a replay does not overtake it.
        if (this.deps.afterDurable) await this.deps.afterDurable();
        // The first submission may still be deciding: answer with its decision, not a guess.
        const live = this.requests.get(earlier.id);
        if (live && UNDECIDED_REQUEST_STATUSES.has(String(live.getSnapshot().value))) {
          const decided = await waitFor(live, (s) => !UNDECIDED_REQUEST_STATUSES.has(String(s.value)));
          await this.writer.durable();
          if (this.deps.afterDurable) await this.deps.afterDurable();
          return answerOf(earlier.id, decided, true);
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
    // A time-ordered id (UUIDv7, increasing within the process): each commit's new rows go to the last pages of the
    // indexes keyed by request id instead of one random page each (bench/README.md, session 9).
    const spec = requestSpecOf(
      submission,
      this.deps.newId ? this.deps.newId('request') : newRequestId(this.deps.clock.now()),
      this.deps.clock.now(),
    );
    // The request's row and its `request.received` entry go to disk in the commit that holds its decision: nothing
    // reaches the platform before a flush, and an answer never leaves before that commit.
    this.writer.insert(spec, submission.idempotencyKey);
    const actor = this.requests.create(spec.id, { spec, approvalTimeoutMs: config.gate.approvalTimeoutSeconds * 1000 });
    const snapshot = await waitFor(actor, (s) => !UNDECIDED_REQUEST_STATUSES.has(String(s.value)));
    // The decision is on disk before the answer leaves: one commit serves every decision waiting on it.
    await this.writer.durable();
    if (this.deps.afterDurable) await this.deps.afterDurable();
    return answerOf(spec.id, snapshot, false);
  }

  // The reason given with an approval, denial or cancellation is kept: in the status history (its note), the
  // audit log, and the request's decision.
  approve(id: string, by: Requester, reason?: string): CommandResult {
    return this.command(id, by, 'APPROVE', (context) => approvalRefusal(context, by), reason);
  }
  deny(id: string, by: Requester, reason?: string): CommandResult {
    return this.command(id, by, 'DENY', (context) => closeRefusal(context, by), reason);
  }
  cancel(id: string, by: Requester, reason?: string): CommandResult {
    return this.command(id, by, 'CANCEL', (context) => closeRefusal(context, by), reason);
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
    const spec = snapshot.context.spec;
    // An approval is re-checked against the facts as they are now, not as they were when the gate decided.
    const event: RequestEvent =
      type === 'APPROVE'
        ? { type, by, at, reason, recheck: this.wiring.gate.recheck(spec, 'approval', true) }
        : { type, by, at, reason };
    if (!snapshot.can(event)) {
      return {
        ok: false,
        code: 'conflict',
        reason: `request ${id} is ${String(snapshot.value)}: cannot ${type.toLowerCase()} it now`,
      };
    }
    this.deps.store.audit.append({ at, actor: by.id, kind: `request.${type.toLowerCase()}`, data: { id, reason } });
    if (event.type === 'APPROVE') this.auditRecheck(id, event.recheck, at);
    actor.send(event);
    this.flush();
    return { ok: true, status: String(actor.getSnapshot().value) as RequestStatus };
  }

  /**
   * The execution loop starts a queued request: the platform facts its checks need are read again and the facts
   * re-checked right before its first platform call; a request that no longer passes fails there with the reason.
   */
  async execute(id: string): Promise<void> {
    const actor = this.requests.get(id);
    if (!actor) return;
    try {
      await this.wiring.gate.refreshFacts(actor.getSnapshot().context.spec);
    } catch (error) {
      // The re-check then runs without them and fails closed where they are needed.
      this.deps.log.warn(`req:${id}: the platform facts could not be read again: ${(error as Error).message}`);
    }
    const { context } = actor.getSnapshot();
    const at = this.deps.clock.now();
    const approvedByPerson = context.approvedBy !== undefined || this.parentOf(context.spec)?.approvedBy !== undefined;
    const recheck = this.wiring.gate.recheck(context.spec, 'execution', approvedByPerson);
    this.auditRecheck(id, recheck, at);
    actor.send({ type: 'EXECUTE', at, recheck });
  }

  /** A failed re-check is recorded like any decision: its checks, in the audit log. */
  private auditRecheck(id: string, recheck: RecheckResult, at: number): void {
    if (recheck.reason === undefined) return;
    this.deps.store.audit.append({
      at,
      actor: OVERSEER_ID,
      kind: 'request.recheck_failed',
      data: { id, stage: recheck.stage, reason: recheck.reason, checks: recheck.checks },
    });
  }

  /** Resolves with a request's status once it is terminal. */
  async settled(id: string, signal?: AbortSignal): Promise<RequestStatus> {
    const live = this.requests.get(id);
    if (live) {
      const done = await waitFor(live, (s) => s.status === 'done', {
        timeout: Number.POSITIVE_INFINITY,
        ...(signal ? { signal } : {}),
      });
      return String(done.value) as RequestStatus;
    }
    this.flush();
    return this.deps.store.requests.get(id)?.status ?? 'failed';
  }

  /** A request's status: live, or as recorded; undefined when there is no request of that id. */
  statusOf(id: string): RequestStatus | undefined {
    const live = this.requests.get(id);
    if (live) return String(live.getSnapshot().value) as RequestStatus;
    this.flush();
    return this.deps.store.requests.get(id)?.status;
  }

  /** A request as recorded, after writing what is pending. */
  record(id: string) {
    this.flush();
    return this.deps.store.requests.get(id);
  }

  /** A member request of a running parent (a bulk request's, a lab's): recorded and audited, then its actor. */
  createMember(spec: RequestSpec): void {
    const { store, config } = this.deps;
    store.transaction(() => {
      store.requests.insert(spec, 'received');
      store.audit.append({ at: spec.submittedAt, actor: OVERSEER_ID, kind: 'request.received', data: spec });
    });
    this.requests.create(spec.id, { spec, approvalTimeoutMs: config.gate.approvalTimeoutSeconds * 1000 });
  }

  /** The live context of a bulk member's parent while it executes (its decision covers the member). */
  parentOf(spec: RequestSpec): RequestContext | undefined {
    if (spec.parent === undefined) return undefined;
    const snapshot = this.requests.get(spec.parent)?.getSnapshot();
    return snapshot?.value === 'executing' ? snapshot.context : undefined;
  }

  /** A running bulk request's recorded members (what the gate checks a member request against). */
  parentMembers(parentId: string): readonly BulkMember[] | undefined {
    const snapshot = this.requests.get(parentId)?.getSnapshot();
    return snapshot?.value === 'executing' ? snapshot.context.members : undefined;
  }

  /** When a live request entered its current status. */
  statusSince(id: string): number | undefined {
    return this.since.get(id);
  }

  private onState(id: string, change: StateChange<ReturnType<Actor<RequestMachine>['getSnapshot']>>): void {
    const { vms, execution, gate } = this.wiring;
    const { context } = change.snapshot;
    const status = change.to as RequestStatus;
    const spec = context.spec;
    this.since.set(id, this.deps.clock.now());
    this.persist(id, context, { status, from: change.from });
    // Who asked, and who caused this change (an approval, a denial, a cancellation) with the reason they gave.
    const cause = causeOfChange(context, status, change.from);
    const { requester } = spec;
    this.wiring.events.publish(() => subjects.evtReq(id, status), {
      id,
      action: spec.action,
      target: spec.target,
      status,
      decision: context.decision,
      reasons: context.reasons,
      requester: { id: requester.id, role: requester.role, name: requester.name },
      by: cause.by,
      note: cause.note,
      at: this.deps.clock.now(),
    });
    requestNotice(this.deps, id, context, status, change.from);
    // The VM actor the operation runs on is told through the set (an idle VM actor at rest handles the event at rest:
    // it is not brought back).
    switch (status) {
      case 'approved':
        execution.enqueue(id, spec);
        break;
      case 'executing': {
        const vm = operationVm(spec);
        if (vm) vms.send(vm, { type: 'OPERATION_STARTED', requestId: id, action: spec.action });
        break;
      }
      default:
        if (TERMINAL_REQUEST_STATUSES.has(status)) {
          const ran = change.from === 'executing';
          gate.release(spec, ran || status === 'completed');
          if (status === 'failed') recordRequestFailure(this.wiring, this.deps, id, context);
          if (ran) {
            const vm = operationVm(spec);
            if (vm) vms.send(vm, { type: 'OPERATION_ENDED', requestId: id, ok: status === 'completed' });
            execution.finished(id);
          } else if (change.from === 'queued' || change.from === 'approved') {
            execution.finished(id);
          }
          // Stop the actor once its final snapshot is written.
          this.since.delete(id);
          queueMicrotask(() => this.requests.remove(id));
        }
    }
  }

  /** Queues a request's changes for the next group commit (see RequestWriter). */
  private persist(
    id: string,
    context: RequestContext,
    change: { status: RequestStatus; from: string } | undefined,
  ): void {
    const actor = this.requests.get(id);
    if (!actor) return;
    const at = this.deps.clock.now();
    this.writer.queue(
      id,
      context,
      () => actor.getPersistedSnapshot(),
      at,
      // Not `{ ...change, at, … }` (a new hidden class per literal on Node 20: bench/object-spread.ts).
      change && {
        status: change.status,
        from: change.from,
        at,
        ...causeOfChange(context, change.status, change.from),
        reasons: change.status === 'denied' ? context.reasons : undefined,
      },
    );
  }

  /** Writes every queued request change now. */
  flush(): void {
    this.writer.flush();
  }

  /** Writes what is pending, then stops every request actor. */
  stop(): void {
    this.flush();
    this.requests.stopAll();
  }
}
