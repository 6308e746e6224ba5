// Help texts: the whole command list, one command (its usage line and options), and a group of subcommands
// (`token`: create, list, revoke, ...). Every command and every group answers --help.
import type { Command } from './commands';
import { COMMANDS } from './commands';
import { EXIT_CODE_HELP } from './exit-codes';

export function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `Usage: overseer <command> [arguments] [--json]

Commands:
${lines.join('\n')}

Options:
  --json              machine-readable output on stdout (errors too: {"error": {...}})
  --dry-run           (requests) ask the gate only: the decision, each check and every member of a selector
                      or a drain; nothing is recorded or run (exit code as for the decision)
  --wait              (requests) follow the request until it ends; progress on stderr
  --interval <s>      seconds between --wait polls (default 1)
  --timeout <s>       give up waiting after this many seconds (default: never)
  -h, --help          help; 'overseer <command> --help' for one command

Guests are <cluster>/<vmid>: VMs and containers alike. Where a request names a guest, a selector may stand
instead: <cluster>/@tag:<tag>, @pool:<pool>, @node:<node> or @all, with exclusions -<vmid>, comma-separated
(overseer stop lab/@tag:web,-105). The gate sees every member; each runs as its own request.

Request ids may be abbreviated to any prefix that names one request, as in git.

Environment:
  OVERSEER_URL        gateway URL (default http://127.0.0.1:8001)
  OVERSEER_TOKEN      API token; else the admin token file $OVERSEER_DATA_DIR/admin.token
  OVERSEER_DATA_DIR   data directory (default ./data)

${EXIT_CODE_HELP}
`;
}

/** `Usage: overseer vms [--cluster c] ... [--json]`. */
export const usageLine = (c: Command): string =>
  `Usage: overseer ${c.name}${c.usage ? ` ${c.usage}` : ''}${c.json === false ? '' : ' [--json]'}`;

/** Commands one word longer than `prefix`: `token` → token create, token list, ... */
export function subcommandsOf(prefix: string): Command[] {
  return COMMANDS.filter((c) => c.name.startsWith(`${prefix} `) && !c.name.slice(prefix.length + 1).includes(' '));
}

export function commandHelp(c: Command): string {
  const options = Object.entries(c.options ?? {}).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ' <value>' : ''}`;
    return `  ${flag}`;
  });
  const subs = subcommandsOf(c.name);
  return [
    `${usageLine(c)}\n\n${c.summary}\n`,
    options.length > 0 ? `\nOptions:\n${options.join('\n')}\n` : '',
    subs.length > 0 ? `\nSubcommands:\n${listing(subs)}\n` : '',
    c.details ? `\n${c.details.trimEnd()}\n` : '',
    `\n(overseer help: every command, the environment and the exit codes)\n`,
  ].join('');
}

/** The subcommands of a group that is not itself a command (`token`). */
export function groupHelp(prefix: string): string {
  return `Usage: overseer ${prefix} <${subcommandsOf(prefix)
    .map((c) => c.name.slice(prefix.length + 1))
    .join(
      '|',
    )}> [arguments] [--json]\n\nCommands:\n${listing(subcommandsOf(prefix))}\n\n'overseer ${prefix} <command> --help' for one of them\n`;
}

function listing(commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n');
}

/** The known word closest to `word` (at most 2 edits away), for "did you mean". */
export function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = distance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
