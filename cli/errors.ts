// Typed CLI errors; main.ts turns each into a message on stderr and an exit code.
import type { ExitCode } from './exit-codes';
import { EXIT } from './exit-codes';

/** The name of an exit code (`notFound`), the `code` of an error that has no more specific one. */
const exitName = (code: ExitCode): string =>
  (Object.entries(EXIT) as [string, number][]).find(([, n]) => n === code)?.[0] ?? 'error';

/** Ends the command with `exitCode` and `message` on stderr (with --json, also as JSON on stdout). */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** A word for scripts: the gateway's error code, else the exit code's name (`usage`, `unavailable`, ...). */
  get code(): string {
    return exitName(this.exitCode);
  }

  /** The error as `overseer --json` prints it on stdout. */
  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, exitCode: this.exitCode };
  }
}

export class UsageError extends CliError {
  override name = 'UsageError';
  constructor(
    message: string,
    options?: {
      cause?: unknown;
      /** The command's usage line, printed after the message. */
      usage?: string | undefined;
    },
  ) {
    super(message, EXIT.usage, options);
    this.usage = options?.usage;
  }

  readonly usage: string | undefined;

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), ...(this.usage ? { usage: this.usage } : {}) };
  }
}

/** The gateway answered with an error. */
export class ApiError extends CliError {
  override name = 'ApiError';
  constructor(
    message: string,
    readonly status: number,
    private readonly apiCode: string,
    readonly field: string | undefined,
    exitCode: ExitCode,
  ) {
    super(message, exitCode);
  }

  override get code(): string {
    return this.apiCode;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), status: this.status, ...(this.field ? { field: this.field } : {}) };
  }
}

/** The gateway could not be reached at all. */
export class ConnectionError extends CliError {
  override name = 'ConnectionError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.unavailable, options);
  }
}
