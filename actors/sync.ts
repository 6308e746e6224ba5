// State sync: reconciles the VM and host actors with one cluster's inventory. A failed, partial, non-quorate or
// suspiciously empty answer never removes anything: a VM is taken as gone only when a complete, quorate answer
// has lacked it twice in a row (the VM machine counts), or when a request destroyed it.
// A VM its actor knows as running that the answer lists as stopped is explained from the platform's task log first
// (vm-stop-causes.ts): an operator's stop is recorded and left alone, a guest that died is an issue. A VMID that is
// listed again after its VM was destroyed belongs to a new VM: a new actor, the old one's history archived.
// Work is proportional to what changed: a VM whose actor already knows what the answer says gets no event and its
// actor stays at rest (ActorSet passivation); only the view's entry is refreshed (its metrics). The loop's own sync
// applies an answer in slices, yielding to the event loop between them, so a 100k-VM answer never holds the core for
// long. A slice ends at a checkpoint once it has held the event loop SLICE_BUDGET_MS of the injected clock (and done
// MIN_TIMED_UNITS units of work), or after SLICE_UNITS units whatever the clock says (a VM that changed costs more
// than one that did not). The budget counts the slice's commit too, as the slice before measured it per unit of work:
// a first sync's commits (every VM's rows new) took 15–20 ms after 3 ms of work, a steady sync's next to nothing. On
// a simulated clock, whose time stands still while the sync works, slices are therefore counted and what runs
// between them does not depend on the machine's speed. An answer smaller than MIN_TIMED_UNITS
// is applied without any await, exactly as `applyInventory` (observe, tests) applies it.
import type { Clock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import type { Inventory, Platform } from '../adapters/platform/types';
import type { HostMachine, HostThresholds } from '../machines/host.machine';
import type { ClusterInfo, HostInfo, VmInfo } from '../machines/types';
import { hostKey, vmKey } from '../machines/types';
import type { VmMachine } from '../machines/vm.machine';
import type { VmStopCause } from '../machines/vm-stop';
import type { ActorSet } from './actor-set';
import { yieldToLoop } from './loop-turns';
import type { SystemView } from './system-view';
import { explainStops } from './vm-stop-causes';

export interface SyncTargets {
  clock: Clock;
  log: Log;
  view: SystemView;
  vms: ActorSet<VmMachine>;
  hosts: ActorSet<HostMachine>;
  hostThresholds: HostThresholds;
  /** Records what is known of a cluster (reachable, quorate) in the view and in the store. */
  setCluster: (info: ClusterInfo) => void;
  /** The Overseer request that recorded a platform task id, if one did (a stop by any other task is not Overseer's). */
  taskOwner?: ((upid: string) => string | undefined) | undefined;
}

export interface ApplyOptions {
  /** Why VMs known as running and now listed as stopped stopped (read from the task log before). */
  stops?: ReadonlyMap<string, VmStopCause> | undefined;
  /**
   * Keys of VM actors that were already destroyed when the answer was asked for: only these are replaced by a new
   * actor when their VMID is listed (an answer asked for before a destroy ended may still list the old VM).
   * Without it the answer is taken as newer than every destruction.
   */
  destroyedBefore?: ReadonlySet<string> | undefined;
  /**
   * When the answer was asked for (the loop's sync): a VM whose guest alone was read again since (after a task on
   * it, guest-refresh.ts) is left as that read found it. Without it every VM listed is taken as the answer says.
   */
  askedAt?: number | undefined;
}

export interface ClusterSyncReport {
  cluster: string;
  ok: boolean;
  complete: boolean;
  quorate: boolean;
  vms: number;
  created: number;
  changed: number;
  missing: number;
  /** VMIDs listed again after their VM was destroyed: each a new VM actor. */
  renewed: number;
  unreachableNodes: string[];
  error?: string | undefined;
}

/** Fields whose change is a change of the VM itself (metrics like cpu and mem only refresh the view). */
export function sameVm(a: VmInfo, b: VmInfo): boolean {
  return (
    a.status === b.status &&
    a.lock === b.lock &&
    a.node === b.node &&
    a.name === b.name &&
    a.template === b.template &&
    a.haManaged === b.haManaged &&
    a.haState === b.haState &&
    a.cpus === b.cpus &&
    a.maxmem === b.maxmem &&
    a.maxdisk === b.maxdisk &&
    a.tags.length === b.tags.length &&
    a.tags.every((t, i) => t === b.tags[i])
  );
}

/** Units of work between two checkpoints (where woken actors go back to rest and a slice may end). */
const CHECK_UNITS = 64;
/** Units of work after which a slice of the loop's sync ends whatever the clock says. */
export const SLICE_UNITS = 4096;
/** Clock time (ms) a slice may hold the event loop… */
export const SLICE_BUDGET_MS = 3;
/** …once it has done this many units (a smaller answer is applied at once, without an await). */
export const MIN_TIMED_UNITS = 512;
/** A VM that did not change costs 1 unit; one given an event or created 1 + EVENT_UNITS. */
const EVENT_UNITS = 32;

/** Keys of the destroyed (final) VM actors of a cluster (actors at rest are all active: only running ones are read). */
function destroyedVms(cluster: string, t: SyncTargets): Set<string> {
  const keys = new Set<string>();
  for (const [key, actor] of t.vms.liveEntries()) {
    if (key.startsWith(`${cluster}/`) && actor.getSnapshot().status !== 'active') keys.add(key);
  }
  return keys;
}

export async function syncCluster(platform: Platform, t: SyncTargets): Promise<ClusterSyncReport> {
  const cluster = platform.cluster;
  const destroyedBefore = destroyedVms(cluster, t);
  const askedAt = t.clock.now();
  let inventory: Inventory;
  try {
    inventory = await platform.inventory();
  } catch (error) {
    markClusterUnreachable(cluster, t);
    const message = error instanceof Error ? error.message : String(error);
    t.log.warn(`sync ${cluster}: inventory failed, nothing changed: ${message}`);
    return {
      cluster,
      ok: false,
      complete: false,
      quorate: false,
      vms: 0,
      created: 0,
      changed: 0,
      missing: 0,
      renewed: 0,
      unreachableNodes: [],
      error: message,
    };
  }
  const stops = await explainStops(platform, stopCandidates(inventory, t), t);
  const report = applyInventorySliced(inventory, t, { stops, destroyedBefore, askedAt });
  return report instanceof Promise ? await report : report;
}

/** The answer narrowed to the VMs listed stopped whose actor knows them as running (read without waking any actor). */
function stopCandidates(inventory: Inventory, t: SyncTargets): Inventory {
  const vms = inventory.vms.filter((info) => {
    if (info.status !== 'stopped') return false;
    const snapshot = t.vms.peek(vmKey(info.cluster, info.vmid));
    return snapshot !== undefined && snapshot.status === 'active' && snapshot.value === 'running';
  });
  return { ...inventory, vms };
}

function markClusterUnreachable(cluster: string, t: SyncTargets): void {
  const previous = t.view.clusters.get(cluster);
  t.setCluster({ cluster, reachable: false, quorate: previous?.quorate ?? false });
  const at = t.clock.now();
  for (const [key, host] of t.hosts.entries()) {
    if (key.startsWith(`${cluster}/`)) host.send({ type: 'CLUSTER_UNREACHABLE', at });
  }
}

/** Applies one answer at once (observe, scenario tests). */
export function applyInventory(inventory: Inventory, t: SyncTargets, options: ApplyOptions = {}): ClusterSyncReport {
  const steps = applySteps(inventory, t, options);
  return t.vms.batch(() => {
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
    }
  });
}

