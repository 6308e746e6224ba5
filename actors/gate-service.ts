// The gate as the request actors see it: builds the gate's input from the live system view (and what only the
// platform can say, read first: see gate-facts.ts) and applies the ordered checks. A decision that is approved or
// awaiting approval holds the VM at once (in the same synchronous step), so two requests racing for one VM cannot
// both pass the conflict check.
import type { Clock } from '../adapters/clock';
import type { GateCheck, GateInput, RecheckResult, RecheckStage } from '../machines/gate';
import {
  bulkMembers,
  combineChecks,
  gateChecks,
  isDenial,
  recheckRequest,
  runChecks,
  settleNothingToDo,
  skippedResult,
} from '../machines/gate';
import type { BulkMember, CheckResult, GateConfig, GateResult, RequestSpec, VmInfo } from '../machines/types';
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

export interface GateServiceOptions {
  knowledge?: KnowledgeAdvisor | undefined;
  checks?: readonly GateCheck[] | undefined;
  /** VM keys (`<cluster>/<vmid>`) with an SSH target: where a `command` can run. None when not given. */
  sshTargets?: (() => ReadonlySet<string>) | undefined;
  /** Where snapshot names, backups and power states are read from the platform (none: those checks deny). */
  facts?: PlatformFacts | undefined;
  /**
   * The recorded members of a bulk request while it executes (undefined otherwise): a member request is covered
   * only by a parent that is running and lists it.
   */
  parentMembers?: ((parentId: string) => readonly BulkMember[] | undefined) | undefined;
}

export class GateService {
  private readonly schema: GateCheck;
  private readonly checks: readonly GateCheck[];
  /**
   * The platform facts each live request was decided (or last refreshed) with: the re-checks at approval and before
   * execution run on them (they are synchronous), ages computed against the time of the re-check.
   */
  private readonly factsById = new Map<string, GatheredFacts>();

  constructor(
    private readonly view: SystemView,
    private readonly config: GateConfig,
    private readonly clock: Clock,
    private readonly options: GateServiceOptions = {},
  ) {
    this.checks = options.checks ?? gateChecks;
    const schema = this.checks.find((c) => c.name === 'schema');
    if (!schema) throw new Error('the gate has no schema check');
    this.schema = schema;
  }

  private input(spec: RequestSpec, facts: GatheredFacts = {}): GateInput {
    const now = this.clock.now();
    const view = this.view;
    const config = this.config;
    let recentDestructive: number[] | undefined;
    return {
      request: spec,
      now,
      config,
      vms: view.vms,
      hosts: view.hosts,
      clusters: view.clusters,
      activeRequests: view.activeRequests,
      // Read when a check asks (only the mass-operation check does): a copy of every destructive request in the window.
      get recentDestructive() {
        recentDestructive ??= view.recentDestructive(now, config.massOperation.windowSeconds * 1000);
        return recentDestructive;
      },
      sshTargets: spec.action === 'command' ? this.options.sshTargets?.() : undefined,
      ...facts,
      maintenance: this.view.maintenance.windows(now),
      ...(spec.parent !== undefined ? { parentMembers: this.options.parentMembers?.(spec.parent) } : {}),
    };
  }

  /** The schema check alone (the request machine's `validating` state). */
  validate(spec: RequestSpec): CheckResult {
    return { check: this.schema.name, ...this.schema.run(this.input(spec)) };
  }

  /**
   * Every check in order, then the knowledge check; an approved or awaiting decision holds the request's VM. A
   * power action on a VM already in the state it leads to that no check denied is `nothing_to_do`.
   * The knowledge base and the platform's facts (snapshot names, backups, a power state to confirm) are asked first
   * (they are async and read no holds); the input is then built afresh, and the checks, the combination and the
   * hold run in one synchronous step, so two requests racing for one VM cannot both pass. A bulk request is decided
   * as one unit over its members (machines/gate/bulk.ts) and holds nothing itself: each member's own request holds
   * its guest. A bulk member is covered by its running parent (schema and parent checks). `hold: false` is a dry
   * run: the same decision, nothing held.
   */
  async decide(spec: RequestSpec, options: { hold?: boolean } = {}): Promise<GateResult> {
    const member = spec.parent !== undefined;
    const [advice, facts] = await Promise.all([
      this.options.knowledge && !member ? this.advise(spec) : undefined,
      member ? {} : this.gather(spec),
    ]);
    const input = this.input(spec, facts);
    const results = runChecks(input, this.checks);
    if (advice) results.push(results.some(isDenial) ? skippedResult(KNOWLEDGE_CHECK) : advice);
    const result = settleNothingToDo(combineChecks(results, input), input);
    const holds = result.decision === 'approved' || result.decision === 'awaiting_approval';
    if (holds && options.hold !== false) {
      this.hold(spec);
      this.factsById.set(spec.id, facts);
    }
    return result;
  }

  /** What the platform says that the request's checks need (for a bulk request: for each member). */
  private gather(spec: RequestSpec): Promise<GatheredFacts> {
    const input = this.input(spec);
    return gatherFacts(input, this.options.facts, bulkMembers(input));
  }

  /** Reads the request's platform facts again, for its next re-check (before execution; after a restart). */
  async refreshFacts(spec: RequestSpec): Promise<void> {
    this.factsById.set(spec.id, await this.gather(spec));
  }

  /**
   * Runs again the checks whose facts change while a request waits (at approval, and right before its first
   * platform call); `reason` is set when the request no longer passes.
   */
  recheck(spec: RequestSpec, stage: RecheckStage, approvedByPerson: boolean): RecheckResult {
    return recheckRequest(this.input(spec, this.factsById.get(spec.id)), stage, approvedByPerson);
  }

  /** A knowledge base that cannot answer fails closed: its rules may be the ones that deny. */
  private async advise(spec: RequestSpec): Promise<CheckResult> {
    const vm =
      spec.target.vmid !== undefined ? this.view.vms.get(vmKey(spec.target.cluster, spec.target.vmid)) : undefined;
    try {
      return await (this.options.knowledge as KnowledgeAdvisor).adviseRequest(spec, vm);
    } catch (error) {
      const reason = `the knowledge base could not be consulted: ${error instanceof Error ? error.message : String(error)}`;
      return { check: KNOWLEDGE_CHECK, outcome: 'deny', reason };
    }
  }

  /**
   * Marks a request as holding its VM (also used when restoring requests after a restart). A bulk request holds
   * nothing: its members' own requests hold their guests and count in the destructive window.
   */
  hold(spec: RequestSpec): void {
    if (spec.target.vmid === undefined) return;
    this.view.hold(vmKey(spec.target.cluster, spec.target.vmid), { id: spec.id, action: spec.action });
    if (DESTRUCTIVE_ACTIONS.has(spec.action)) this.view.recordDestructive(spec.id, spec.submittedAt);
  }

  /** A request ended: its VM is free again. A destructive one that never ran leaves the window too. */
  release(spec: RequestSpec, ran: boolean): void {
    this.factsById.delete(spec.id);
    if (spec.target.vmid !== undefined) this.view.release(vmKey(spec.target.cluster, spec.target.vmid), spec.id);
    if (!ran) this.view.forgetDestructive(spec.id);
  }
}
