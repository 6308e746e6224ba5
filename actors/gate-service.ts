// The gate as the request actors see it: builds the gate's input from the live system view and applies the
// ordered checks. A decision that is not a denial holds the VM at once (in the same synchronous step), so two
// requests racing for one VM cannot both pass the conflict check.
import type { Clock } from '../adapters/clock';
import type { GateCheck, GateInput, RecheckResult, RecheckStage } from '../machines/gate';
import { combineChecks, gateChecks, isDenial, recheckRequest, runChecks, skippedResult } from '../machines/gate';
import type { CheckResult, GateConfig, GateResult, RequestSpec, VmInfo } from '../machines/types';
import { DESTRUCTIVE_ACTIONS, vmKey } from '../machines/types';
import type { SshTargetSource } from './monitor';
import type { SystemView } from './system-view';

/** The knowledge check (DESIGN §5, check 10): past failures and runbook rules similar to a request. */
export interface KnowledgeAdvisor {
  adviseRequest(spec: RequestSpec, vm?: VmInfo): Promise<CheckResult>;
}

export const KNOWLEDGE_CHECK = 'knowledge';

/** The VMs an SSH target source reaches, as VM keys `<cluster>/<vmid>` (its target ids are `vm:<cluster>/<vmid>`). */
export function sshTargetKeys(source: Pick<SshTargetSource, 'targets'> | undefined): ReadonlySet<string> {
  const keys = new Set<string>();
  for (const target of source?.targets() ?? []) if (target.id.startsWith('vm:')) keys.add(target.id.slice(3));
  return keys;
}

export class GateService {
  private readonly schema: GateCheck;

  constructor(
    private readonly view: SystemView,
    private readonly config: GateConfig,
    private readonly clock: Clock,
    private readonly knowledge?: KnowledgeAdvisor | undefined,
    private readonly checks: readonly GateCheck[] = gateChecks,
    /** VM keys (`<cluster>/<vmid>`) with an SSH target: where a `command` can run. None when not given. */
    private readonly sshTargets?: (() => ReadonlySet<string>) | undefined,
  ) {
    const schema = checks.find((c) => c.name === 'schema');
    if (!schema) throw new Error('the gate has no schema check');
    this.schema = schema;
  }

  private input(spec: RequestSpec): GateInput {
    const now = this.clock.now();
    return {
      request: spec,
      now,
      config: this.config,
      vms: this.view.vms,
      hosts: this.view.hosts,
      clusters: this.view.clusters,
      activeRequests: this.view.activeRequests,
      recentDestructive: this.view.recentDestructive(now, this.config.massOperation.windowSeconds * 1000),
      sshTargets: spec.action === 'command' ? this.sshTargets?.() : undefined,
    };
  }

  /** The schema check alone (the request machine's `validating` state). */
  validate(spec: RequestSpec): CheckResult {
    return { check: this.schema.name, ...this.schema.run(this.input(spec)) };
  }

  /**
   * Every check in order, then the knowledge check; a decision other than denied holds the request's VM.
   * The knowledge base is asked first (it is async and reads no holds); the checks, the combination and the
   * hold then run in one synchronous step, so two requests racing for one VM cannot both pass.
   */
  async decide(spec: RequestSpec): Promise<GateResult> {
    const advice = this.knowledge ? await this.advise(spec) : undefined;
    const results = runChecks(this.input(spec), this.checks);
    if (advice) results.push(results.some(isDenial) ? skippedResult(KNOWLEDGE_CHECK) : advice);
    const result = combineChecks(results);
    if (result.decision !== 'denied') this.hold(spec);
    return result;
  }

  /**
   * Runs again the checks whose facts change while a request waits (at approval, and right before its first
   * platform call); `reason` is set when the request no longer passes.
   */
  recheck(spec: RequestSpec, stage: RecheckStage, approvedByPerson: boolean): RecheckResult {
    return recheckRequest(this.input(spec), stage, approvedByPerson);
  }

  /** A knowledge base that cannot answer fails closed: its rules may be the ones that deny. */
  private async advise(spec: RequestSpec): Promise<CheckResult> {
    const vm =
      spec.target.vmid !== undefined ? this.view.vms.get(vmKey(spec.target.cluster, spec.target.vmid)) : undefined;
    try {
      return await (this.knowledge as KnowledgeAdvisor).adviseRequest(spec, vm);
    } catch (error) {
      const reason = `the knowledge base could not be consulted: ${error instanceof Error ? error.message : String(error)}`;
      return { check: KNOWLEDGE_CHECK, outcome: 'deny', reason };
    }
  }

  /** Marks a request as holding its VM (also used when restoring requests after a restart). */
  hold(spec: RequestSpec): void {
    if (spec.target.vmid !== undefined) {
      this.view.hold(vmKey(spec.target.cluster, spec.target.vmid), { id: spec.id, action: spec.action });
    }
    if (DESTRUCTIVE_ACTIONS.has(spec.action)) this.view.recordDestructive(spec.id, spec.submittedAt);
  }

  /** A request ended: its VM is free again. A destructive one that never ran leaves the window too. */
  release(spec: RequestSpec, ran: boolean): void {
    if (spec.target.vmid !== undefined) this.view.release(vmKey(spec.target.cluster, spec.target.vmid), spec.id);
    if (!ran) this.view.forgetDestructive(spec.id);
  }
}
