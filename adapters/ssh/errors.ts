// Typed errors of the SSH adapter. Each has a `name`, keeps its `cause`, and names the target it concerns.

/** Base of every SSH failure. `targetId` is the checked target (e.g. vm:lab/101). */
export class SshError extends Error {
  override name = 'SshError';
  constructor(
    message: string,
    readonly targetId: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The target itself cannot be used (bad port, unreadable private key, ...). Nothing was sent. */
export class SshTargetError extends SshError {
  override name = 'SshTargetError';
}

/** No SSH session could be set up: connection refused, reset, DNS, protocol or handshake failure. */
export class SshConnectError extends SshError {
  override name = 'SshConnectError';
  constructor(
    message: string,
    targetId: string,
    /** The socket error code when there is one (ECONNREFUSED, EHOSTUNREACH, ...). */
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, targetId, options);
  }
}

/** The server refused our key. */
export class SshAuthError extends SshError {
  override name = 'SshAuthError';
}

/**
 * The host presented a key that differs from the pinned or recorded one. The connection was aborted
 * during key exchange (nothing was authenticated or run) and the stored key was left as it was.
 */
export class SshHostKeyMismatchError extends SshError {
  override name = 'SshHostKeyMismatchError';
  constructor(
    message: string,
    targetId: string,
    /** The fingerprint we expected (pinned on the target, or recorded earlier). */
    readonly expected: string,
    /** The fingerprint the host presented. */
    readonly presented: string,
    options?: { cause?: unknown },
  ) {
    super(message, targetId, options);
  }
}

/** The host's key is not known, the target pins none, and trust-on-first-use is off. Refused. */
export class SshUnknownHostKeyError extends SshError {
  override name = 'SshUnknownHostKeyError';
  constructor(
    message: string,
    targetId: string,
    /** The fingerprint the host presented, to pin after checking it out of band. */
    readonly presented: string,
    options?: { cause?: unknown },
  ) {
    super(message, targetId, options);
  }
}

/** The operation did not finish within its time limit; the connection was aborted. */
export class SshTimeoutError extends SshError {
  override name = 'SshTimeoutError';
  constructor(
    message: string,
    targetId: string,
    readonly timeoutMs: number,
    /** What was going on: 'connect' (before the session was ready) or 'command'. */
    readonly phase: 'connect' | 'command',
    options?: { cause?: unknown },
  ) {
    super(message, targetId, options);
  }
}

/** A command ended with a non-zero exit code (or a signal). Carries its (capped) output. */
export class SshExitError extends SshError {
  override name = 'SshExitError';
  constructor(
    message: string,
    targetId: string,
    /** Exit code; -1 when the command ended without one (killed by a signal, channel closed). */
    readonly code: number,
    readonly stdout: string,
    readonly stderr: string,
    readonly signal?: string,
    options?: { cause?: unknown },
  ) {
    super(message, targetId, options);
  }
}

/** The known-hosts store could not be read or written (a corrupt file is never read as empty). */
export class KnownHostsError extends Error {
  override name = 'KnownHostsError';
  constructor(
    message: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
