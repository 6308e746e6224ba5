// Facts the gate reads from the platform before its synchronous checks run (the inventory does not hold them, or
// may be behind). For a bulk request they are read for every member.
// - for a snapshot, rollback or snapshot deletion, the names of the guest's snapshots: the snapshotName check
//   denies a name already used (snapshot) or one that does not exist (rollback, delsnapshot), as PVE would at
//   execution. A listing that fails is handed to the check as an error, and the check denies with it: fail closed.
// - for a destroy or rollback of a guest a backup rule covers (gate.backup), when its newest backup was made: one
//   read of the cluster's backup storages. A storage that could not be read makes "no backup found" unknown, not
//   "none".
// - for a power action the inventory says has nothing to do (a stop of a stopped VM), the guest's power state now:
//   only a state the platform confirms makes the decision `nothing_to_do`. A read that fails leaves the request to
//   the ordinary decision (`unknown`), so a stale inventory never swallows a request.
import type { Platform } from '../adapters/platform/types';
import type { BackupFact, GateInput, SnapshotListing } from '../machines/gate';
import { backupRuleFor, nothingToDo } from '../machines/gate';
import type { Action, BulkMember, GuestType, VmInfo, VmPowerStatus } from '../machines/types';
import { guestTypeOf, hostKey, vmKey } from '../machines/types';
import { newestBackups } from './guest-queries';

/** Where the gate reads what the inventory does not say. */
export interface PlatformFacts {
  snapshotNames(cluster: string, node: string, vmid: number, type: GuestType): Promise<readonly string[]>;
  powerStatus(cluster: string, node: string, vmid: number, type: GuestType): Promise<VmPowerStatus>;
  /** The newest backup (epoch ms) of each guest that has one, and the storages that could not be read. */
  backups(cluster: string): Promise<{ newest: ReadonlyMap<number, number>; failedStorages: readonly string[] }>;
}

/**
 * Concurrent reads of one fact share one platform call: a decision that needs a fact already being read (the same
 * guest's snapshot names or power state, the same cluster's backups) waits for that read instead of sending its
 * own. Only reads under way are shared, never a finished answer: a read started after another ended asks again.
 */
export function sharedReads<A extends unknown[], T>(
  keyOf: (...args: A) => string,
  read: (...args: A) => Promise<T>,
): (...args: A) => Promise<T> {
  const inFlight = new Map<string, Promise<T>>();
  return (...args) => {
    const key = keyOf(...args);
    const running = inFlight.get(key);
    if (running) return running;
    const started = read(...args).finally(() => inFlight.delete(key));
    inFlight.set(key, started);
    return started;
  };
}

const guestKey = (cluster: string, node: string, vmid: number, type: GuestType) => `${cluster}/${node}/${type}/${vmid}`;

/** The facts from the clusters' platforms (concurrent reads of one fact shared: sharedReads). */
export function platformFacts(platforms: ReadonlyMap<string, Platform>): PlatformFacts {
  const platformOf = (cluster: string): Platform => {
    const platform = platforms.get(cluster);
    if (!platform) throw new Error(`no platform is configured for cluster ${cluster}`);
    return platform;
  };
  return {
    snapshotNames: sharedReads(guestKey, async (cluster, node, vmid, type) =>
      (await platformOf(cluster).listSnapshots(node, vmid, type)).map((s) => s.name),
    ),
    powerStatus: sharedReads(guestKey, async (cluster, node, vmid, type) =>
      platformOf(cluster).vmStatus(node, vmid, type),
    ),
    backups: sharedReads(
      (cluster) => cluster,
      async (cluster) => {
        const listing = await platformOf(cluster).listBackups();
        const newest = new Map<number, number>();
        for (const [vmid, found] of newestBackups(listing)) newest.set(vmid, found.newest.ctime * 1000);
        return { newest, failedStorages: listing.failedStorages };
      },
    ),
  };
}

