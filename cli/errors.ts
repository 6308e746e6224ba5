// Typed CLI errors; main.ts turns each into a message on stderr and an exit code.
import type { ExitCode } from './exit-codes';
import { EXIT } from './exit-codes';

/** Ends the command with `exitCode` and `message` on stderr. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class UsageError extends CliError {
  override name = 'UsageError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.usage, options);
  }
}

/** The gateway answered with an error. */
export class ApiError extends CliError {
  override name = 'ApiError';
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly field: string | undefined,
    exitCode: ExitCode,
  ) {
    super(message, exitCode);
  }
}

/** The gateway could not be reached at all. */
export class ConnectionError extends CliError {
  override name = 'ConnectionError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.unavailable, options);
  }
}
