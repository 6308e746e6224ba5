// The lab actors (`lab:<cluster>/<name>`) and what is done with them: a lab file applied (a new lab, or an edit of
// one), approvals, teardowns, whole-lab snapshots, drift seen on a member; every change persisted (the actor's
// snapshot and the lab's record together), audited and published on `overseer.evt.lab.<name>.<status>`. The lab's
// own decision is the lab gate's (machines/gate/lab-gate.ts) on the live facts; its guest work runs as requests of
// the lab (lab-children.ts), which its decision covers only while its work lists them.
import type { Actor, SnapshotFrom } from 'xstate';
import { waitFor } from 'xstate';
import type { LabSpec } from '../machines/lab';
import { formatIssue, labActual } from '../machines/lab';
import type { LabContext, LabDriftNotice, LabEvent, LabMachine } from '../machines/lab.machine';
import { labApprovalRefusal, labCloseRefusal, labMachine } from '../machines/lab.machine';
import type { VmIssueRecord } from '../machines/monitor/types';
import type { BulkMember, Requester } from '../machines/types';
import { ACTION_ROLE, OVERSEER_ID, ROLE_RANK } from '../machines/types';
import type { LabActPayload, LabListPayload, LabRefPayload, LabView } from '../protocol';
import { InputRefusedError, RoleRefusedError, StateConflictError, subjects } from '../protocol';
import { checkLabFile, labFileFormatOf, validateLabFile } from '../protocol/lab-file-parse';
import type { LabRecord, LabStatus } from '../state';
import { LAB_ENDED_STATUSES, LAB_SNAPSHOT_KIND, labActorId } from '../state';
import { ActorSet } from './actor-set';
import { labNotice } from './approval-notices';
import { deadline } from './deadline';
import type { EventPublisher } from './event-publisher';
import type { LabRequestHost } from './lab-children';
import { labCoverage } from './lab-children';
import { decideLab, labInventoryOf } from './lab-decision';
import { labStepActors } from './lab-steps';
import { labView } from './lab-views';
import type { OverseerDeps } from './overseer-deps';
import type { SystemView } from './system-view';
import type { StateChange } from './watch';
import { stateName } from './watch';

export interface LabServiceDeps {
  deps: OverseerDeps;
  view: SystemView;
  events: EventPublisher;
  requests: LabRequestHost;
  /** Opens (or adds to) the incident of a lab whose members drifted. */
  openDriftIncident: (notice: LabDriftNotice) => void;
  /** The lab is ready again: its drift incident (if open) is resolved. */
  clearDriftIncident: (cluster: string, lab: string, at: number) => void;
  /** Runs a probe command on a guest over SSH; absent: SSH probes fail. */
  sshProbe?: ((key: string, command: string) => Promise<number>) | undefined;
}

/** A lab waits in these states for a step to answer or a person to decide. */
const DECIDED_OR_WAITING: ReadonlySet<string> = new Set(['planning', 'gating']);
const ENDED: ReadonlySet<string> = new Set(LAB_ENDED_STATUSES);
const PROBE_INTERVAL_MS = 1_000;
const APPLY_ANSWER_TIMEOUT_MS = 60_000;

type LabSnapshot = SnapshotFrom<LabMachine>;

export class LabService {
  readonly labs: ActorSet<LabMachine>;
  /** Snapshots not yet written, by lab (see schedulePersist). */
  private readonly pending = new Map<string, LabSnapshot>();
  private markReady!: () => void;
  private readonly ready = new Promise<void>((resolve) => {
    this.markReady = resolve;
  });

