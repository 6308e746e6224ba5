// Typed platform errors. Each has a `name` and keeps its `cause`.

export class PlatformError extends Error {
  override name = 'PlatformError';
  constructor(
    message: string,
    readonly cluster: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The cluster could not be read at all (network, auth, 5xx, timeout). Never means "no VMs". */
export class PlatformUnavailableError extends PlatformError {
  override name = 'PlatformUnavailableError';
}

/** An API call answered with an error status. */
export class PveApiError extends PlatformError {
  override name = 'PveApiError';
  /**
   * PVE's per-parameter reasons of a refusal (HTTP 400 "Parameter verification failed."): parameter name →
   * message, as the answer's `errors` object carries them. Undefined when the answer had none.
   */
  readonly errors: Readonly<Record<string, string>> | undefined;
  /** The answer's own `message` (PVE's die text, trailing newline removed), when it had one. */
  readonly pveMessage: string | undefined;
  constructor(
    message: string,
    cluster: string,
    readonly status: number,
    readonly path: string,
    options?: { cause?: unknown; errors?: Record<string, string>; pveMessage?: string },
  ) {
    super(message, cluster, options);
    this.errors = options?.errors ? Object.freeze({ ...options.errors }) : undefined;
    this.pveMessage = options?.pveMessage;
  }
  /** 595/596 or "node is offline": the node's problem, not the cluster's. */
  get nodeUnreachable(): boolean {
    return this.status === 595 || this.status === 596 || /offline|no route to host/i.test(this.message);
  }
  /** "can't lock file ... got timeout" / "VM is locked": worth retrying with backoff. */
  get lockTimeout(): boolean {
    return /can't lock file|got timeout|is locked/i.test(this.message);
  }
}

/** A call took longer than its limit. */
export class PlatformTimeoutError extends PlatformError {
  override name = 'PlatformTimeoutError';
}

/** A task ended with an exitstatus other than OK. */
export class TaskFailedError extends PlatformError {
  override name = 'TaskFailedError';
  constructor(
    message: string,
    cluster: string,
    readonly upid: string,
    readonly exitstatus: string,
    options?: { cause?: unknown },
  ) {
    super(message, cluster, options);
  }
}

/** A platform configuration that cannot work (bad credentials format, contradictory TLS settings, ...). */
export class PlatformConfigError extends PlatformError {
  override name = 'PlatformConfigError';
}

/** The server's certificate was not the one trusted (CA or fingerprint pin), so nothing was sent. */
export class PlatformTlsError extends PlatformUnavailableError {
  override name = 'PlatformTlsError';
}

/** The platform answered 200 with something that is not what the API promises. */
export class MalformedAnswerError extends PlatformError {
  override name = 'MalformedAnswerError';
  constructor(
    message: string,
    cluster: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(message, cluster, options);
  }
}

// PVE's failures by name (locked, lock_timeout, no_quorum, vmid_taken, ...), classified from the errors above.
export {
  classifyPveFailure,
  isPveFailure,
  PVE_FAILURE_KINDS,
  PVE_LOCK_KINDS,
  type PveFailure,
  type PveFailureKind,
  type PveFailureSource,
  type PveLockKind,
} from './pve-failures';
