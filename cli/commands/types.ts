// The shape of a CLI command.
import type { ParseArgsConfig } from 'node:util';
import type { GatewayClient } from '../client';
import type { ExitCode } from '../exit-codes';
import type { CliIO } from '../io';

export type OptionValues = Record<string, string | boolean | undefined>;

export interface CommandContext {
  /** The gateway, with the caller's token (commands that need no gateway get none). */
  client: GatewayClient;
  /** The environment the CLI runs in. */
  env: Readonly<Record<string, string | undefined>>;
  io: CliIO;
  values: OptionValues;
  positionals: string[];
  /** The arguments after the command's name, as given (serve passes them on). */
  args: string[];
  json: boolean;
  out(text: string): void;
  err(text: string): void;
  sleep(ms: number): Promise<void>;
  signal: AbortSignal | undefined;
}

export interface Command {
  /** `vms`, `token create`, ... */
  name: string;
  /** Arguments after the name, for help: `<cluster>/<vmid> [--force]`. */
  usage: string;
  summary: string;
  options?: NonNullable<ParseArgsConfig['options']>;
  /** How many positionals the command takes. */
  args: number;
  /** At most this many positionals, when the command takes a varying number (default: exactly `args`). */
  maxArgs?: number;
  /** Runs on this host's files alone: no gateway, no token. */
  local?: boolean;
  /** `false`: the command has no --json output (serve). */
  json?: false;
  /** More help, after the options (`overseer <command> --help`). */
  details?: string;
  run(ctx: CommandContext): Promise<ExitCode>;
}