  constructor(private readonly w: LabServiceDeps) {
    const { clock, log, platforms, inspect } = w.deps;
    const logic = labMachine.provide({
      actors: {
        ...labStepActors({
          clock,
          log,
          view: w.view,
          platforms,
          requests: w.requests,
          ready: () => this.ready,
          inventory: (cluster, platform, lab) => labInventoryOf({ ...w.deps, view: w.view }, cluster, platform, lab),
          decide: async (input) => decideLab({ ...w.deps, view: w.view }, input),
          requesterOf: (cluster, lab) =>
            this.labs.get(`${cluster}/${lab}`)?.getSnapshot().context.requester ?? {
              id: OVERSEER_ID,
              role: 'admin',
            },
          sshProbe: w.sshProbe,
          probeIntervalMs: PROBE_INTERVAL_MS,
          audit: (kind, data) => this.audit(OVERSEER_ID, kind, data),
        }),
        approvalDeadline: deadline(clock, 'APPROVAL_EXPIRED'),
        ttlDeadline: deadline(clock, 'TTL_EXPIRED'),
      },
    });
    this.labs = new ActorSet({
      kind: 'lab',
      logic,
      idOf: (key) => `lab:${key}`,
      clock,
      log,
      inspect,
      onSnapshot: (key, snapshot) => this.schedulePersist(key, snapshot),
      onStateChange: (_, change) => this.onState(change),
      onCreated: (_, actor) => {
        actor.on('drift', (notice) => this.onDrift(notice));
      },
    });
  }

  /** Brings back every lab not ended; their steps wait for `started()` before they look at requests. */
  restore(): number {
    const { store, log } = this.w.deps;
    let restored = 0;
    for (const record of store.labs.live()) {
      const row = store.snapshots.get(labActorId(record.cluster, record.name));
      if (!row) {
        log.warn(`lab:${record.cluster}/${record.name}: no snapshot to restore it from`);
        continue;
      }
      if (this.labs.restore(`${record.cluster}/${record.name}`, row.snapshot)) restored++;
    }
    return restored;
  }

  /** Every actor is restored: the labs' steps may go on. */
  started(): void {
    this.markReady();
  }

  stop(): void {
    this.flush();
    this.labs.stopAll();
  }

  /** What a lab's decision covers now (`lab:<cluster>/<name>`), for the gate's parent check. */
  coverage(parentId: string): readonly BulkMember[] | undefined {
    if (!parentId.startsWith('lab:')) return undefined;
    const snapshot = this.labs.get(parentId.slice(4))?.getSnapshot();
    return snapshot ? labCoverage(stateName(snapshot.value), snapshot.context) : undefined;
  }

  /** The lab (cluster/name) a guest belongs to, when a live lab made it. */
  labOf(cluster: string, vmid: number): string | undefined {
    for (const [key, actor] of this.labs.entries()) {
      const { context } = actor.getSnapshot();
      if (context.cluster !== cluster) continue;
      if (Object.values(context.members).some((m) => m.vmid === vmid && m.phase !== 'removed')) return key;
    }
    return undefined;
  }

  /** A VM actor saw a member stop or vanish with no request behind it: the lab's drift. */
  vmIssue(issue: VmIssueRecord): void {
    const key = this.labOf(issue.cluster, issue.vmid);
    const actor = key ? this.labs.get(key) : undefined;
    if (!actor) return;
    const member = Object.entries(actor.getSnapshot().context.members).find(([, m]) => m.vmid === issue.vmid)?.[0];
    if (!member) return;
    const state = issue.kind === 'vanished' ? ('gone' as const) : ('stopped' as const);
    actor.send({ type: 'DRIFT', at: issue.at, members: [{ member, state }] });
  }

  // ---- commands ---------------------------------------------------------------------------------------------

