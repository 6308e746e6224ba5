// The gate as the request actors see it: builds the gate's input from the live system view (and what only the
// platform can say, read first: see gate-facts.ts) and applies the ordered checks. A decision that is approved or
// awaiting approval holds the VM at once (in the same synchronous step), so two requests racing for one VM cannot
// both pass the conflict check.
import type { Clock } from '../adapters/clock';
import type { GateCheck, GateInput, RecheckResult, RecheckStage } from '../machines/gate';
import {
  combineChecks,
  gateChecks,
  isDenial,
  recheckRequest,
  runChecks,
  settleNothingToDo,
  skippedResult,
} from '../machines/gate';
import type { CheckResult, GateConfig, GateResult, RequestSpec, VmInfo } from '../machines/types';
import { DESTRUCTIVE_ACTIONS, vmKey } from '../machines/types';
import type { GatheredFacts, PlatformFacts } from './gate-facts';
import { gatherFacts } from './gate-facts';
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
    /** Where snapshot names and power states are read from the platform (none given: snapshots are denied). */
    private readonly facts?: PlatformFacts | undefined,
  ) {
    const schema = checks.find((c) => c.name === 'schema');
    if (!schema) throw new Error('the gate has no schema check');
    this.schema = schema;
  }

  private input(spec: RequestSpec, facts: GatheredFacts = {}): GateInput {
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
      ...facts,
      maintenance: this.view.maintenance.windows(now),
    };
  }

  /** The schema check alone (the request machine's `validating` state). */
  validate(spec: RequestSpec): CheckResult {
    return { check: this.schema.name, ...this.schema.run(this.input(spec)) };
  }

  /**
   * Every check in order, then the knowledge check; an approved or awaiting decision holds the request's VM. A
   * power action on a VM already in the state it leads to that no check denied is `nothing_to_do`.
   * The knowledge base and the platform's facts (a snapshot's names, a power state to confirm) are asked first
   * (they are async and read no holds); the input is then built afresh, and the checks, the combination and the
   * hold run in one synchronous step, so two requests racing for one VM cannot both pass.
   */
  async decide(spec: RequestSpec): Promise<GateResult> {
    const [advice, facts] = await Promise.all([
      this.knowledge ? this.advise(spec) : undefined,
      gatherFacts(this.input(spec), this.facts),
    ]);
    const input = this.input(spec, facts);
    const results = runChecks(input, this.checks);
    if (advice) results.push(results.some(isDenial) ? skippedResult(KNOWLEDGE_CHECK) : advice);
    const result = settleNothingToDo(combineChecks(results), input);
    if (result.decision === 'approved' || result.decision === 'awaiting_approval') this.hold(spec);
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
