// The `overseer` command line. `run(argv, env, io)` does everything and returns the exit code, so tests run it
// in-process; bin.js calls runFromProcess(). It talks to the gateway over HTTP like any other client.
import { parseArgs } from 'node:util';
import { GatewayClient } from './client';
import type { Command } from './commands';
import { COMMANDS, findCommand } from './commands';
import { gatewayUrl, resolveToken } from './config';
import { CliError, UsageError } from './errors';
import type { ExitCode } from './exit-codes';
import { EXIT, EXIT_CODE_HELP } from './exit-codes';
import type { CliEnv, CliIO } from './io';
import { defaultSleep } from './io';

export { EXIT } from './exit-codes';
export type { CliEnv, CliIO } from './io';

const GLOBAL_OPTIONS = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

export function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `Usage: overseer <command> [arguments] [--json]

Commands:
${lines.join('\n')}

Options:
  --json              machine-readable output on stdout
  --wait              (requests) follow the request until it ends; progress on stderr
  --interval <s>      seconds between --wait polls (default 1)
  --timeout <s>       give up waiting after this many seconds (default: never)
  -h, --help          help; 'overseer <command> --help' for one command

Environment:
  OVERSEER_URL        gateway URL (default http://127.0.0.1:8001)
  OVERSEER_TOKEN      API token; else the admin token file $OVERSEER_DATA_DIR/admin.token
  OVERSEER_DATA_DIR   data directory (default ./data)

${EXIT_CODE_HELP}
`;
}

const commandHelp = (c: Command): string =>
  `Usage: overseer ${c.name}${c.usage ? ` ${c.usage}` : ''} [--json]\n\n${c.summary}\n`;

/** The command named by argv (one word, or two for `token ...`) and the arguments after it. */
function resolveCommand(argv: string[]): { command: Command; rest: string[] } {
  const [first, second] = argv;
  const pair = first && second ? findCommand(`${first} ${second}`) : undefined;
  if (pair) return { command: pair, rest: argv.slice(2) };
  if (first === 'token') {
    const command = second ? findCommand(`token ${second}`) : undefined;
    if (!command) throw new UsageError(`unknown token command '${second ?? ''}' (create, list, revoke)`);
    return { command, rest: argv.slice(2) };
  }
  const command = first ? findCommand(first) : undefined;
  if (!command) throw new UsageError(`unknown command '${first}' (see 'overseer help')`);
  return { command, rest: argv.slice(1) };
}

export async function run(argv: string[], env: CliEnv, io: CliIO): Promise<ExitCode> {
  const out = (text: string) => io.stdout(text);
  const err = (text: string) => io.stderr(text);
  try {
    if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
      out(helpText());
      return argv.length === 0 ? EXIT.usage : EXIT.ok;
    }
    const { command, rest } = resolveCommand(argv);
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({
        args: rest,
        options: { ...GLOBAL_OPTIONS, ...command.options },
        strict: true,
        allowPositionals: true,
      });
    } catch (e) {
      throw new UsageError(`${(e as Error).message}\n${commandHelp(command)}`);
    }
    if (parsed.values.help) {
      out(commandHelp(command));
      return EXIT.ok;
    }
    if (parsed.positionals.length !== command.args) {
      throw new UsageError(
        `'${command.name}' takes ${command.args} argument${command.args === 1 ? '' : 's'}, got ${parsed.positionals.length}\n${commandHelp(command)}`,
      );
    }
    const token = command.local ? '' : await resolveToken(env, io);
    const client = new GatewayClient(gatewayUrl(env), token, io.fetch ?? fetch, io.signal);
    const sleep = io.sleep ?? defaultSleep;
    return await command.run({
      client,
      env,
      io,
      values: parsed.values as Record<string, string | boolean | undefined>,
      positionals: parsed.positionals,
      json: parsed.values.json === true,
      out,
      err,
      sleep: (ms) => sleep(ms, io.signal),
      signal: io.signal,
    });
  } catch (e) {
    if (e instanceof CliError) {
      err(`overseer: ${e.message.trimEnd()}\n`);
      return e.exitCode;
    }
    if (io.signal?.aborted) return EXIT.ok;
    err(`overseer: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT.error;
  }
}

/** Runs with the real process: argv, environment, stdio; Ctrl-C ends `events` and `--wait` cleanly. */
export async function runFromProcess(): Promise<number> {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await run(process.argv.slice(2), process.env, {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
      signal: controller.signal,
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
