// The monitor loop's work: looks at the fleet (pure detectors), keeps one incident actor per condition
// (deduplicated, stored, published), remediates through requests that pass the same gate as a human's, and
// tells people. Closed incidents are written back to the knowledge base.
import type { Clock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import type { Notifier } from '../adapters/notify';
import type { SshChecker, SshTarget } from '../adapters/ssh';
import type { IncidentContext, IncidentMachine, IncidentNotice } from '../machines/incident.machine';
import { incidentActorId, incidentInputFromCondition, incidentMachine } from '../machines/incident.machine';
import type { LabDriftNotice } from '../machines/lab.machine';
import type {
  Condition,
  MonitoredHost,
  MonitoredRequest,
  MonitoredTask,
  MonitorMemory,
  MonitorThresholds,
  RemediationPolicyConfig,
  SshResult,
  VmIssueRecord,
} from '../machines/monitor';
import { detectConditions, emptyMonitorMemory } from '../machines/monitor';
import type { GateConfig } from '../machines/types';
import { subjects } from '../protocol';
import type { StateStore } from '../state';
import { ActorSet } from './actor-set';
import { yieldToLoop } from './loop-turns';
import type { MonitorFleet } from './monitor-fleet';
import { MonitorQuiet } from './monitor-quiet';
import { MonitorRemediation } from './monitor-remediation';
import { MonitoredVms } from './monitor-vms';
import { stateName } from './watch';

/** Where closed incidents and failed requests are written back (the knowledge base). */
export interface KnowledgeSink {
  recordIncident(incident: {
    id: string;
    kind: string;
    subject: string;
    cause?: string | undefined;
    /** What was done, one sentence each. */
    actions: readonly string[];
    outcome?: string | undefined;
    detail: string;
  }): unknown;
}

export interface SshTargetSource {
  checker: SshChecker;
  targets: () => readonly SshTarget[];
  intervalMs: number;
}

export interface MonitorDeps {
  clock: Clock;
  log: Log;
  store: StateStore;
  /** What the monitor reads of the runtime, and where its remediation requests go. */
  overseer: MonitorFleet;
  thresholds: MonitorThresholds;
  policy: RemediationPolicyConfig;
  gate: GateConfig;
  notifier?: Notifier | undefined;
  ssh?: SshTargetSource | undefined;
  knowledge?: KnowledgeSink | undefined;
  publish: (subject: () => string, payload: unknown) => void;
  newId: () => string;
  /** The live lab (`<cluster>/<name>`) a guest is a member of, if any. */
  labOf?: ((cluster: string, vmid: number) => string | undefined) | undefined;
}

export class Monitor {
  readonly incidents: ActorSet<IncidentMachine>;
  private memory: MonitorMemory = emptyMonitorMemory();
  private issues: VmIssueRecord[] = [];
  private failedTasks: MonitoredTask[] = [];
  private sshResults: SshResult[] = [];
  private lastSsh = 0;
  /** Open incident id by dedupe key. */
  private readonly open = new Map<string, string>();
  /** Remediates open incidents, and settles their remediation requests once they have ended. */
  private readonly remediation: MonitorRemediation;
  /** Maintenance windows and silences: incidents recorded, not remediated, not paged. */
  private readonly quiet: MonitorQuiet;
  /** Each VM as the last cycle saw it. */
  private readonly vms: MonitoredVms;

  constructor(private readonly deps: MonitorDeps) {
    this.quiet = new MonitorQuiet(deps.overseer.view, deps.log);
    this.vms = new MonitoredVms(deps.overseer);
    const { clock, log, store } = deps;
    this.incidents = new ActorSet({
      kind: 'incident',
      logic: incidentMachine,
      idOf: (id) => incidentActorId(id),
      clock,
      log,
      onSnapshot: (id) => this.persist(id),
      onCreated: (_, actor) => actor.on('*', (notice) => this.tell(notice as IncidentNotice)),
      onStateChange: (id, change) => {
        if (change.to === 'resolved') this.closed(id, change.snapshot.context);
      },
    });
    this.remediation = new MonitorRemediation(deps, this.incidents);
    for (const record of store.incidents.listOpen()) {
      const row = store.snapshots.get(incidentActorId(record.id));
      if (row && this.incidents.restore(record.id, row.snapshot)) this.open.set(record.dedupeKey, record.id);
      for (const action of record.actions) {
        if (action.requestId && action.ok === undefined) this.remediation.awaitResult(action.requestId, record.id);
      }
    }
  }

  /** A lab's members drifted: one incident per lab, which the lab's own repair (by its policy) answers. */
  async openLabDrift(notice: LabDriftNotice): Promise<void> {
    const subject = `lab:${notice.cluster}/${notice.lab}`;
    await this.handle(
      {
        kind: 'lab-drift',
        subject,
        dedupeKey: `lab-drift:${subject}`,
        severity: 'warning',
        detail: notice.detail,
        data: { members: notice.members, repair: notice.repair },
      },
      notice.at,
    );
  }

  /** A lab is whole again (ready): its drift incident, if one is open, is resolved. */
  clearLabDrift(cluster: string, lab: string, at: number): void {
    const id = this.open.get(`lab-drift:lab:${cluster}/${lab}`);
    if (id) this.incidents.get(id)?.send({ type: 'CONDITION_CLEARED', at });
  }

  /** A VM actor saw something no request explains. */
  recordIssue(issue: VmIssueRecord): void {
    this.issues.push(issue);
  }

  /** A request failed on the platform: its tasks count as failed tasks. */
  recordFailedRequest(
    requestId: string,
    cluster: string,
    error: string,
    tasks: readonly { upid: string; node: string }[],
    at: number,
  ): void {
    for (const t of tasks) {
      this.failedTasks.push({
        upid: t.upid,
        cluster,
        node: t.node,
        type: 'request',
        startedAt: at,
        status: 'stopped',
        exitstatus: `${error} (request ${requestId})`,
      });
    }
  }

  /** One monitor cycle. */
  async cycle(): Promise<void> {
    const { clock, overseer, thresholds } = this.deps;
    const now = clock.now();
    await this.checkGuests(now);
    this.remediation.settleRemediations(now);

    // A large fleet is read in slices (the event loop's turns between); a small one at once, as it always was.
    const read = this.vms.read();
    const vms = read instanceof Promise ? await read : read;
    const hosts = new Map<string, MonitoredHost>();
    for (const [key, actor] of overseer.hosts.entries()) {
      const snap = actor.getSnapshot();
      hosts.set(key, { info: overseer.view.hosts.get(key) ?? snap.context.info, state: stateName(snap.value) });
    }
    const requests: MonitoredRequest[] = [];
    for (const [id, actor] of overseer.requests.entries()) {
      const snap = actor.getSnapshot();
      const status = stateName(snap.value) as MonitoredRequest['status'];
      requests.push({
        id,
        action: snap.context.spec.action,
        status,
        since: overseer.statusSince(id) ?? now,
        target: snap.context.spec.target,
      });
    }
    const { conditions, cleared, memory } = detectConditions(
      {
        now,
        vms,
        hosts,
        clusters: overseer.view.clusters,
        requests,
        tasks: this.failedTasks,
        vmIssues: this.issues,
        sshResults: this.sshResults,
        thresholds,
      },
      this.memory,
    );
    this.memory = memory;
    this.issues = [];
    this.failedTasks = [];
    this.sshResults = [];

    for (const key of cleared) {
      const id = this.open.get(key);
      if (id) this.incidents.get(id)?.send({ type: 'CONDITION_CLEARED', at: now });
    }
    // Conditions that escalate go first, so a crash loop stops the restart of the same crash.
    const escalates = (c: Condition) => (this.deps.policy.escalate.includes(c.kind) ? 0 : 1);
    // Each condition in a slice of its own: decisions waiting meanwhile get their turn.
    for (const condition of [...conditions].sort((a, b) => escalates(a) - escalates(b))) {
      await this.handle(condition, now);
      await yieldToLoop();
    }
  }

  private async handle(condition: Condition, now: number): Promise<void> {
    const { store, log } = this.deps;
    let id = this.open.get(condition.dedupeKey);
    if (id && this.incidents.get(id)) {
      this.incidents.get(id)?.send({
        type: 'CONDITION_SEEN',
        at: now,
        detail: condition.detail,
        severity: condition.severity,
        data: condition.data,
      });
    } else {
      const input = incidentInputFromCondition(this.deps.newId(), condition, now);
      const { incident, created } = store.incidents.open(input);
      id = incident.id;
      this.open.set(condition.dedupeKey, id);
      if (created) {
        log.warn(`incident:${id}: ${condition.detail}`);
        this.incidents.create(id, input);
      }
    }
    const actor = this.incidents.get(id);
    if (!actor || stateName(actor.getSnapshot().value) !== 'open') return;
    if (this.quiet.holdsRemediation(id, condition, now)) return;
    await this.remediation.remediate(id, condition, actor.getSnapshot().context, now);
  }

  private async checkGuests(now: number): Promise<void> {
    const ssh = this.deps.ssh;
    if (!ssh || now - this.lastSsh < ssh.intervalMs) return;
    this.lastSsh = now;
    const results = await Promise.all(ssh.targets().map((t) => ssh.checker.check(t)));
    this.sshResults = results.map((r) => ({
      id: r.id,
      reachable: r.reachable,
      hostKeyChanged: r.hostKeyChanged,
      load: r.load?.[0],
      disk: r.disk && r.disk.length > 0 ? Math.max(...r.disk.map((d) => d.usedFraction)) : undefined,
      units: r.units?.map((u) => ({ name: u.name, active: u.active ? 'active' : 'inactive' })),
      error: r.error?.message,
    }));
  }

  private persist(id: string): void {
    const { store, clock } = this.deps;
    const actor = this.incidents.get(id);
    if (!actor) return;
    const snap = actor.getSnapshot();
    const c = snap.context;
    const at = clock.now();
    store.transaction(() => {
      store.incidents.update(
        id,
        {
          status: stateName(snap.value) as 'open',
          severity: c.severity,
          detail: c.detail,
          data: c.data ?? null,
          occurrences: c.occurrences,
          lastSeenAt: c.lastSeenAt,
          remediationAttempts: c.remediationAttempts,
          actions: c.actions,
          cause: c.cause ?? null,
          outcome: c.outcome ?? null,
          resolvedAt: c.resolvedAt,
        },
        at,
      );
      store.snapshots.save(incidentActorId(id), 'incident', actor.getPersistedSnapshot(), at);
    });
  }

  private tell(notice: IncidentNotice): void {
    this.deps.publish(() => subjects.evtIncident(notice.incidentId, notice.status), notice);
    this.deps.store.audit.append({
      at: notice.at,
      // A person's word (acknowledged, resolved by hand) is audited as theirs.
      actor: notice.by ?? 'overseer',
      kind: `incident.${notice.type.replace(/^incident\./, '')}`,
      data: notice,
    });
    // Once a person has acknowledged an incident it pages no one until it is resolved.
    if (notice.acknowledgedBy !== undefined && notice.type !== 'incident.resolved') return;
    // Nor does one whose guest or node is in maintenance, or whose kind is silenced on its guest.
    if (this.quiet.holdsPage(notice)) return;
    this.deps.notifier?.notify({
      key: `${notice.incidentId}:${notice.type}`,
      severity: notice.severity,
      title: `${notice.type.replace(/^incident\./, 'incident ')}: ${notice.kind} on ${notice.subject}`,
      text: notice.message,
      subject: notice.subject,
      at: notice.at,
      data: notice,
    });
  }

  private closed(id: string, context: IncidentContext): void {
    this.open.delete(context.dedupeKey);
    this.quiet.forget(id);
    queueMicrotask(() => this.incidents.remove(id));
    const write = this.deps.knowledge?.recordIncident({
      id,
      kind: context.kind,
      subject: context.subject,
      cause: context.cause,
      actions: context.actions.map(
        (a) =>
          `${a.action}${a.requestId ? ` (request ${a.requestId})` : ''}${a.ok === undefined ? '' : a.ok ? ': ok' : ': failed'}${a.result ? `: ${a.result}` : ''}`,
      ),
      outcome: context.outcome,
      detail: context.detail,
    });
    if (write instanceof Promise)
      write.catch((e: unknown) => this.deps.log.error(`knowledge: recording incident ${id} failed`, e));
  }
}