/** What the gate adds to its input once the platform was asked. */
export type GatheredFacts = Pick<GateInput, 'snapshots' | 'powerStatus' | 'backups'>;

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const SNAPSHOT_ACTIONS: ReadonlySet<Action> = new Set(['snapshot', 'rollback', 'delsnapshot']);
const BACKUP_ACTIONS: ReadonlySet<Action> = new Set(['destroy', 'rollback']);
/** Snapshot listings read at once for a bulk request. */
const LISTING_CONCURRENCY = 4;

/**
 * The facts the request (or each of `members`, for a bulk request) needs, keyed by guest key. Nothing is asked for
 * a guest an earlier check denies anyway and says why better: not in the inventory, its cluster unreachable, its
 * node offline.
 */
export async function gatherFacts(
  input: GateInput,
  source: PlatformFacts | undefined,
  members?: readonly BulkMember[],
): Promise<GatheredFacts> {
  const { cluster } = input.request.target;
  if (input.clusters.get(cluster)?.reachable !== true) return {};
  const subjects: { vm: VmInfo; action: Action }[] = [];
  const wanted =
    members ??
    (input.request.target.vmid !== undefined
      ? [{ vmid: input.request.target.vmid, action: input.request.action }]
      : []);
  for (const m of wanted) {
    const vm = input.vms.get(vmKey(cluster, m.vmid));
    if (!vm || input.hosts.get(hostKey(cluster, vm.node))?.status === 'offline') continue;
    subjects.push({ vm, action: m.action });
  }
  const facts: GatheredFacts = {};

  const listed = subjects.filter((s) => SNAPSHOT_ACTIONS.has(s.action));
  if (listed.length > 0) {
    const snapshots = new Map<string, SnapshotListing>();
    const queue = [...listed];
    const next = async (): Promise<void> => {
      for (let s = queue.shift(); s; s = queue.shift()) {
        const key = vmKey(cluster, s.vm.vmid);
        if (!source) {
          snapshots.set(key, { error: 'no platform facts are available' });
          continue;
        }
        try {
          snapshots.set(key, {
            names: [...(await source.snapshotNames(cluster, s.vm.node, s.vm.vmid, guestTypeOf(s.vm)))],
          });
        } catch (error) {
          snapshots.set(key, { error: message(error) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(LISTING_CONCURRENCY, listed.length) }, next));
    facts.snapshots = snapshots;
  }

  const covered = subjects.filter(
    (s) => BACKUP_ACTIONS.has(s.action) && backupRuleFor(s.vm, input.config) !== undefined,
  );
  if (covered.length > 0)
    facts.backups = await backupFacts(
      cluster,
      covered.map((s) => s.vm.vmid),
      source,
    );

  if (!members && subjects.length === 1 && nothingToDo(input) !== undefined) {
    const vm = subjects[0]?.vm as VmInfo;
    let status: VmPowerStatus = 'unknown';
    try {
      if (source) status = await source.powerStatus(cluster, vm.node, vm.vmid, guestTypeOf(vm));
    } catch {
      // the ordinary decision, then: execution finds out what the platform says
    }
    facts.powerStatus = new Map([[vmKey(cluster, vm.vmid), status]]);
  }
  return facts;
}

async function backupFacts(
  cluster: string,
  vmids: readonly number[],
  source: PlatformFacts | undefined,
): Promise<Map<string, BackupFact>> {
  const facts = new Map<string, BackupFact>();
  let read: Awaited<ReturnType<PlatformFacts['backups']>> | { error: string };
  try {
    read = source ? await source.backups(cluster) : { error: 'no platform facts are available' };
  } catch (error) {
    read = { error: `the backups could not be read: ${message(error)}` };
  }
  for (const vmid of vmids) {
    const key = vmKey(cluster, vmid);
    if ('error' in read) {
      facts.set(key, { error: read.error });
      continue;
    }
    const newestAt = read.newest.get(vmid);
    if (newestAt === undefined && read.failedStorages.length > 0) {
      facts.set(key, { error: `no backup found, but storage ${read.failedStorages.join(', ')} could not be read` });
    } else {
      facts.set(key, { newestAt });
    }
  }
  return facts;
}