/** How long a slice's commit took per unit of its work (clock ms), as the last slice of this answer measured it. */
export interface Pace {
  commitPerUnit: number;
}

/**
 * Whether a slice that began at `startedAt` (clock time) and has done `units` of work has had its share, its commit
 * (at the pace measured) counted.
 */
export function sliceDone(units: number, startedAt: number, clock: Clock, pace: Pace): boolean {
  if (units >= SLICE_UNITS) return true;
  return units >= MIN_TIMED_UNITS && clock.now() - startedAt + units * pace.commitPerUnit >= SLICE_BUDGET_MS;
}

/**
 * Applies one answer in slices (see the header), yielding to the event loop between them (the sync loop). An answer
 * that fits in one slice is applied at once and its report returned as it is (no promise, no await).
 */
export function applyInventorySliced(
  inventory: Inventory,
  t: SyncTargets,
  options: ApplyOptions = {},
): ClusterSyncReport | Promise<ClusterSyncReport> {
  const steps = applySteps(inventory, t, options);
  const pace: Pace = { commitPerUnit: 0 };
  const first = runSlice(steps, 0, t, pace);
  return first.done ? first.value : rest(steps, first.value, t, pace);
}

/** One slice, one unit of the store (see ActorSet.batch): steps until the slice has had its share or the work ends. */
function runSlice(
  steps: Generator<number, ClusterSyncReport>,
  unitsBefore: number,
  t: SyncTargets,
  pace: Pace,
): IteratorResult<number, ClusterSyncReport> {
  const { clock } = t;
  const startedAt = clock.now();
  let worked = startedAt;
  let units = 0;
  const step = t.vms.batch(() => {
    for (;;) {
      const next = steps.next();
      if (!next.done) units = next.value - unitsBefore;
      if (next.done || sliceDone(units, startedAt, clock, pace)) {
        worked = clock.now();
        return next;
      }
    }
  });
  if (units > 0) pace.commitPerUnit = (clock.now() - worked) / units;
  return step;
}