  /** Applies a lab file as `by`: a new lab, or the difference to the live lab of that name. */
  async apply(file: string, fileName: string | undefined, by: Requester): Promise<LabView> {
    const { store, clock, config, platforms } = this.w.deps;
    if (ROLE_RANK[by.role] < ROLE_RANK[ACTION_ROLE.deploy]) {
      throw new RoleRefusedError(`role ${by.role} may not apply a lab (needs ${ACTION_ROLE.deploy})`);
    }
    const format = fileName !== undefined ? labFileFormatOf(fileName) : undefined;
    const checked = checkLabFile(file, { format });
    if (!checked.spec || checked.issues.length > 0) throw refusal(checked.issues);
    const { cluster, name } = checked.spec;
    const platform = platforms.get(cluster);
    if (!platform) throw new InputRefusedError(`cluster: no cluster '${cluster}' is configured`, 'cluster');
    const key = `${cluster}/${name}`;
    const live = this.labs.get(key);
    const context = live?.getSnapshot().context;
    const actual = context && labActual(context.spec, Object.values(context.members), context.created);
    const validated = validateLabFile(
      file,
      await labInventoryOf({ ...this.w.deps, view: this.w.view }, cluster, platform, name),
      actual,
      {
        format,
      },
    );
    if (!validated.resolved || !validated.spec) throw refusal(validated.issues);
    const spec: LabSpec = validated.spec;
    const at = clock.now();
    if (live) {
      const status = stateName(live.getSnapshot().value);
      if (status !== 'ready' && status !== 'failed') {
        throw new StateConflictError(`lab ${key} is ${status}: apply again once it is ready`);
      }
      store.labs.update(cluster, name, { file, spec, by: by.id, note: 'file applied' }, at);
      this.audit(by.id, 'lab.applied', { lab: name, cluster, generation: live.getSnapshot().context.generation + 1 });
      live.send({ type: 'APPLY', spec, by, at });
      return this.answerOnceDecided(key);
    }
    store.transaction(() => {
      store.labs.insert({ file, spec, status: 'planning', requester: by, createdAt: at });
      this.audit(by.id, 'lab.received', { lab: name, cluster, members: spec.vms.length });
    });
    this.labs.create(key, {
      spec,
      requester: by,
      submittedAt: at,
      approvalTimeoutMs: config.gate.approvalTimeoutSeconds * 1000,
    });
    return this.answerOnceDecided(key);
  }

  approve(ref: LabActPayload, by: Requester): Promise<LabView> {
    const actor = this.awaiting(ref);
    const refused = labApprovalRefusal(actor.getSnapshot().context, by);
    if (refused) throw new RoleRefusedError(refused);
    return this.sendAs(actor, { type: 'APPROVE', by, at: this.w.deps.clock.now(), reason: ref.reason }, by, 'approved');
  }

  /** Denies (a second person, an admin) or cancels (its requester) a lab awaiting approval. */
  deny(ref: LabActPayload, by: Requester): Promise<LabView> {
    const actor = this.awaiting(ref);
    const { context } = actor.getSnapshot();
    const refused = labCloseRefusal(context, by);
    if (refused) throw new RoleRefusedError(refused);
    const at = this.w.deps.clock.now();
    const own = by.id === context.requester.id;
    const event: LabEvent = own
      ? { type: 'CANCEL', by, at, reason: ref.reason }
      : { type: 'DENY', by, at, reason: ref.reason };
    return this.sendAs(actor, event, by, own ? 'cancelled' : 'denied');
  }

  destroy(ref: LabActPayload, by: Requester): Promise<LabView> {
    if (ROLE_RANK[by.role] < ROLE_RANK[ACTION_ROLE.destroy]) {
      throw new RoleRefusedError(`role ${by.role} may not destroy a lab (needs ${ACTION_ROLE.destroy})`);
    }
    const actor = this.inStatus(ref, ['ready', 'failed'], 'destroyed');
    return this.sendAs(actor, { type: 'DESTROY', by, at: this.w.deps.clock.now() }, by, 'destroy');
  }

  snapshot(ref: LabRefPayload & { snapshot: string }, by: Requester): Promise<LabView> {
    const actor = this.inStatus(ref, ['ready'], 'snapshotted');
    const event: LabEvent = { type: 'SNAPSHOT', name: ref.snapshot, by, at: this.w.deps.clock.now() };
    return this.sendAs(actor, event, by, `snapshot ${ref.snapshot}`);
  }

