// The simulator's platform state kept on disk, so a simulator restarted on the same file is the same cluster: its
// nodes, VMs (with their snapshots and locks) and recent tasks. Injected faults (offline nodes, lost quorum, slow or
// failing tasks) are not kept: a restart clears them, as it clears them on a real cluster. The file is written
// whole to a temporary name and renamed over the old one, so a crash mid-write leaves the old file intact.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Clock, TimerHandle } from '../clock';
import type { SimBackup, SimBackupJob, SimStorage } from './backup-types';
import { defaultStorages } from './backups';
import { SimConfigError } from './errors';
import { emptySdn, type SimPool, type SimSdn } from './sdn-types';
import { poolsOf } from './state';
import type { SimNode, SimState, SimTask, SimVm } from './types';

/** The format of the saved state; a file of another version is refused. */
export const SIM_STATE_FORMAT = 1;

/** Tasks kept per node (PVE keeps its task index much longer; these are the ones worth adopting or explaining). */
export const SAVED_TASKS_PER_NODE = 500;

/** Exit status of a task that was running when the simulator went away without ending it (as PVE shows it). */
export const UNEXPECTED_TASK_END = 'unexpected status';

export interface SavedSimState {
  format: typeof SIM_STATE_FORMAT;
  /** clock ms when it was written */
  savedAt: number;
  cluster: string;
  version: string;
  localNode: string;
  configVersion: number;
  nodes: Omit<SimNode, 'online'>[];
  vms: SimVm[];
  /** Each node's most recent tasks, oldest first (their log lines included). */
  tasks: SimTask[];
  /** Storages, backup archives and backup jobs (absent in files written before they existed). */
  storages?: SimStorage[] | undefined;
  backups?: SimBackup[] | undefined;
  backupJobs?: SimBackupJob[] | undefined;
  /** SDN config, running config and node networks (absent in files written before they existed). */
  sdn?: SimSdn | undefined;
  /** user.cfg's pools by id (absent in older files: then the pools are the ones guests name). */
  pools?: Record<string, SimPool> | undefined;
}

