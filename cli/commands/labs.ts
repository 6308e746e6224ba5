// lab plan FILE: what applying a lab file would create, change or remove on its cluster (checked against the
// cluster as Overseer sees it now), like `terraform plan`; nothing is done. A file with problems prints each one
// with its path and line and exits 2.
import { readFile } from 'node:fs/promises';
import type { LabPlanReply } from '../../protocol';
import { UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import { json } from '../format';
import type { Command } from './types';

const issueText = (i: LabPlanReply['issues'][number]): string =>
  `${i.path || '(file)'}${i.line !== undefined ? ` (line ${i.line})` : ''}: ${i.message}`;

export const labPlanCommand: Command = {
  name: 'lab plan',
  usage: '<file>',
  summary: 'What applying a lab file would do (+ create, ~ change, ± replace, - remove); nothing is done',
  args: 1,
  details: `The file is YAML, or JSON when its name ends in .json (its JSON Schema: protocol/lab-file.schema.json).
It is checked against its cluster as Overseer sees it now: templates, networks and addresses, capacity per node.
Each problem is printed with its path and line, and the exit code is then 2.`,
  async run(ctx) {
    const path = ctx.positionals[0] as string;
    let file: string;
    try {
      file = await (ctx.io.readFile ?? ((p: string) => readFile(p, 'utf8')))(path);
    } catch (error) {
      throw new UsageError(`cannot read the lab file ${path}: ${(error as Error).message}`);
    }
    const reply = await ctx.client.post<LabPlanReply>('/v1/labs/plan', { file, fileName: path });
    if (ctx.json) ctx.out(json(reply));
    else if (reply.ok) ctx.out(reply.lines.join('\n'));
    for (const w of reply.warnings) ctx.err(`warning: ${issueText(w)}\n`);
    if (reply.ok) return EXIT.ok;
    for (const i of reply.issues) ctx.err(`${path}: ${issueText(i)}\n`);
    return EXIT.usage;
  },
};