  revert(ref: LabRefPayload & { snapshot: string }, by: Requester): Promise<LabView> {
    const actor = this.inStatus(ref, ['ready'], 'reverted');
    const known = actor.getSnapshot().context.snapshots.map((s) => s.name);
    if (!known.includes(ref.snapshot)) {
      const list = known.length > 0 ? known.join(', ') : 'none';
      throw new InputRefusedError(
        `snapshot: lab ${ref.name} has no snapshot '${ref.snapshot}' (it has: ${list})`,
        'snapshot',
      );
    }
    const event: LabEvent = { type: 'REVERT', name: ref.snapshot, by, at: this.w.deps.clock.now() };
    return this.sendAs(actor, event, by, `revert to ${ref.snapshot}`);
  }

  // ---- reads ------------------------------------------------------------------------------------------------

  get(ref: LabRefPayload): LabView | null {
    const record = this.record(ref);
    return record ? this.viewOf(record) : null;
  }

  list(filter: LabListPayload): { items: LabView[]; total: number } {
    const { store } = this.w.deps;
    const where = { cluster: filter.cluster, live: filter.live === false ? undefined : true };
    const items = store.labs
      .list({ ...where, limit: filter.limit ?? 100, offset: filter.offset })
      .map((r) => this.viewOf(r));
    return { items, total: store.labs.count(where) };
  }

  viewOf(record: LabRecord): LabView {
    const actor = record.endedAt === undefined ? this.labs.get(`${record.cluster}/${record.name}`) : undefined;
    const snapshot = actor?.getSnapshot();
    return labView(record, snapshot && { status: stateName(snapshot.value), context: snapshot.context });
  }

  // ---- internals --------------------------------------------------------------------------------------------

  private async answerOnceDecided(key: string): Promise<LabView> {
    const actor = this.labs.get(key);
    if (actor) {
      await waitFor(actor, (s) => s.status !== 'active' || !DECIDED_OR_WAITING.has(stateName(s.value)), {
        timeout: APPLY_ANSWER_TIMEOUT_MS,
      }).catch(() => undefined);
    }
    await this.durable();
    const [cluster = '', name = ''] = key.split('/');
    const record = this.w.deps.store.labs.get(cluster, name);
    if (!record) throw new InputRefusedError(`lab ${key} was not recorded`, 'name');
    return this.viewOf(record);
  }

  /**
   * Writes the labs' pending changes now and waits until they are durable beyond this process (several cores: in the
   * record, OverseerDeps.afterDurable), so an answer never tells of a lab a new owner would not know.
   */
  private async durable(): Promise<void> {
    this.flush();
    await this.w.deps.afterDurable?.();
  }

  private record(ref: LabRefPayload): LabRecord | undefined {
    const { store } = this.w.deps;
    if (ref.cluster !== undefined) return store.labs.get(ref.cluster, ref.name);
    const named = store.labs.list({ live: true }).filter((r) => r.name === ref.name);
    if (named.length > 1) {
      const clusters = named.map((r) => r.cluster).join(', ');
      throw new InputRefusedError(`cluster: lab ${ref.name} runs on ${clusters}: name the cluster`, 'cluster');
    }
    return named[0] ?? store.labs.list({}).find((r) => r.name === ref.name);
  }

  private live(ref: LabRefPayload): Actor<LabMachine> {
    const record = this.record(ref);
    if (!record) throw new InputRefusedError(`name: no lab '${ref.name}'`, 'name');
    const actor = record.endedAt === undefined ? this.labs.get(`${record.cluster}/${record.name}`) : undefined;
    if (!actor) throw new StateConflictError(`lab ${ref.name} has ended (${record.status})`);
    return actor;
  }

  private inStatus(ref: LabRefPayload, statuses: string[], what: string): Actor<LabMachine> {
    const actor = this.live(ref);
    const status = stateName(actor.getSnapshot().value);
    if (!statuses.includes(status)) {
      throw new StateConflictError(
        `lab ${ref.name} is ${status}: it can be ${what} only when ${statuses.join(' or ')}`,
      );
    }
    return actor;
  }

  private awaiting(ref: LabRefPayload): Actor<LabMachine> {
    return this.inStatus(ref, ['awaiting_approval'], 'approved or denied');
  }

