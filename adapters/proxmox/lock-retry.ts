// Retrying calls that PVE refused because a VM's config file was locked ("can't lock file ... got timeout",
// "VM 101 is locked (backup)"): such a call did nothing, so trying again after a pause is safe.
import type { Clock } from '../clock';
import type { Log } from '../log';
import { PveApiError } from '../platform/errors';

export interface LockRetryOptions {
  attempts: number;
  baseMs: number;
  capMs: number;
  clock: Clock;
  log: Log;
  /** e.g. 'lab: POST /nodes/pve1/qemu/101/status/start' */
  what: string;
  signal?: AbortSignal | undefined;
}

/** True for a refusal caused by a lock, never for an unreachable node (that is not waited out). */
export function isLockRefusal(err: unknown): err is PveApiError {
  return err instanceof PveApiError && err.lockTimeout && !err.nodeUnreachable && err.status !== 200;
}

/** Delay before retry number `retry` (1-based): base, 2×base, 4×base, ... up to the cap. */
export function lockBackoffMs(retry: number, baseMs: number, capMs: number): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, retry - 1));
}

export async function retryOnLock<T>(fn: () => Promise<T>, opts: LockRetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isLockRefusal(err) || attempt >= opts.attempts) throw err;
      const delay = lockBackoffMs(attempt, opts.baseMs, opts.capMs);
      opts.log.warn(
        `${opts.what}: locked (${err.message.replace(/^[^:]*: /, '')}); retry ${attempt}/${opts.attempts - 1} in ${delay} ms`,
      );
      await opts.clock.sleep(delay, opts.signal);
    }
  }
}
