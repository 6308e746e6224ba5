// Typed errors of the PVE simulator. Each has a `name` and keeps its `cause`.

/**
 * An API answer with an error status, as PVE gives it: the message becomes the HTTP status text
 * (first line) and the body's `message`; `errors` holds per-parameter messages (400).
 * `bare` answers carry no body and no Content-Type (PVE's 401 auth failures and 595/596 proxy errors).
 */
export class PveHttpError extends Error {
  override name = 'PveHttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: Record<string, string>,
    readonly bare = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** 400 "Parameter verification failed." with per-parameter messages. */
export class PveParamError extends PveHttpError {
  override name = 'PveParamError';
  constructor(errors: Record<string, string>, options?: { cause?: unknown }) {
    super(400, 'Parameter verification failed.', errors, false, options);
  }
}

/** A task worker's failure: becomes the task's exitstatus. */
export class TaskError extends Error {
  override name = 'TaskError';
}

/**
 * The flock file of a guest's config: qemu-server's QemuConfig::config_file_lock and pve-container's
 * LXC::Config::config_file_lock ($lockdir = /run/lock/lxc).
 */
export function configLockFile(vmid: number, type: 'qemu' | 'lxc' = 'qemu'): string {
  return type === 'lxc' ? `/run/lock/lxc/pve-config-${vmid}.lock` : `/var/lock/qemu-server/lock-${vmid}.conf`;
}

/** A config-file lock could not be taken in time. */
export class LockTimeoutError extends TaskError {
  override name = 'LockTimeoutError';
  constructor(
    readonly vmid: number,
    options?: { cause?: unknown },
    readonly type: 'qemu' | 'lxc' = 'qemu',
  ) {
    super(`can't lock file '${configLockFile(vmid, type)}' - got timeout`, options);
  }
}

/** A seed, option or control request the simulator cannot use. */
export class SimConfigError extends Error {
  override name = 'SimConfigError';
}

/** openssl failed while generating test certificates. */
export class CertificateError extends Error {
  override name = 'CertificateError';
  constructor(
    message: string,
    readonly output: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The simulator was stopped while a task was running. */
export class SimStoppedError extends Error {
  override name = 'SimStoppedError';
}
