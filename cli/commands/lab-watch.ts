// --wait on a lab: polls GET /v1/labs/:name (every --interval seconds, 1 by default) until the lab rests (ready,
// failed, rolled back, destroyed, denied, cancelled, expired, awaiting approval), showing each member's phase, VMID
// and node on stderr: a block redrawn in place on a terminal, else one line per change (`web-1: cloning → cloned
// (vmid 104 on pve1)`). The lab as it rests is printed on stdout (--json: the whole LabView); the exit code says
// whether it ended as the command wanted.
import type { LabMemberView, LabView } from '../../protocol';
import { CliError } from '../errors';
import type { ExitCode } from '../exit-codes';
import { EXIT } from '../exit-codes';
import { json } from '../format';
import { seconds } from './args';
import {
  labExitCode,
  labExplanation,
  labLine,
  membersTable,
  placement,
  RESTING_LAB_STATUSES,
  words,
} from './lab-output';
import type { CommandContext } from './types';

/** --wait and its timing, as request commands have them. */
export const waitOptions = {
  wait: { type: 'boolean' },
  interval: { type: 'string' },
  timeout: { type: 'string' },
} as const;

export const WAIT_DETAILS = `--wait follows the lab until it rests, polling every --interval seconds (default 1; --timeout gives up):
each member's phase, VMID and node on stderr, redrawn in place on a terminal, else one line per change
(OVERSEER_PROGRESS=lines or live chooses). The exit code is 0 when the lab ends as the command wanted.`;

/** The path of a lab, with its cluster (a name may run on two clusters). */
export const labPath = (name: string, cluster?: string): string =>
  `/v1/labs/${encodeURIComponent(name)}${cluster !== undefined ? `?cluster=${encodeURIComponent(cluster)}` : ''}`;

const ERASE_UP = (lines: number): string => `\x1b[${lines}A\x1b[J`;

/** Redraw in place: OVERSEER_PROGRESS says so, else stderr is a terminal that can. */
function redraws(ctx: CommandContext): boolean {
  const chosen = ctx.env.OVERSEER_PROGRESS;
  if (chosen === 'live') return true;
  if (chosen === 'lines') return false;
  return process.stderr.isTTY === true && ctx.env.TERM !== 'dumb';
}

/** Shows a lab's progress: the whole block again (live), or what changed since the last view (lines). */
class Progress {
  private drawn = 0;
  private block = '';
  private last: LabView | undefined;

  constructor(
    private readonly ctx: CommandContext,
    private readonly live: boolean,
  ) {}

  show(lab: LabView): void {
    if (this.live) this.redraw(lab);
    else this.changes(lab);
    this.last = lab;
  }

  /** Removes the live block once the result is printed. */
  clear(): void {
    if (this.drawn > 0) this.ctx.err(ERASE_UP(this.drawn));
    this.drawn = 0;
  }

  private redraw(lab: LabView): void {
    const block = `${labLine(lab)}\n${lab.members.length > 0 ? membersTable(lab.members) : ''}`;
    if (block === this.block) return;
    this.clear();
    this.ctx.err(block);
    this.block = block;
    this.drawn = block.split('\n').length - 1;
  }

  private changes(lab: LabView): void {
    const before = this.last;
    if (!before) this.ctx.err(`${labLine(lab)}\n`);
    else if (before.status !== lab.status) {
      this.ctx.err(`lab ${lab.name}: ${words(before.status)} → ${words(lab.status)}\n`);
    }
    const earlier = new Map((before?.members ?? []).map((m) => [m.name, m]));
    for (const m of lab.members) {
      const line = memberChange(earlier.get(m.name), m);
      if (line) this.ctx.err(`${line}\n`);
    }
  }
}

/** `web-1: cloning → cloned (vmid 104 on pve1)`, `web-1: planned`, or undefined when nothing changed. */
function memberChange(before: LabMemberView | undefined, now: LabMemberView): string | undefined {
  const where = placement(now);
  const moved = where !== undefined && where !== (before && placement(before));
  if (before && before.phase === now.phase && !moved) return undefined;
  const phase = before && before.phase !== now.phase ? `${before.phase} → ${now.phase}` : now.phase;
  const error = now.phase === 'failed' && now.error !== undefined ? `: ${now.error}` : '';
  return `${now.name}: ${phase}${where !== undefined && (moved || !before) ? ` (${where})` : ''}${error}`;
}

/** One poll; undefined while the gateway, NATS or the core is briefly unavailable (the lab goes on). */
async function poll(ctx: CommandContext, lab: LabView): Promise<LabView | undefined> {
  try {
    return await ctx.client.get<LabView>(labPath(lab.name, lab.cluster));
  } catch (err) {
    if (!(err instanceof CliError) || err.exitCode !== EXIT.unavailable || ctx.signal?.aborted) throw err;
    ctx.err(`lab ${lab.name}: ${err.message}; still waiting\n`);
    return undefined;
  }
}

/** Prints the lab as it rests and returns the exit code for `goal`. */
export function reportLab(ctx: CommandContext, lab: LabView, goal: readonly string[]): ExitCode {
  const code = labExitCode(lab, goal);
  if (ctx.json) ctx.out(json(lab));
  else ctx.out(`${labLine(lab)}\n${lab.members.length > 0 ? membersTable(lab.members) : ''}`);
  const why = labExplanation(lab, code);
  if (why) ctx.err(`${why}\n`);
  return code;
}

/**
 * Follows a lab from `first` (a command's answer, or a first read) until it rests; the exit code is 0 when it rests
 * in one of `goal` (see labExitCode).
 */
export async function followLab(ctx: CommandContext, first: LabView, goal: readonly string[]): Promise<ExitCode> {
  const intervalMs = seconds(ctx.values, 'interval', 1) * 1000;
  const timeoutMs = seconds(ctx.values, 'timeout', 0) * 1000;
  const started = Date.now();
  const progress = new Progress(ctx, redraws(ctx));
  let lab = first;
  let fresh = true;
  for (;;) {
    if (fresh) progress.show(lab);
    if (lab.ended || RESTING_LAB_STATUSES.has(lab.status)) {
      progress.clear();
      return reportLab(ctx, lab, goal);
    }
    const still = ` (still ${words(lab.status)})`;
    if (ctx.signal?.aborted) throw new CliError(`stopped waiting for lab ${lab.name}${still}`, EXIT.error);
    if (timeoutMs > 0 && Date.now() - started >= timeoutMs) {
      throw new CliError(`timed out waiting for lab ${lab.name}${still}`, EXIT.error);
    }
    await ctx.sleep(fresh ? intervalMs : Math.max(intervalMs, 1000));
    const next = await poll(ctx, lab);
    fresh = next !== undefined;
    if (next) lab = next;
  }
}
