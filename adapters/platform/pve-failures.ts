// Naming PVE's refusals and failed tasks by what they mean, from the texts PVE itself produces. A refusal comes
// as an HTTP error (PveApiError: status + message, and for HTTP 400 the per-parameter `errors`); many failures come
// as HTTP 200 and a task whose exitstatus is the error (TaskFailedError). Both carry the same Perl `die` texts.
// Each pattern below names the PVE source line it matches.
import { PveApiError, TaskFailedError } from './errors';

/**
 * Config lock kinds. QEMU (qemu-server `lock` option): backup, clone, create, migrate, rollback, snapshot,
 * snapshot-delete, suspending, suspended. Containers (pve-container `lock` option) add disk, fstrim, mounted,
 * destroyed.
 */
export const PVE_LOCK_KINDS = [
  'backup',
  'clone',
  'create',
  'migrate',
  'rollback',
  'snapshot',
  'snapshot-delete',
  'suspending',
  'suspended',
  'disk',
  'fstrim',
  'mounted',
  'destroyed',
] as const;
export type PveLockKind = (typeof PVE_LOCK_KINDS)[number];

/** Where PVE said it: an HTTP error answer, or a task's exitstatus. */
export type PveFailureSource = 'api' | 'task';

interface FailureBase {
  source: PveFailureSource;
  /** PVE's own text (the answer's message or the task's exitstatus). */
  message: string;
  /** HTTP status of an API refusal. */
  status?: number | undefined;
}

export type PveFailure = FailureBase &
  (
    | {
        /**
         * The guest's config carries a lock. pve-guest-common src/PVE/AbstractConfig.pm check_lock:
         * `die $class->guest_type() . " is locked ($conf->{lock})\n"` → "VM is locked (backup)",
         * "CT is locked (snapshot)" (also matched with the id: "VM 101 is locked (backup)").
         */
        kind: 'locked';
        lock: PveLockKind | (string & {});
        guest: 'VM' | 'CT';
        vmid?: number | undefined;
      }
    | {
        /**
         * A flock was not obtained in time. pve-common src/PVE/Tools.pm lock_file_full:
         * `$@ = "can't lock file '$filename' - $@"` with `die "got timeout\n"` →
         * "can't lock file '/var/lock/qemu-server/lock-101.conf' - got timeout"; and pve-cluster
         * src/PVE/Cluster.pm $cfs_lock: "cfs-lock '$lockid' error: got lock request timeout".
         */
        kind: 'lock_timeout';
        /** The lock file or cfs lock id. */
        file: string;
      }
    | {
        /**
         * pve-cluster src/PVE/Cluster.pm check_cfs_quorum: `die "cluster not ready - no quorum?\n"`; and
         * $cfs_lock: `$err = "no quorum!\n"` → "cfs-lock '...' error: no quorum!".
         */
        kind: 'no_quorum';
      }
    | {
        /**
         * The new VMID is in use (/cluster/nextid reserves nothing, so two clones can race for one id).
         * qemu-server src/PVE/API2/Qemu.pm clone_vm (in the qmclone task):
         * `die "unable to create VM $newid: config file already exists\n"`; pve-cluster src/PVE/Cluster.pm
         * check_vmid_unused (LXC clone/create, answered at once): `die "$vmtypestr $vmid already exists on node
         * '$d->{node}'\n"`; pve-manager PVE/API2/Cluster.pm nextid: "VM $vmid already exists".
         */
        kind: 'vmid_taken';
        vmid: number;
        node?: string | undefined;
      }
    | {
        /**
         * The guest has `protection: 1`. pve-guest-common src/PVE/AbstractConfig.pm check_protection:
         * `die "$err_msg - protection mode enabled\n"` → "can't remove VM 101 - protection mode enabled".
         */
        kind: 'protected';
        vmid?: number | undefined;
      }
    | {
        /**
         * Destroy of an HA-managed guest without `purge`. qemu-server src/PVE/API2/Qemu.pm destroy_vm:
         * "unable to remove VM $vmid - used in HA resources and purge parameter not set."; pve-container
         * src/PVE/API2/LXC.pm destroy_vm: "unable to remove CT $vmid - used in HA resources and purge parameter
         * not set."
         */
        kind: 'ha_purge_required';
        vmid: number;
      }
    | {
        /**
         * A template whose base volume still backs linked clones cannot be destroyed. qemu-server
         * src/PVE/QemuServer.pm destroy_vm: `die "base volume '$volid' is still in use by linked cloned\n"` (sic,
         * "local-zfs:base-9000-disk-0"); for a container pve-storage src/PVE/Storage.pm vdisk_free:
         * `die "base volume '$volname' is still in use by linked clones\n"` ("basevol-9100-disk-0").
         */
        kind: 'has_linked_clones';
        /** The base volume (a volume id or a volume name). */
        volume: string;
      }
    | {
        /**
         * HTTP 400 "Parameter verification failed." with one reason per parameter: pve-common
         * src/PVE/Exception.pm raise_param_exc and src/PVE/JSONSchema.pm validate.
         */
        kind: 'parameters';
        errors: Readonly<Record<string, string>>;
      }
    | {
        /**
         * What the call names is not there. pve-guest-common src/PVE/AbstractConfig.pm load_config:
         * `die "Configuration file '$cfspath' does not exist\n"` (what: config); snapshot_rollback /
         * snapshot_delete: `die "snapshot '$snapname' does not exist\n"` (what: snapshot).
         */
        kind: 'missing';
        what: 'config' | 'snapshot';
        /** The config path (nodes/pve1/qemu-server/101.conf) or the snapshot name. */
        name: string;
        vmid?: number | undefined;
      }
  );

