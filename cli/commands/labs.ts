// lab plan|apply|status|list (and, from lab-actions.ts, approve|deny|destroy|snapshot|revert): multi-guest labs
// from lab files. `lab plan FILE` is like `terraform plan`: what applying the file would create, change or remove
// on its cluster, and nothing is done (a file with problems prints each one with its path and line and exits 2).
// `lab apply FILE` applies it as the caller: the answer is the gate's decision (exit 0 deploying, 3 denied, 5
// awaiting approval); --wait follows the deploy member by member until the lab is ready (0) or failed (4).
import { readFile } from 'node:fs/promises';
import type { LabListReply, LabPlanReply, LabView } from '../../protocol';
import { MAX_LAB_FILE_LENGTH } from '../../protocol';
import { UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import { json } from '../format';
import { int } from './args';
import { clusterOption, labActCommands, labName } from './lab-actions';
import { labExitCode, labExplanation, labLine, labsTable, renderLab } from './lab-output';
import { followLab, labPath, WAIT_DETAILS, waitOptions } from './lab-watch';
import { checksTable } from './request-output';
import type { Command, CommandContext } from './types';

const issueText = (i: LabPlanReply['issues'][number]): string =>
  `${i.path || '(file)'}${i.line !== undefined ? ` (line ${i.line})` : ''}: ${i.message}`;

const FILE_DETAILS =
  'The file is YAML, or JSON when its name ends in .json (its JSON Schema: protocol/lab-file.schema.json).';

/** The lab file named on the command line, as text. */
async function readLabFile(ctx: CommandContext, path: string): Promise<string> {
  let text: string;
  try {
    text = await (ctx.io.readFile ?? ((p: string) => readFile(p, 'utf8')))(path);
  } catch (error) {
    throw new UsageError(`cannot read the lab file ${path}: ${(error as Error).message}`);
  }
  if (text.trim() === '') throw new UsageError(`${path}: the file is empty`);
  if (text.length > MAX_LAB_FILE_LENGTH) {
    throw new UsageError(`${path}: the lab file is ${text.length} characters long, more than ${MAX_LAB_FILE_LENGTH}`);
  }
  return text;
}

export const labPlanCommand: Command = {
  name: 'lab plan',
  usage: '<file>',
  summary: 'What applying a lab file would do (+ create, ~ change, ± replace, - remove); nothing is done',
  args: 1,
  details: `${FILE_DETAILS}
It is checked against its cluster as Overseer sees it now: templates, networks and addresses, capacity per node.
Each problem is printed with its path and line, and the exit code is then 2.`,
  async run(ctx) {
    const path = ctx.positionals[0] as string;
    const file = await readLabFile(ctx, path);
    const reply = await ctx.client.post<LabPlanReply>('/v1/labs/plan', { file, fileName: path });
    if (ctx.json) ctx.out(json(reply));
    else if (reply.ok) ctx.out(reply.lines.join('\n'));
    for (const w of reply.warnings) ctx.err(`warning: ${issueText(w)}\n`);
    if (reply.ok) return EXIT.ok;
    for (const i of reply.issues) ctx.err(`${path}: ${issueText(i)}\n`);
    return EXIT.usage;
  },
};

export const labApplyCommand: Command = {
  name: 'lab apply',
  usage: '<file> [--wait]',
  summary: 'Apply a lab file: a new lab is gated as one unit and deployed; a live one gets the difference',
  args: 1,
  options: waitOptions,
  details: `${FILE_DETAILS}
The answer is the gate's decision: exit 0 when the deploy began, 3 when denied, 5 when it awaits a second
person's approval (overseer lab approve <name>). A file with problems is refused with the first one (exit 2;
'overseer lab plan' lists them all).

${WAIT_DETAILS} An apply ends as wanted when the lab is ready.`,
  async run(ctx) {
    const path = ctx.positionals[0] as string;
    const file = await readLabFile(ctx, path);
    const lab = await ctx.client.post<LabView>('/v1/labs', { file, fileName: path });
    if (ctx.values.wait) {
      if (!ctx.json && lab.plan.length > 0) ctx.err(`${lab.plan.join('\n')}\n`);
      return followLab(ctx, lab, ['ready']);
    }
    if (ctx.json) ctx.out(json(lab));
    else {
      ctx.out(`${labLine(lab)}${lab.decision !== undefined ? ` (${lab.decision.replaceAll('_', ' ')})` : ''}\n`);
      if (lab.checks.length > 0) ctx.out(checksTable(lab.checks));
      if (lab.plan.length > 0) ctx.out(`${lab.plan.join('\n')}\n`);
    }
    // Deploying is what an apply without --wait asks for; a lab that rests already says how it ended.
    const resting = ['awaiting_approval', 'denied', 'cancelled', 'expired', 'failed', 'rolled_back'];
    const code = resting.includes(lab.status) ? labExitCode(lab, ['ready']) : EXIT.ok;
    const why = labExplanation(lab, code);
    if (why) ctx.err(`${why}\n`);
    else if (!ctx.json && lab.status !== 'ready') ctx.err(`follow it: overseer lab status ${lab.name} --wait\n`);
    return code;
  },
};

export const labStatusCommand: Command = {
  name: 'lab status',
  usage: '<name> [--cluster c] [--wait]',
  summary: 'Show one lab: status, decision, checks, members (VMID, node, phase), failure, snapshots, expiry',
  args: 1,
  options: { cluster: { type: 'string' }, ...waitOptions },
  details: `--cluster names the lab's cluster when labs of that name run on two.

${WAIT_DETAILS} A lab that rests ready or destroyed ends as wanted.`,
  async run(ctx) {
    const lab = await ctx.client.get<LabView>(labPath(labName(ctx.positionals[0]), clusterOption(ctx)));
    if (ctx.values.wait) return followLab(ctx, lab, ['ready', 'destroyed']);
    ctx.out(ctx.json ? json(lab) : renderLab(lab));
    return EXIT.ok;
  },
};

export const labListCommand: Command = {
  name: 'lab list',
  usage: '[--cluster c] [--all] [--limit n] [--offset n]',
  summary: 'List labs, newest first: the live ones, or all with --all',
  args: 0,
  options: {
    cluster: { type: 'string' },
    all: { type: 'boolean' },
    limit: { type: 'string' },
    offset: { type: 'string' },
  },
  async run(ctx) {
    const offset = int(ctx.values, 'offset', 0) ?? 0;
    const page = await ctx.client.get<LabListReply>('/v1/labs', {
      cluster: clusterOption(ctx),
      live: ctx.values.all ? 'false' : undefined,
      limit: int(ctx.values, 'limit', 1),
      offset: offset > 0 ? offset : undefined,
    });
    if (ctx.json) {
      ctx.out(json(page));
      return EXIT.ok;
    }
    ctx.out(labsTable(page));
    const shown = offset + page.items.length;
    if (page.items.length < page.total) {
      const more = shown < page.total ? ` (more: --offset ${shown})` : '';
      ctx.err(`(${page.items.length} of ${page.total} labs shown${more})\n`);
    }
    return EXIT.ok;
  },
};

/** Every lab command, in the order help lists them. */
export const labCommands: Command[] = [
  labPlanCommand,
  labApplyCommand,
  labStatusCommand,
  labListCommand,
  ...labActCommands,
];
