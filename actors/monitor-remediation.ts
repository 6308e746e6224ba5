// The monitor's remediation of an open incident: what the remediation policy decides for its condition, submitted as a
// request of the Overseer's own identity (it meets the same gate as a person's), escalated, or left alone; and the
// outcome of each such request, once it has ended, reported to its incident.
import { isProductionVm } from '../machines/gate';
import type { IncidentContext, IncidentMachine } from '../machines/incident.machine';
import type { Condition, IncidentHistoryEntry } from '../machines/monitor';
import { decideRemediation, parseSubject } from '../machines/monitor';
import { hostKey, OVERSEER_IDENTITY, TERMINAL_REQUEST_STATUSES, vmKey } from '../machines/types';
import type { ActorSet } from './actor-set';
import type { MonitorDeps } from './monitor';
import type { Submission } from './submission';

type RemediationDeps = Pick<MonitorDeps, 'overseer' | 'store' | 'policy' | 'gate' | 'log' | 'labOf'>;

export class MonitorRemediation {
  /** Remediation request id → incident id. */
  private readonly pending = new Map<string, string>();

  constructor(
    private readonly deps: RemediationDeps,
    private readonly incidents: Pick<ActorSet<IncidentMachine>, 'get'>,
  ) {}

  /** A restored incident's remediation request still waiting for its result. */
  awaitResult(requestId: string, incidentId: string): void {
    this.pending.set(requestId, incidentId);
  }

  /** Acts on an open incident's condition as the remediation policy decides. */
  async remediate(id: string, condition: Condition, incident: IncidentContext, now: number): Promise<void> {
    const { overseer, store, policy, log } = this.deps;
    const subject = parseSubject(condition.subject);
    const vm = subject?.kind === 'vm' ? overseer.view.vms.get(vmKey(subject.cluster, subject.vmid)) : undefined;
    // A lab's member is its lab's to repair (by the lab's policy): the Overseer does not act on it twice.
    const lab = vm && this.deps.labOf?.(vm.cluster, vm.vmid);
    if (lab) {
      log.info(`incident:${id}: ${condition.subject} is a member of lab ${lab}: the lab answers it`);
      return;
    }
    const node = vm?.node ?? (subject?.kind === 'host' ? subject.node : undefined);
    const cluster = subject && subject.kind !== 'req' ? subject.cluster : undefined;
    const history: IncidentHistoryEntry[] = store.incidents
      .list({ subject: condition.subject, limit: 50 })
      .map((r) => (r.id === id ? { ...r, status: 'open' as const, actions: incident.actions } : r));
    const remedy = decideRemediation(condition, {
      history,
      now,
      config: policy,
      vm,
      host: cluster && node ? overseer.view.hosts.get(hostKey(cluster, node)) : undefined,
      cluster: cluster ? overseer.view.clusters.get(cluster) : undefined,
      isProduction: vm ? isProductionVm(vm, this.deps.gate) : false,
    });
    const actor = this.incidents.get(id);
    if (!actor) return;
    switch (remedy.kind) {
      case 'request':
        await this.submitRemediation(id, remedy.reason, now, {
          action: remedy.action,
          target: remedy.target,
          params: remedy.params,
          force: remedy.force,
        });
        return;
      case 'command': {
        // The command is a request of the Overseer's identity: the gate checks it against gate.commands.allowed
        // and the VM (it exists, runs, has an SSH target, no lock, no other request); the executor runs it.
        const on = parseSubject(remedy.target);
        if (on?.kind !== 'vm') {
          log.warn(`incident:${id}: ${remedy.reason}, but ${remedy.target} is not a VM: commands run on VMs only`);
          return;
        }
        await this.submitRemediation(id, remedy.reason, now, {
          action: 'command',
          target: { cluster: on.cluster, vmid: on.vmid },
          params: { command: remedy.command },
          force: false,
        });
        return;
      }
      case 'escalate':
        actor.send({ type: 'ESCALATE', at: now, reason: remedy.reason });
        return;
      case 'notify':
      case 'none':
        return;
    }
  }

  /**
   * Submits a remediation as a request of the Overseer's own identity: it meets the same gate as a person's. A denial
   * is the remediation's failed result at once; otherwise the request is settled when it ends.
   */
  private async submitRemediation(
    id: string,
    reason: string,
    now: number,
    request: Pick<Submission, 'action' | 'target' | 'params' | 'force'>,
  ): Promise<void> {
    const actor = this.incidents.get(id);
    if (!actor) return;
    const result = await this.deps.overseer.submit({
      ...request,
      requester: OVERSEER_IDENTITY,
      origin: 'overseer',
    });
    this.deps.log.warn(
      `incident:${id}: ${reason}: ${request.action} as request ${result.requestId} (${result.decision})`,
    );
    actor.send({ type: 'REMEDIATION_STARTED', at: now, action: request.action, requestId: result.requestId });
    if (result.decision === 'denied') {
      actor.send({
        type: 'REMEDIATION_RESULT',
        at: now,
        ok: false,
        requestId: result.requestId,
        detail: `denied: ${result.reasons.join('; ')}`,
      });
    } else {
      this.pending.set(result.requestId, id);
    }
  }

  /** Reports the outcome of remediation requests that have ended. */
  settleRemediations(now: number): void {
    for (const [requestId, incidentId] of this.pending) {
      const record = this.deps.store.requests.get(requestId);
      if (!record || !TERMINAL_REQUEST_STATUSES.has(record.status)) continue;
      this.pending.delete(requestId);
      // nothing_to_do: the VM was already where the remediation would have taken it.
      const ok = record.status === 'completed' || record.status === 'nothing_to_do';
      this.incidents.get(incidentId)?.send({
        type: 'REMEDIATION_RESULT',
        at: now,
        ok,
        requestId,
        detail: ok
          ? `request ${requestId} completed`
          : `request ${requestId} ${record.status}${record.error ? `: ${record.error}` : ''}`,
      });
    }
  }
}
