// What the SSH adapter checks and returns. Plain data, no I/O.
import type { Clock } from '../clock';
import type { Log } from '../log';
import type { KnownHostsStore } from './known-hosts';

/** A machine to check or act on over SSH. */
export interface SshTarget {
  /** Whose host key this is and what results are reported under, e.g. `vm:lab/101` or `host:lab/pve1`. */
  id: string;
  host: string;
  port: number;
  username: string;
  /** Private key, PEM or OpenSSH format (unencrypted, or see `passphrase`). */
  privateKey: string;
  passphrase?: string;
  /** Pinned host key fingerprint, `SHA256:<base64>` as `ssh-keygen -l` prints it. Wins over the store. */
  hostKey?: string;
  /** systemd units expected to be active. */
  units?: string[];
  /** Whole operation (connect + commands), default DEFAULT_SSH_TIMEOUT_MS. */
  timeoutMs?: number;
}

export interface DiskUsage {
  mount: string;
  /** used / (used + available), 0..1, as df's Capacity column computes it. */
  usedFraction: number;
}

export interface UnitState {
  name: string;
  active: boolean;
  /** What `systemctl is-active` answered (active, inactive, failed, activating, unknown, ...), when it answered. */
  state?: string;
  /** Why the state could not be read (systemctl missing, no systemd, invalid unit name). */
  error?: string;
}

export interface SshErrorInfo {
  name: string;
  message: string;
}

export interface SshCheckResult {
  id: string;
  /** An authenticated session was set up (host key verified). */
  reachable: boolean;
  /** Time to an authenticated session, ms (from the injected clock). */
  latencyMs?: number;
  uptimeSeconds?: number;
  /** 1, 5 and 15 minute load averages. */
  load?: [number, number, number];
  disk?: DiskUsage[];
  units?: UnitState[];
  /** What stopped the check (no session, timeout); absent when everything ran. */
  error?: SshErrorInfo;
  /** Checks that ran but could not be read (e.g. `uptime: exit 1`); the others are still reported. */
  warnings?: string[];
  /** True when the host presented a key that differs from the pinned or recorded one (refused). */
  hostKeyChanged?: boolean;
  /** Fingerprint the host presented, when it got that far. */
  hostKey?: string;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
  /** True when stdout or stderr was longer than the cap and was cut. */
  truncated: boolean;
}

export interface RunCommandOptions {
  /** Default: the target's timeoutMs, then DEFAULT_SSH_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Resolve with a non-zero code instead of throwing SshExitError. */
  allowNonZero?: boolean;
}

export interface SshCheckerDeps {
  clock: Clock;
  log: Log;
  knownHosts: KnownHostsStore;
}

export interface SshChecker {
  /** Never throws: every failure is reported in the result. */
  check(target: SshTarget): Promise<SshCheckResult>;
  /**
   * Runs one command (remediation). Output is capped at OUTPUT_CAP_BYTES per stream.
   * Throws SshExitError on a non-zero exit, and the connection errors (SshHostKeyMismatchError,
   * SshUnknownHostKeyError, SshAuthError, SshConnectError, SshTimeoutError, SshTargetError).
   */
  runCommand(target: SshTarget, command: string, opts?: RunCommandOptions): Promise<CommandResult>;
}

export const DEFAULT_SSH_TIMEOUT_MS = 10_000;
/** Most bytes kept of a command's stdout, and of its stderr. */
export const OUTPUT_CAP_BYTES = 64 * 1024;