/** The slices after the first, the event loop's turn between them. */
async function rest(
  steps: Generator<number, ClusterSyncReport>,
  unitsBefore: number,
  t: SyncTargets,
  pace: Pace,
): Promise<ClusterSyncReport> {
  let units = unitsBefore;
  for (;;) {
    await yieldToLoop();
    const step = runSlice(steps, units, t, pace);
    if (step.done) return step.value;
    units = step.value;
  }
}

/** The work of applying an answer; at each checkpoint it yields the units of work done so far. */
function* applySteps(
  inventory: Inventory,
  t: SyncTargets,
  options: ApplyOptions,
): Generator<number, ClusterSyncReport> {
  const { cluster, quorate } = inventory;
  const at = inventory.fetchedAt;
  const { askedAt } = options;
  const reads = t.view.guestReads;
  if (askedAt !== undefined) reads.inventoryApplied(cluster, askedAt);
  t.setCluster({ cluster, reachable: true, quorate });
  for (const host of inventory.hosts) observeHost(host, quorate, at, t);

  let created = 0;
  let changed = 0;
  let renewed = 0;
  let units = 0;
  /** Units done at the last checkpoint. */
  let checked = 0;
  /** VMs of this cluster the answer listed (and the view now holds as listed). */
  let listed = 0;
  /**
   * Actors given an event while running (or brought back by it: one it finished), put back to rest at the next
   * checkpoint. An event for an actor at rest is handled at rest (ActorSet.send), cheaper than by a running actor: that
   * one stays at rest (as a new one is made at rest).
   */
  const touched: string[] = [];
  const touch = (key: string) => touched.push(key);
  const checkpoint = () => {
    t.vms.passivateIdle(touched);
    touched.length = 0;
  };
  // Index loops: a for-of in a generator allocates an iterator result per VM.
  const { vms } = inventory;
  for (let i = 0; i < vms.length; i++) {
    const info = vms[i] as VmInfo;
    units++;
    if (units - checked >= CHECK_UNITS) {
      checkpoint();
      checked = units;
      yield units;
    }
    const key = vmKey(info.cluster, info.vmid);
    const known = t.vms.peek(key);
    let exists = known !== undefined;
    if (known && known.status !== 'active') {
      // Its VM was destroyed. Listed again in a sound answer asked for after that, the VMID is a new VM's.
      const fresh = inventory.complete && quorate && (options.destroyedBefore?.has(key) ?? true);
      if (!fresh) continue;
      t.log.info(`sync ${cluster}: VMID ${info.vmid} is in use again (${info.name}): a new VM, a new actor`);
      exists = false;
      renewed++;
    }
    if (info.cluster === cluster) listed++;
    // Its guest read alone since this answer was asked for: that read is the newer word on it.
    if (exists && askedAt !== undefined && reads.size > 0 && reads.newerThan(key, askedAt)) continue;
    t.view.setVm(info, key);
    if (!exists) {
      // Made at rest: no XState actor is started (and left behind) for a VM that is only being discovered.
      t.vms.createResting(key, { info, at });
      units += EVENT_UNITS;
      created++;
    } else if (known && !sameVm(known.context.info, info)) {
      if (t.vms.send(key, { type: 'OBSERVED', info, at, stop: options.stops?.get(key) }) === 'live') touch(key);
      units += EVENT_UNITS;
      changed++;
    }
  }
  checkpoint();

  const unreachable = new Set(inventory.unreachableNodes);
  // The VMs of this cluster in the view that the answer did not list. When the view holds no more of them than the
  // answer listed (the usual sync), there are none and nothing is looked up. (Were a VMID listed twice, a VM missing
  // would go uncounted this once: never the other way round.)
  const inView = countVms(t.view, cluster);
  const known: VmInfo[] = [];
  if (inView > listed) {
    const seen = new Set<number>();
    for (const info of inventory.vms) if (info.cluster === cluster) seen.add(info.vmid);
    for (const vm of t.view.vms.values()) {
      units++;
      if (units - checked >= CHECK_UNITS) {
        checked = units;
        yield units;
      }
      if (vm.cluster === cluster && !seen.has(vm.vmid)) known.push(vm);
    }
  }
  // An empty answer for a cluster we know VMs of is suspicious: never count it as "all gone".
  const trustworthy = inventory.complete && quorate && inventory.vms.length > 0;
  let missing = 0;
  for (const vm of known) {
    units++;
    if (units - checked >= CHECK_UNITS) {
      checkpoint();
      checked = units;
      yield units;
    }
    const key = vmKey(vm.cluster, vm.vmid);
    if (!t.vms.has(key)) continue;
    if (unreachable.has(vm.node)) {
      if (t.vms.send(key, { type: 'UNREACHABLE', at }) === 'live') touch(key);
      units += EVENT_UNITS;
    } else if (trustworthy) {
      if (t.vms.send(key, { type: 'MISSING', at }) === 'live') touch(key);
      units += EVENT_UNITS;
      missing++;
    }
  }
  checkpoint();
  // Actors awake since the last sync (woken by a request's event or a read, or restored at start) go to rest.
  t.vms.passivateIdle();
  if (!trustworthy && known.length > 0) {
    const why = !quorate
      ? 'the cluster has no quorum'
      : inventory.vms.length === 0
        ? 'the answer was empty'
        : 'the answer was partial';
    t.log.warn(`sync ${cluster}: ${known.length} known VMs not in the answer; nothing removed because ${why}`);
  }
  return {
    cluster,
    ok: true,
    complete: inventory.complete,
    quorate,
    vms: inventory.vms.length,
    created,
    changed,
    missing,
    renewed,
    unreachableNodes: inventory.unreachableNodes,
  };
}

/** VMs of `cluster` in the view (out of the generator, where iterating a Map allocates per entry). */
function countVms(view: SystemView, cluster: string): number {
  let n = 0;
  for (const vm of view.vms.values()) if (vm.cluster === cluster) n++;
  return n;
}

function observeHost(info: HostInfo, quorate: boolean, at: number, t: SyncTargets): void {
  const key = hostKey(info.cluster, info.node);
  t.view.setHost(info);
  const actor = t.hosts.get(key);
  if (!actor) t.hosts.create(key, { info, quorate, at, thresholds: t.hostThresholds });
  else actor.send({ type: 'OBSERVED', info, quorate, at });
}
