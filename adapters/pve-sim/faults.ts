// Fault injection: the same operations back the handle's `faults` and the /_sim control API.
import type { Clock } from '../clock';
import { SimConfigError } from './errors';
import type { OpLogEntry, SimState } from './types';

export interface HttpErrorFault {
  /** Regular expression matched against the path after /api2/json (e.g. "^/cluster/resources$"). */
  path: string;
  /** Only this method (GET, POST, ...); any when absent. */
  method?: string | undefined;
  /** How many more requests fail. */
  remaining: number;
  status: number;
  message: string;
}

export interface TaskFailureFault {
  remaining: number;
  message: string;
}

/** What is currently injected (GET /_sim/faults). */
export interface FaultsView {
  offlineNodes: string[];
  quorate: boolean;
  taskMultiplier: number;
  typeMultipliers: Record<string, number>;
  failingTasks: Record<string, TaskFailureFault>;
  lockTimeouts: Record<string, number>;
  latencyMs: number;
  httpErrors: HttpErrorFault[];
  /** Remaining empty /cluster/resources answers (-1: until cleared). */
  emptyResources: number;
}

export interface HttpErrorOptions {
  path: string;
  method?: string | undefined;
  count?: number | undefined;
  status?: number | undefined;
  message?: string | undefined;
}

/** 'clone' → 'qmclone'; full task types pass through. */
export function taskTypeOf(typeOrOp: string): string {
  return /^(qm|ha|vz)/.test(typeOrOp) ? typeOrOp : `qm${typeOrOp}`;
}

export class SimFaults {
  private taskMultiplier = 1;
  private readonly typeMultipliers = new Map<string, number>();
  private readonly failing = new Map<string, TaskFailureFault>();
  private readonly lockTimeouts = new Map<number, number>();
  private latency = 0;
  private httpErrors: HttpErrorFault[] = [];
  private emptyLeft = 0;

  constructor(
    private readonly state: SimState,
    private readonly clock: Clock,
    private readonly oplog: OpLogEntry[],
    /** Told when a fault changed the platform's state (a crash, a lock), not a transient condition. */
    private readonly onChange?: (() => void) | undefined,
  ) {}

  /** Takes a node off the network (its API answers 596, it shows offline) or brings it back. */
  nodeOffline(node: string, offline = true): void {
    const n = this.state.nodes.get(node);
    if (!n) throw new SimConfigError(`no such node '${node}'`);
    n.online = !offline;
  }

  /** A running VM stops without any task (its QEMU process died). */
  crashVm(vmid: number): void {
    const vm = this.state.vms.get(vmid);
    if (!vm) throw new SimConfigError(`no such VM ${vmid}`);
    if (vm.status !== 'running') throw new SimConfigError(`VM ${vmid} is not running`);
    vm.status = 'stopped';
    vm.paused = false;
    vm.startedAt = undefined;
    vm.pid = undefined;
    this.oplog.push({ at: this.clock.now(), op: 'crash', node: vm.node, vmid, result: 'crashed' });
    this.onChange?.();
  }

  /** Multiplies task durations: all types, or one type (qmclone or clone). */
  slowTasks(multiplier: number, type?: string): void {
    if (!(multiplier > 0) || !Number.isFinite(multiplier)) throw new SimConfigError('multiplier must be > 0');
    if (type) this.typeMultipliers.set(taskTypeOf(type), multiplier);
    else this.taskMultiplier = multiplier;
  }

  /** The next `count` tasks of `type` fail with `message` (their effects do not happen). */
  failTasks(type: string, count = 1, message = 'simulated task failure'): void {
    this.failing.set(taskTypeOf(type), { remaining: count, message });
  }

  /** The next `count` config-lock attempts on a VM time out ("can't lock file ... got timeout"). */
  lockTimeout(vmid: number, count = 1): void {
    this.lockTimeouts.set(vmid, count);
  }