/** What is saved of a state now. */
export function saveState(state: SimState, at: number): SavedSimState {
  const tasks: SimTask[] = [];
  for (const list of state.tasksByNode.values()) tasks.push(...list.slice(-SAVED_TASKS_PER_NODE));
  return {
    format: SIM_STATE_FORMAT,
    savedAt: at,
    cluster: state.cluster,
    version: state.version,
    localNode: state.localNode,
    configVersion: state.configVersion,
    nodes: [...state.nodes.values()].map(({ online: _online, ...node }) => node),
    vms: [...state.vms.values()],
    tasks,
    storages: state.storages,
    backups: state.backups,
    backupJobs: state.backupJobs,
    sdn: state.sdn,
    pools: Object.fromEntries(state.pools),
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function fail(why: string): never {
  throw new SimConfigError(`saved simulator state: ${why}`);
}

/** Checks the fields every later read relies on; anything else is taken as written. */
function check(saved: unknown): SavedSimState {
  if (!isObject(saved)) fail('not a JSON object');
  if (saved.format !== SIM_STATE_FORMAT) fail(`format ${JSON.stringify(saved.format)}, expected ${SIM_STATE_FORMAT}`);
  for (const key of ['cluster', 'version', 'localNode'] as const) {
    if (typeof saved[key] !== 'string' || saved[key] === '') fail(`'${key}' must be a non-empty string`);
  }
  for (const key of ['nodes', 'vms', 'tasks'] as const) if (!Array.isArray(saved[key])) fail(`'${key}' must be a list`);
  const nodes = saved.nodes as unknown[];
  if (nodes.length === 0) fail('no nodes');
  nodes.forEach((n, i) => {
    if (!isObject(n) || typeof n.name !== 'string' || typeof n.maxmem !== 'number') fail(`nodes[${i}] is malformed`);
  });
  (saved.vms as unknown[]).forEach((v, i) => {
    if (!isObject(v) || !Number.isInteger(v.vmid) || typeof v.node !== 'string' || !Array.isArray(v.snapshots)) {
      fail(`vms[${i}] is malformed`);
    }
  });
  (saved.tasks as unknown[]).forEach((t, i) => {
    if (!isObject(t) || typeof t.upid !== 'string' || typeof t.node !== 'string' || !Array.isArray(t.log)) {
      fail(`tasks[${i}] is malformed`);
    }
  });
  return saved as unknown as SavedSimState;
}

/** A live state from a saved one; every node online, quorum there. A task left running ended unexpectedly. */
export function restoreState(saved: unknown): SimState {
  const s = check(saved);
  const nodes = new Map<string, SimNode>(s.nodes.map((n) => [n.name, { ...n, online: true }]));
  if (!nodes.has(s.localNode)) fail(`local node '${s.localNode}' is not one of its nodes`);
  const vms = new Map<number, SimVm>();
  for (const vm of s.vms) {
    if (!nodes.has(vm.node)) fail(`VM ${vm.vmid} is on unknown node '${vm.node}'`);
    vms.set(vm.vmid, {
      ...vm,
      tags: [...vm.tags],
      snapshots: vm.snapshots.map((x) => ({ ...x })),
      ...(vm.options ? { options: { ...vm.options } } : {}),
      ...(vm.pending ? { pending: { ...vm.pending } } : {}),
      ...(vm.pendingDelete ? { pendingDelete: [...vm.pendingDelete] } : {}),
    });
  }
  const tasks = new Map<string, SimTask>();
  const tasksByNode = new Map<string, SimTask[]>([...nodes.keys()].map((n) => [n, []]));
  for (const saved of s.tasks) {
    const task: SimTask = { ...saved, log: [...saved.log] };
    if (task.status === 'running') {
      task.status = 'stopped';
      task.exitstatus = UNEXPECTED_TASK_END;
      task.endtime = Math.floor(s.savedAt / 1000);
    }
    tasks.set(task.upid, task);
    tasksByNode.get(task.node)?.push(task);
  }
  return {
    cluster: s.cluster,
    version: s.version,
    localNode: s.localNode,
    quorate: true,
    configVersion: s.configVersion,
    nodes,
    vms,
    tasks,
    tasksByNode,
    storages: (s.storages ?? defaultStorages()).map((x) => ({ ...x, online: true })),
    backups: (s.backups ?? []).map((b) => ({ ...b })),
    backupJobs: (s.backupJobs ?? []).map((j) => ({ ...j, vmids: [...j.vmids], exclude: [...j.exclude] })),
    sdn: s.sdn ? (JSON.parse(JSON.stringify(s.sdn)) as SimSdn) : emptySdn(nodes.keys()),
    pools: s.pools
      ? new Map(
          Object.entries(s.pools).map(([id, p]) => [
            id,
            { ...p, storage: [...p.storage], vmids: [...(p.vmids ?? [])] },
          ]),
        )
      : poolsOf([], vms.values()),
  };
}

/** The saved state in `path`, or undefined when there is no file. Throws SimConfigError when it cannot be read. */
export function readSavedState(path: string): SimState | undefined {
  if (!existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new SimConfigError(`saved simulator state ${path} is not JSON: ${(cause as Error).message}`, { cause });
  }
  try {
    return restoreState(parsed);
  } catch (cause) {
    throw new SimConfigError(`${path}: ${(cause as Error).message}`, { cause });
  }
}

/** Writes `saved` to `path` atomically (a temporary file renamed over it), readable by its owner only. */
export function writeSavedState(path: string, saved: SavedSimState): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(saved), { mode: 0o600 });
  renameSync(tmp, path);
}

export interface StatePersisterOptions {
  path: string;
  state: SimState;
  clock: Clock;
  /** Changes within this many clock ms are written once. Default 250. */
  debounceMs?: number | undefined;
  /** Told when a write fails (the next change tries again). */
  onError?: ((error: unknown) => void) | undefined;
}

/** Writes the state some time after it changed (debounced), and at once on flush(). */
export class StatePersister {
  private timer: TimerHandle | undefined;
  private dirty = false;

  constructor(private readonly o: StatePersisterOptions) {}

  /** The state changed: it is written within debounceMs. */
  changed(): void {
    this.dirty = true;
    if (this.timer !== undefined) return;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.o.debounceMs ?? 250);
  }

  /** Writes now if anything changed since the last write. */
  flush(): void {
    if (this.timer !== undefined) {
      this.o.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.dirty) return;
    this.dirty = false;
    try {
      writeSavedState(this.o.path, saveState(this.o.state, this.o.clock.now()));
    } catch (error) {
      this.dirty = true;
      this.o.onError?.(error);
    }
  }
}
