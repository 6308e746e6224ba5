// The SSH adapter: guest and host checks (reachability, uptime, load, disk, systemd units) and remediation
// commands over ssh2, with host keys pinned (never accepted blindly).
export { CHECK_COMMANDS, createSshChecker } from './checker';
export {
  KnownHostsError,
  SshAuthError,
  SshConnectError,
  SshError,
  SshExitError,
  SshHostKeyMismatchError,
  SshTargetError,
  SshTimeoutError,
  SshUnknownHostKeyError,
} from './errors';
export { fingerprintOf, fingerprintOfPublicKeyLine, normalizeFingerprint } from './fingerprint';
export type {
  FileKnownHosts,
  FileKnownHostsOptions,
  KnownHostsStore,
  MemoryKnownHosts,
  MemoryKnownHostsOptions,
} from './known-hosts';
export { createFileKnownHosts, createMemoryKnownHosts } from './known-hosts';
export { isValidUnitName, parseDf, parseIsActive, parseLoadavg, parseUptime, shellQuote } from './parse';
export type {
  CommandResult,
  DiskUsage,
  RunCommandOptions,
  SshChecker,
  SshCheckerDeps,
  SshCheckResult,
  SshErrorInfo,
  SshTarget,
  UnitState,
} from './types';
export { DEFAULT_SSH_TIMEOUT_MS, OUTPUT_CAP_BYTES } from './types';
