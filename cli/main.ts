// The `overseer` command line. `run(argv, env, io)` does everything and returns the exit code, so tests run it
// in-process; bin.js calls runFromProcess(). It talks to the gateway over HTTP like any other client.
// Every command and group answers --help; a bad command line is answered in the CLI's own words with the usage
// line; with --json an error is also a JSON object on stdout; a closed stdout (`overseer status | head -2`) ends
// the command quietly.
import { parseArgs } from 'node:util';
import { GatewayClient } from './client';
import type { Command } from './commands';
import { COMMANDS, findCommand } from './commands';
import { gatewayUrl, resolveToken } from './config';
import { CliError, UsageError } from './errors';
import type { ExitCode } from './exit-codes';
import { EXIT } from './exit-codes';
import { json } from './format';
import { closest, commandHelp, groupHelp, helpText, subcommandsOf, usageLine } from './help';
import type { CliEnv, CliIO } from './io';
import { defaultSleep } from './io';

export { EXIT } from './exit-codes';
export { helpText } from './help';
export type { CliEnv, CliIO } from './io';

const GLOBAL_OPTIONS = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

/** The arguments before a `--` (after it, everything is a positional). */
const options = (args: string[]): string[] => {
  const end = args.indexOf('--');
  return end < 0 ? args : args.slice(0, end);
};
const wantsHelp = (args: string[]) => options(args).some((a) => a === '--help' || a === '-h');

const isGroup = (prefix: string) => subcommandsOf(prefix).length > 0;

type Resolved = { command: Command; rest: string[] } | { group: string };

/** The command named by argv (one word, or two for `token create`), or a group asked for by itself. */
function resolveCommand(argv: string[]): Resolved {
  const [first = '', second] = argv;
  const pair = second !== undefined ? findCommand(`${first} ${second}`) : undefined;
  if (pair) return { command: pair, rest: argv.slice(2) };
  const single = findCommand(first);
  if (single) return { command: single, rest: argv.slice(1) };
  if (isGroup(first)) {
    if (second === undefined || second === '--help' || second === '-h') {
      if (second === undefined) throw new UsageError(`'${first}' needs a command`, { usage: groupHelp(first) });
      return { group: first };
    }
    const names = subcommandsOf(first).map((c) => c.name.slice(first.length + 1));
    const guess = closest(second, names);
    throw new UsageError(`unknown command '${first} ${second}'${guess ? ` (did you mean '${first} ${guess}'?)` : ''}`, {
      usage: groupHelp(first),
    });
  }
  const guess = closest(first, [...COMMANDS.map((c) => c.name.split(' ')[0]!)]);
  throw new UsageError(
    `unknown command '${first}'${guess ? ` (did you mean '${guess}'?)` : ''}; 'overseer help' lists the commands`,
  );
}

/** parseArgs' errors, said in the CLI's own words. */
function parseError(err: unknown, command: Command): UsageError {
  const e = err as Error & { code?: string };
  const usage = `${usageLine(command)}\n('overseer ${command.name} --help' for its options)`;
  const quoted = /'(-[^' ]*)/.exec(e.message)?.[1];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const known = Object.keys({ ...GLOBAL_OPTIONS, ...command.options }).map((o) => `--${o}`);
      const guess = quoted ? closest(quoted, known) : undefined;
      return new UsageError(
        `unknown option '${quoted ?? '?'}' for '${command.name}'${guess ? ` (did you mean ${guess}?)` : ''}`,
        { usage, cause: err },
      );
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const name = quoted ?? 'this option';
      if (/argument missing/.test(e.message)) return new UsageError(`${name} needs a value`, { usage, cause: err });
      // `--for -1h`: parseArgs will not take a value that looks like an option unless it is joined with '='.
      if (/ambiguous/.test(e.message)) {
        return new UsageError(`${name} needs a value; one that starts with '-' is written ${name}=<value>`, {
          usage,
          cause: err,
        });
      }
      return new UsageError(`${name} takes no value`, { usage, cause: err });
    }
    default:
      return new UsageError(e.message, { usage, cause: err });
  }
}

