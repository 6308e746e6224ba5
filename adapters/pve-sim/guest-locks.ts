// Locks besides the config flocks (flocks.ts): pve-guest-common's guest migration lock
// (/var/lock/pve-manager/pve-migrate-<vmid>, taken by migrations, rollbacks and snapshot deletes) and vzdump's
// one-job-per-node lock. Exclusive, first come first served, with a wait limit on the simulator's clock.
import type { Clock, TimerHandle } from '../clock';
import { TaskError } from './errors';
import type { Release } from './flocks';
import type { SimState } from './types';

/** A lock that could not be had in time (PVE::Tools::lock_file_full's text). */
export class LockFileTimeoutError extends TaskError {
  override name = 'LockFileTimeoutError';
  constructor(
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(`can't lock file '${file}' - got timeout`, options);
  }
}

interface Waiter {
  grant: () => void;
  timer: TimerHandle;
}

/** Exclusive locks by file name. */
export class LockFiles {
  private readonly held = new Set<string>();
  private readonly waiters = new Map<string, Waiter[]>();

  constructor(private readonly clock: Clock) {}

  /** Resolves with a release function, or rejects with LockFileTimeoutError after `timeoutMs` of clock time. */
  acquire(file: string, timeoutMs: number): Promise<Release> {
    const queue = this.waiters.get(file) ?? [];
    if (!this.held.has(file) && queue.length === 0) return Promise.resolve(this.take(file));
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => resolve(this.take(file)),
        timer: this.clock.setTimeout(() => {
          this.drop(file, waiter);
          reject(new LockFileTimeoutError(file));
        }, timeoutMs),
      };
      queue.push(waiter);
      this.waiters.set(file, queue);
    });
  }

  isHeld(file: string): boolean {
    return this.held.has(file);
  }

  private take(file: string): Release {
    this.held.add(file);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held.delete(file);
      const next = this.waiters.get(file)?.shift();
      if (this.waiters.get(file)?.length === 0) this.waiters.delete(file);
      if (next) {
        this.clock.clearTimeout(next.timer);
        next.grant();
      }
    };
  }

  private drop(file: string, waiter: Waiter): void {
    const queue = (this.waiters.get(file) ?? []).filter((w) => w !== waiter);
    if (queue.length === 0) this.waiters.delete(file);
    else this.waiters.set(file, queue);
  }
}

/** PVE::GuestHelpers::guest_migration_lock's file. */
export const migrationLockFile = (vmid: number): string => `/var/lock/pve-manager/pve-migrate-${vmid}`;

/** vzdump's per-node lock (PVE::VZDump::getlock). */
export const VZDUMP_LOCK_FILE = '/var/run/vzdump.lock';

/** guest_migration_lock's wait (10 s). */
export const MIGRATION_LOCK_WAIT_MS = 10_000;

const tables = new WeakMap<SimState, Map<string, LockFiles>>();

/** The lock files of one node of a simulated cluster (made on first use). */
export function lockFiles(state: SimState, node: string, clock: Clock): LockFiles {
  let perNode = tables.get(state);
  if (!perNode) {
    perNode = new Map();
    tables.set(state, perNode);
  }
  let files = perNode.get(node);
  if (!files) {
    files = new LockFiles(clock);
    perNode.set(node, files);
  }
  return files;
}
