// POST /nodes/{node}/lxc/{vmid}/clone, as pve-container's clone_vm does it: before forking, the source gets the
// config lock 'disk' and the new CT a config with lock 'create' (so a second clone of the same template meanwhile
// is refused with "CT is locked (disk)"); the worker copies or links the root volume, then drops both locks.
import type { Principal } from './auth';
import { PveHttpError } from './errors';
import type { Release } from './flocks';
import { ctLocked } from './lxc-operations';
import { ctVolume } from './lxc-views';
import { fail, isRunning, isType, type OpsContext, requireQuorum, requireVm } from './operations';
import { bool, type Params, str } from './params';
import { makeVm } from './state';
import type { SimState, SimVm } from './types';
import { poolNames } from './views';

/** AbstractConfig::create_and_lock_config's wait for the new CT's flock (lock_config_full(..., 5, ...)). */
const CREATE_LOCK_WAIT_MS = 5_000;
/** The storages every simulated node has besides the seeded ones; neither is shared. */
const NODE_STORAGES = new Set(['local', 'local-zfs']);

/** A storage of the cluster (storage.cfg), or undefined. */
function storageOf(state: SimState, id: string): { shared: boolean } | undefined {
  const seeded = state.storages?.find((s) => s.storage === id);
  if (seeded) return seeded;
  return NODE_STORAGES.has(id) ? { shared: false } : undefined;
}

/** PVE::Cluster::check_vmid_unused: the message names the existing guest's type and node. */
function checkVmidUnused(state: SimState, vmid: number): void {
  const other = state.vms.get(vmid);
  if (other) refuse(`${isType(other, 'lxc') ? 'CT' : 'VM'} ${vmid} already exists on node '${other.node}'`);
}

/** Takes a flock for a moment, as PVE's lock_config around a config update; a timeout answers 500. */
async function underFlock(ctx: OpsContext, vmid: number, waitMs: number, fn: () => void): Promise<void> {
  let release: Release;
  try {
    release = await ctx.flocks.acquire(vmid, 'exclusive', waitMs, 'lxc');
  } catch (err) {
    throw new PveHttpError(500, (err as Error).message, undefined, false, { cause: err });
  }
  try {
    fn();
  } finally {
    release();
  }
}

/** An API-side refusal before the worker is forked: HTTP 500 with PVE's message. */
function refuse(message: string): never {
  throw new PveHttpError(500, message);
}

/** POST /nodes/{node}/lxc/{vmid}/clone. Returns the UPID once the new CT exists with lock 'create'. */
export async function ctClone(ctx: OpsContext, who: Principal, node: string, vmid: number, p: Params) {
  const { state, clock, tasks } = ctx;
  const newid = p.newid as number;
  const pool = str(p, 'pool');
  const snapname = str(p, 'snapname');
  const storage = str(p, 'storage');
  // RPCEnvironment::check_pool_exist: raise_perm_exc.
  if (pool !== undefined && !poolNames(state).includes(pool)) {
    throw new PveHttpError(403, `Permission check failed (pool '${pool}' does not exist)`);
  }
  let target = str(p, 'target');
  if (target === node || target === 'localhost') target = undefined;
  if (target !== undefined && !state.nodes.has(target)) throw new PveHttpError(500, `no such cluster node '${target}'`);
  // The CT's volumes are on local-zfs; `storage` is where a full clone puts them.
  let shared = false;
  if (storage !== undefined) {
    const scfg = storageOf(state, storage);
    if (!scfg) throw new PveHttpError(500, `storage '${storage}' does not exist`);
    if (target !== undefined && !scfg.shared) {
      throw new PveHttpError(500, `can't clone to non-shared storage '${storage}'`);
    }
    shared = scfg.shared;
  }
  requireQuorum(state);

  // set_lock($vmid, 'disk') on the source.
  let src: SimVm | undefined;
  await underFlock(ctx, vmid, tasks.lockWaitMs, () => {
    src = requireVm(state, node, vmid, 'lxc');
    if (src.lock) throw new PveHttpError(500, ctLocked(src));
    src.lock = 'disk';
  });
  const source = src!;
  const unlockSource = () => {
    if (source.lock === 'disk') source.lock = undefined;
  };
  // create_and_lock_config($newid): the new CT's config, with lock 'create'.
  try {
    await underFlock(ctx, newid, CREATE_LOCK_WAIT_MS, () => checkVmidUnused(state, newid));
  } catch (err) {
    unlockSource();
    throw err;
  }

  const running = isRunning(source);
  const full = bool(p, 'full') ?? !source.template;
  const volid = ctVolume(source);
  try {
    if (storage !== undefined && !full) refuse("parameter 'storage' not allowed for linked clones");
    if (snapname && !source.snapshots.some((s) => s.name === snapname)) refuse(`snapshot '${snapname}' does not exist`);
    if (full && running && snapname === undefined) {
      refuse('Full clone of a running container is only possible from a snapshot');
    }
    // ZFS links clones of base volumes only (ZFSPoolPlugin::volume_has_feature clone => { base => 1 }).
    if (!full && (!source.template || snapname !== undefined)) {
      refuse(`Linked clone feature for '${volid}' is not available`);
    }
    if (target !== undefined && !shared) refuse(`can't clone CT to node '${target}' (CT uses local storage)`);
  } catch (err) {
    unlockSource();
    throw err;
  }
  const clone = makeVm(
    {
      vmid: newid,
      type: 'lxc',
      name: str(p, 'hostname') || source.name,
      node,
      status: 'stopped',
      tags: source.tags,
      cores: source.cores,
      maxmem: source.maxmem,
      maxdisk: source.maxdisk,
      description: str(p, 'description') || source.description,
      protection: source.protection,
      linkedFrom: full ? undefined : vmid,
      lock: 'create',
    },
    clock.now(),
  );
  state.vms.set(newid, clone);

  return tasks.start({
    node,
    type: 'vzclone',
    vmid,
    user: who.authid,
    op: 'clone',
    detail: { newid, hostname: clone.name, full, target: target ?? node, type: 'lxc' },
    run: async (t) => {
      t.log(`creating a clone of container ${vmid} with ID ${newid}`);
      t.log(
        full
          ? `create full clone of mountpoint rootfs (${volid})`
          : `create linked clone of mount point rootfs (${volid})`,
      );
      try {
        await t.work();
      } catch (err) {
        throw fail(`clone failed: ${(err as Error).message}`);
      } finally {
        unlockSource();
      }
      const ct = state.vms.get(newid);
      if (!ct || ct.lock !== 'create') throw fail("Lost 'create' config lock, aborting.");
      if (pool !== undefined) ct.pool = pool;
      ct.lock = undefined;
      // move_config_to_node: only reached with a shared target storage.
      if (target !== undefined) ct.node = target;
    },
    onError: () => {
      if (state.vms.get(newid)?.lock === 'create') state.vms.delete(newid);
    },
  }).upid;
}