export async function run(argv: string[], env: CliEnv, io: CliIO): Promise<ExitCode> {
  const out = (text: string) => io.stdout(text);
  const err = (text: string) => io.stderr(text);
  const asJson = options(argv).includes('--json');
  try {
    if (argv.length === 0) {
      out(helpText());
      return EXIT.usage;
    }
    if (argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
      const topic = argv.slice(1).filter((a) => !a.startsWith('-'));
      if (topic.length === 0) out(helpText());
      else if (topic.length === 1 && !findCommand(topic[0]!) && isGroup(topic[0]!)) out(groupHelp(topic[0]!));
      else {
        const resolved = resolveCommand(topic);
        out('group' in resolved ? groupHelp(resolved.group) : commandHelp(resolved.command));
      }
      return EXIT.ok;
    }
    const resolved = resolveCommand(argv);
    if ('group' in resolved) {
      out(groupHelp(resolved.group));
      return EXIT.ok;
    }
    const { command, rest } = resolved;
    if (wantsHelp(rest)) {
      out(commandHelp(command));
      return EXIT.ok;
    }
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({
        args: rest,
        options: { ...GLOBAL_OPTIONS, ...command.options },
        strict: true,
        allowPositionals: true,
      });
    } catch (e) {
      throw parseError(e, command);
    }
    const maxArgs = command.maxArgs ?? command.args;
    if (parsed.positionals.length < command.args || parsed.positionals.length > maxArgs) {
      const got = parsed.positionals.length;
      const count = maxArgs === command.args ? `${command.args}` : `${command.args} to ${maxArgs}`;
      const wanted = `${count} argument${maxArgs === 1 ? '' : 's'}`;
      throw new UsageError(
        got > maxArgs
          ? `'${command.name}' takes ${wanted}, got ${got} (unexpected '${parsed.positionals[maxArgs]}')`
          : `'${command.name}' takes ${wanted}, got ${got}`,
        { usage: usageLine(command) },
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
      args: rest,
      json: parsed.values.json === true,
      out,
      err,
      sleep: (ms) => sleep(ms, io.signal),
      signal: io.signal,
    });
  } catch (e) {
    if (e instanceof CliError) {
      const usage = e instanceof UsageError && e.usage ? `${e.usage.trimEnd()}\n` : '';
      err(`overseer: ${e.message.trimEnd()}\n${usage}`);
      if (asJson) out(json({ error: e.toJSON() }));
      return e.exitCode;
    }
    if (io.signal?.aborted) return EXIT.ok;
    err(`overseer: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    if (asJson) {
      const message = e instanceof Error ? e.message : String(e);
      out(json({ error: { code: 'error', message: `unexpected error: ${message}`, exitCode: EXIT.error } }));
    }
    return EXIT.error;
  }
}

/** A write error that means the reader went away (`| head`): not a failure of the command. */
const readerGone = (error: NodeJS.ErrnoException) => error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED';

/**
 * Runs with the real process: argv, environment, stdio. Ctrl-C ends `events` and `--wait` cleanly; so does a closed
 * stdout (`overseer events | head -3`): the command stops, nothing more is written, no stack trace.
 */
export async function runFromProcess(): Promise<number> {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  let stdoutGone = false;
  let stderrGone = false;
  const onStdoutError = (error: NodeJS.ErrnoException) => {
    if (!readerGone(error)) throw error;
    stdoutGone = true;
    controller.abort();
  };
  const onStderrError = (error: NodeJS.ErrnoException) => {
    if (!readerGone(error)) throw error;
    stderrGone = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.stdout.on('error', onStdoutError);
  process.stderr.on('error', onStderrError);
  try {
    const code = await run(process.argv.slice(2), process.env, {
      stdout: (text) => {
        if (!stdoutGone) process.stdout.write(text);
      },
      stderr: (text) => {
        if (!stderrGone) process.stderr.write(text);
      },
      signal: controller.signal,
    });
    return code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // Still listening: a write already under way may fail after this returns.
  }
}