export type PveFailureKind = PveFailure['kind'];

export const PVE_FAILURE_KINDS: readonly PveFailureKind[] = [
  'locked',
  'lock_timeout',
  'no_quorum',
  'vmid_taken',
  'protected',
  'ha_purge_required',
  'has_linked_clones',
  'parameters',
  'missing',
];

const PARAMETERS_RE = /Parameter verification failed/;
const LOCK_FILE_RE = /can't lock file '([^']+)' - got timeout/;
const CFS_LOCK_TIMEOUT_RE = /cfs-lock '([^']+)' error: got lock request timeout/;
const NO_QUORUM_RE = /cluster not ready - no quorum\?|cfs-lock '[^']*' error: no quorum!/;
const CLONE_EXISTS_RE = /unable to create (?:VM|CT) (\d+): config file already exists/;
const VMID_USED_RE = /\b(?:VM|CT) (\d+) already exists(?: on node '([^']+)')?/;
/**
 * A clone whose new config another node created first (pmxcfs refuses the rename into place): pve-common
 * src/PVE/Tools.pm file_set_contents → "close (rename) atomic file '/etc/pve/nodes/pve2/qemu-server/116.conf' failed:
 * File exists".
 */
const ATOMIC_EXISTS_RE = /close \(rename\) atomic file '[^']*\/(\d+)\.conf' failed: File exists/;
const HA_PURGE_RE = /unable to remove (?:VM|CT) (\d+) - used in HA resources and purge parameter not set/;
const PROTECTED_RE = / - protection mode enabled/;
const LINKED_CLONES_RE = /base volume '([^']+)' is still in use by linked clone[sd]\b/;
const GUEST_ID_RE = /\b(?:VM|CT) (\d+)\b/;
const LOCKED_RE = /\b(VM|CT)(?: (\d+))? is locked \(([a-z-]+)\)/;
const NO_CONFIG_RE = /Configuration file '([^']*?(\d+)\.conf)' does not exist/;
const NO_SNAPSHOT_RE = /snapshot '([^']+)' does not exist/;

type Kinded = PveFailure extends infer F ? (F extends FailureBase ? Omit<F, keyof FailureBase> : never) : never;

/** The PVE text an error carries, with where it came from; undefined for anything else. */
function pveText(err: unknown): FailureBase | undefined {
  if (err instanceof TaskFailedError) return { source: 'task', message: err.exitstatus };
  if (err instanceof PveApiError) return { source: 'api', message: err.pveMessage ?? err.message, status: err.status };
  return undefined;
}

/** The kind a PVE text names (first match wins; the order keeps e.g. a lock timeout from reading as "locked"). */
function kindOf(err: unknown, text: string): Kinded | undefined {
  const errors = err instanceof PveApiError ? err.errors : undefined;
  if (PARAMETERS_RE.test(text) || (err instanceof PveApiError && err.status === 400 && errors)) {
    return { kind: 'parameters', errors: errors ?? {} };
  }
  const lockFile = LOCK_FILE_RE.exec(text) ?? CFS_LOCK_TIMEOUT_RE.exec(text);
  if (lockFile) return { kind: 'lock_timeout', file: lockFile[1] as string };
  if (NO_QUORUM_RE.test(text)) return { kind: 'no_quorum' };
  const cloneExists = CLONE_EXISTS_RE.exec(text) ?? ATOMIC_EXISTS_RE.exec(text);
  if (cloneExists) return { kind: 'vmid_taken', vmid: Number(cloneExists[1]) };
  const used = VMID_USED_RE.exec(text);
  if (used) return { kind: 'vmid_taken', vmid: Number(used[1]), ...(used[2] ? { node: used[2] } : {}) };
  const ha = HA_PURGE_RE.exec(text);
  if (ha) return { kind: 'ha_purge_required', vmid: Number(ha[1]) };
  const linked = LINKED_CLONES_RE.exec(text);
  if (linked) return { kind: 'has_linked_clones', volume: linked[1] as string };
  if (PROTECTED_RE.test(text)) {
    const id = GUEST_ID_RE.exec(text);
    return { kind: 'protected', ...(id ? { vmid: Number(id[1]) } : {}) };
  }
  const locked = LOCKED_RE.exec(text);
  if (locked) {
    return {
      kind: 'locked',
      guest: locked[1] as 'VM' | 'CT',
      lock: locked[3] as string,
      ...(locked[2] ? { vmid: Number(locked[2]) } : {}),
    };
  }
  const noConfig = NO_CONFIG_RE.exec(text);
  if (noConfig) return { kind: 'missing', what: 'config', name: noConfig[1] as string, vmid: Number(noConfig[2]) };
  const noSnapshot = NO_SNAPSHOT_RE.exec(text);
  if (noSnapshot) return { kind: 'missing', what: 'snapshot', name: noSnapshot[1] as string };
  return undefined;
}

/**
 * What a PVE refusal or failed task means, by name; undefined when the error is not from PVE (network, timeout,
 * malformed answer) or its text is none of the known ones.
 */
export function classifyPveFailure(err: unknown): PveFailure | undefined {
  const base = pveText(err);
  if (!base) return undefined;
  const kinded = kindOf(err, base.message);
  return kinded ? ({ ...base, ...kinded } as PveFailure) : undefined;
}

/** True when `err` is a PVE failure of one of `kinds`. */
export function isPveFailure(err: unknown, ...kinds: PveFailureKind[]): boolean {
  const f = classifyPveFailure(err);
  return f !== undefined && kinds.includes(f.kind);
}