  /** The cluster loses (or regains) quorum: /cluster/status quorate 0, operations refused. */
  quorumLoss(lost = true): void {
    this.state.quorate = !lost;
  }

  /** Every API request waits this long (clock time) before it is answered. */
  addLatency(ms: number): void {
    if (!(ms >= 0)) throw new SimConfigError('latency must be >= 0');
    this.latency = ms;
  }

  /** The next `count` API requests whose path matches fail with `status` (default 500). */
  httpError(opts: HttpErrorOptions): void {
    try {
      new RegExp(opts.path);
    } catch (cause) {
      throw new SimConfigError(`invalid path pattern '${opts.path}'`, { cause });
    }
    this.httpErrors.push({
      path: opts.path,
      method: opts.method?.toUpperCase(),
      remaining: opts.count ?? 1,
      status: opts.status ?? 500,
      message: opts.message ?? 'Internal Server Error',
    });
  }

  /** The next `count` /cluster/resources answers are empty lists (-1 or Infinity: until cleared with 0). */
  emptyResources(count = 1): void {
    this.emptyLeft = count < 0 || !Number.isFinite(count) ? Number.POSITIVE_INFINITY : count;
  }

  /** Sets (or clears, with null) a VM's config lock, as a backup job or a stuck migration would. */
  lockVm(vmid: number, lock: string | null): void {
    const vm = this.state.vms.get(vmid);
    if (!vm) throw new SimConfigError(`no such VM ${vmid}`);
    vm.lock = lock ?? undefined;
    this.onChange?.();
  }

  /** Clears every injected fault: nodes online, quorum back, no slow/failing tasks, no latency. */
  reset(): void {
    for (const n of this.state.nodes.values()) n.online = true;
    this.state.quorate = true;
    this.taskMultiplier = 1;
    this.typeMultipliers.clear();
    this.failing.clear();
    this.lockTimeouts.clear();
    this.latency = 0;
    this.httpErrors = [];
    this.emptyLeft = 0;
  }

  view(): FaultsView {
    return {
      offlineNodes: [...this.state.nodes.values()].filter((n) => !n.online).map((n) => n.name),
      quorate: this.state.quorate,
      taskMultiplier: this.taskMultiplier,
      typeMultipliers: Object.fromEntries(this.typeMultipliers),
      failingTasks: Object.fromEntries(this.failing),
      lockTimeouts: Object.fromEntries([...this.lockTimeouts].map(([k, v]) => [String(k), v])),
      latencyMs: this.latency,
      httpErrors: this.httpErrors.map((e) => ({ ...e })),
      emptyResources: this.emptyLeft === Number.POSITIVE_INFINITY ? -1 : this.emptyLeft,
    };
  }

  // --- consumed by the simulator ---

  get latencyMs(): number {
    return this.latency;
  }

  multiplierFor(type: string): number {
    return this.taskMultiplier * (this.typeMultipliers.get(type) ?? 1);
  }

  takeTaskFailure(type: string): string | undefined {
    const f = this.failing.get(type);
    if (!f || f.remaining <= 0) return undefined;
    f.remaining--;
    if (f.remaining <= 0) this.failing.delete(type);
    return f.message;
  }

  takeLockTimeout(vmid: number): boolean {
    const left = this.lockTimeouts.get(vmid) ?? 0;
    if (left <= 0) return false;
    if (left === 1) this.lockTimeouts.delete(vmid);
    else this.lockTimeouts.set(vmid, left - 1);
    return true;
  }

  takeHttpError(method: string, path: string): HttpErrorFault | undefined {
    const hit = this.httpErrors.find(
      (e) => e.remaining > 0 && (!e.method || e.method === method) && new RegExp(e.path).test(path),
    );
    if (!hit) return undefined;
    hit.remaining--;
    this.httpErrors = this.httpErrors.filter((e) => e.remaining > 0);
    return hit;
  }

  takeEmptyResources(): boolean {
    if (this.emptyLeft <= 0) return false;
    this.emptyLeft--;
    return true;
  }
}
