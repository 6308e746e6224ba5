// The per-VM config file locks (/var/lock/qemu-server/lock-<vmid>.conf) that PVE workers take with
// flock: shared (clone of a stopped VM) or exclusive (everything else), waiting up to a timeout.
// Not to be confused with the config `lock:` property (backup, clone, snapshot, ...), which lives on the VM.
import type { Clock, TimerHandle } from '../clock';
import { LockTimeoutError } from './errors';
import type { SimFaults } from './faults';

export type FlockMode = 'shared' | 'exclusive';
export type Release = () => void;

interface Waiter {
  mode: FlockMode;
  grant: () => void;
  timer: TimerHandle;
}

interface Entry {
  exclusive: boolean;
  shared: number;
  waiters: Waiter[];
}

export class FlockTable {
  private readonly entries = new Map<number, Entry>();

  constructor(
    private readonly clock: Clock,
    private readonly faults: SimFaults,
  ) {}

  /**
   * Resolves with a release function, or rejects with LockTimeoutError after `timeoutMs` of clock time.
   * One table for VMs and containers: VMIDs are unique in a cluster; `type` only names the lock file.
   */
  async acquire(vmid: number, mode: FlockMode, timeoutMs: number, type: 'qemu' | 'lxc' = 'qemu'): Promise<Release> {
    if (this.faults.takeLockTimeout(vmid)) {
      await this.clock.sleep(timeoutMs);
      throw new LockTimeoutError(vmid, undefined, type);
    }
    const e = this.entry(vmid);
    if (e.waiters.length === 0 && this.compatible(e, mode)) return this.take(vmid, e, mode);
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = {
        mode,
        grant: () => resolve(this.take(vmid, e, mode)),
        timer: this.clock.setTimeout(() => {
          e.waiters = e.waiters.filter((w) => w !== waiter);
          this.cleanup(vmid, e);
          reject(new LockTimeoutError(vmid, undefined, type));
        }, timeoutMs),
      };
      e.waiters.push(waiter);
    });
  }

  /** Whether anyone holds the lock (for tests). */
  held(vmid: number): FlockMode | undefined {
    const e = this.entries.get(vmid);
    if (!e) return undefined;
    if (e.exclusive) return 'exclusive';
    return e.shared > 0 ? 'shared' : undefined;
  }

  private entry(vmid: number): Entry {
    let e = this.entries.get(vmid);
    if (!e) {
      e = { exclusive: false, shared: 0, waiters: [] };
      this.entries.set(vmid, e);
    }
    return e;
  }

  private compatible(e: Entry, mode: FlockMode): boolean {
    return mode === 'shared' ? !e.exclusive : !e.exclusive && e.shared === 0;
  }

  private take(vmid: number, e: Entry, mode: FlockMode): Release {
    if (mode === 'exclusive') e.exclusive = true;
    else e.shared++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (mode === 'exclusive') e.exclusive = false;
      else e.shared--;
      this.wake(e);
      this.cleanup(vmid, e);
    };
  }

  private wake(e: Entry): void {
    while (e.waiters.length > 0 && this.compatible(e, e.waiters[0]!.mode)) {
      const w = e.waiters.shift()!;
      this.clock.clearTimeout(w.timer);
      // take() runs synchronously inside grant, so the next waiter sees the new holder.
      w.grant();
    }
  }

  private cleanup(vmid: number, e: Entry): void {
    if (!e.exclusive && e.shared === 0 && e.waiters.length === 0) this.entries.delete(vmid);
  }
}
