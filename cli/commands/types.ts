// The shape of a CLI command.
import type { ParseArgsConfig } from 'node:util';
import type { GatewayClient } from '../client';
import type { ExitCode } from '../exit-codes';
import type { CliIO } from '../io';

export type OptionValues = Record<string, string | boolean | undefined>;

export interface CommandContext {
  client: GatewayClient;
  io: CliIO;
  values: OptionValues;
  positionals: string[];
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
  run(ctx: CommandContext): Promise<ExitCode>;
}