  /** Sends a person's command; answers once what it changed is durable (with several cores, in the record). */
  private async sendAs(actor: Actor<LabMachine>, event: LabEvent, by: Requester, what: string): Promise<LabView> {
    const { context } = actor.getSnapshot();
    this.audit(by.id, 'lab.command', { lab: context.name, cluster: context.cluster, command: event.type, what });
    actor.send(event);
    await this.durable();
    const record = this.w.deps.store.labs.get(context.cluster, context.name);
    if (!record) throw new InputRefusedError(`lab ${context.name} was not recorded`, 'name');
    return this.viewOf(record);
  }

  private audit(actor: string, kind: string, data: Record<string, unknown>): void {
    this.w.deps.store.audit.append({ at: this.w.deps.clock.now(), actor, kind, data });
  }

  /**
   * A lab's changes are written once per turn of the event loop, the newest snapshot of each lab: a 300-member lab
   * changes a thousand times while it deploys, and writing its whole snapshot each time costs the square of its size.
   * What a crash can lose is at most that one turn, and every step runs again under the same key without doing its
   * work twice.
   */
  private schedulePersist(key: string, snapshot: LabSnapshot): void {
    const first = this.pending.size === 0;
    this.pending.set(key, snapshot);
    if (first) setImmediate(() => this.flush());
  }

  /** Writes every lab's pending snapshot and record now. */
  flush(): void {
    const pending = [...this.pending];
    this.pending.clear();
    for (const [key, snapshot] of pending) this.persist(key, snapshot);
  }

  /** The actor's snapshot and the lab's record, written together. */
  private persist(key: string, snapshot: LabSnapshot): void {
    const actor = this.labs.get(key);
    if (!actor) return;
    const { store, clock } = this.w.deps;
    const c = snapshot.context;
    const status = stateName(snapshot.value) as LabStatus;
    const at = clock.now();
    const members = Object.fromEntries(
      Object.entries(c.members).map(([name, m]) => [name, { vmid: m.vmid, node: m.node, phase: m.phase }]),
    );
    const error = c.failure?.error ?? (c.decision === 'denied' ? c.reasons.join('; ') || null : null);
    store.transaction(() => {
      store.snapshots.save(labActorId(c.cluster, c.name), LAB_SNAPSHOT_KIND, actor.getPersistedSnapshot(), at);
      store.labs.update(c.cluster, c.name, { status, created: c.created, members, error, by: byOf(c) }, at);
    });
    // An ended lab's actor is let go once its last snapshot is written (its record keeps it).
    if (ENDED.has(status)) queueMicrotask(() => this.labs.remove(key));
  }

  private onState(change: StateChange<LabSnapshot>): void {
    const c = change.snapshot.context;
    const at = this.w.deps.clock.now();
    this.audit(OVERSEER_ID, 'lab.status', { lab: c.name, cluster: c.cluster, from: change.from, to: change.to });
    const payload = { lab: c.name, cluster: c.cluster, from: change.from, to: change.to, at, generation: c.generation };
    this.w.events.publish(() => subjects.evtLab(c.name, change.to), payload);
    labNotice(this.w.deps, c, change.from, change.to);
    if (change.to === 'ready') this.w.clearDriftIncident(c.cluster, c.name, at);
  }

  private onDrift(notice: LabDriftNotice): void {
    this.w.deps.log.warn(`lab:${notice.cluster}/${notice.lab}: ${notice.detail}`);
    this.w.events.publish(() => subjects.evtLab(notice.lab, 'drift'), notice);
    this.w.openDriftIncident(notice);
  }
}

const byOf = (c: LabContext): string => c.closedBy?.id ?? c.approvedBy?.id ?? c.requester.id;

/** One clear error for a lab file: its first problem with its path, and how many more there are. */
function refusal(issues: readonly { path: string; message: string }[]): InputRefusedError {
  const [first] = issues;
  if (!first) return new InputRefusedError('the lab file is not valid', 'file');
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  return new InputRefusedError(`${formatIssue(first)}${more}`, first.path || 'file');
}
