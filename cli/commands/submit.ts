// deploy, destroy, start, stop, shutdown, reboot, suspend, resume: submit a request and report the gate's decision
// (exit 0 approved, 3 denied, 5 awaiting approval); --wait follows it to its end (a deploy then prints the VMIDs it
// created); --dry-run asks for the decision only. A guest action takes a selector where a guest is named.
import type { RequestView } from '../../protocol';
import type { ExitCode } from '../exit-codes';
import { EXIT } from '../exit-codes';
import { cluster, guestTarget, int, required } from './args';
import type { DryRunAnswer } from './bulk-output';
import type { SubmitAnswer } from './request-output';
import { reportSubmission } from './request-output';
import type { RequestBody } from './request-send';
import { REQUEST_DETAILS, requestOptions, SELECTOR_DETAILS, sendRequest, submitRequest } from './request-send';
import type { Command, CommandContext } from './types';

/** After a deploy: the VMIDs it created (known once its clones ran), or how to learn them. */
async function reportCreated(ctx: CommandContext, answer: SubmitAnswer, code: ExitCode): Promise<void> {
  if (code !== EXIT.ok || ctx.json) return;
  if (!ctx.values.wait) {
    ctx.err(`the new VM's id is known once the request has run: overseer request ${answer.id} --wait\n`);
    return;
  }
  const done = await ctx.client.get<RequestView>(`/v1/requests/${encodeURIComponent(answer.id)}`);
  for (const task of done.tasks) {
    if (task.vmid !== undefined) ctx.out(`created ${done.target.cluster}/${task.vmid}\n`);
  }
}

const isDryRun = (answer: SubmitAnswer | DryRunAnswer): answer is DryRunAnswer =>
  'dryRun' in answer && answer.dryRun === true;

export const deployCommand: Command = {
  name: 'deploy',
  usage: '<cluster> --template <vmid> --node <node> --name <name> [--count n] [--full] [--dry-run] [--wait]',
  summary: 'Clone VMs from a template',
  args: 1,
  options: {
    template: { type: 'string' },
    node: { type: 'string' },
    name: { type: 'string' },
    count: { type: 'string' },
    full: { type: 'boolean' },
    force: { type: 'boolean' },
    ...requestOptions,
  },
  details: REQUEST_DETAILS,
  async run(ctx) {
    required(ctx.values, 'template');
    const count = int(ctx.values, 'count', 1);
    const params = {
      template: int(ctx.values, 'template', 0)!,
      node: required(ctx.values, 'node'),
      name: required(ctx.values, 'name'),
      ...(count !== undefined ? { count } : {}),
      ...(ctx.values.full ? { full: true } : {}),
    };
    const body: RequestBody = {
      action: 'deploy',
      target: { cluster: cluster(ctx.positionals[0]) },
      params,
      force: !!ctx.values.force,
    };
    const answer = await sendRequest(ctx, body);
    const code = await reportSubmission(ctx, answer, body);
    if (!isDryRun(answer)) await reportCreated(ctx, answer, code);
    return code;
  },
};

const vmAction = (name: RequestBody['action'], summary: string): Command => ({
  name,
  usage: '<cluster>/<vmid|@selector> [--force] [--dry-run] [--wait]',
  summary,
  args: 1,
  options: { force: { type: 'boolean' }, ...requestOptions },
  details: `${SELECTOR_DETAILS}\n\n${REQUEST_DETAILS}`,
  run: (ctx) =>
    submitRequest(ctx, { action: name, target: guestTarget(ctx.positionals[0]), force: !!ctx.values.force }),
});

export const vmActionCommands: Command[] = [
  vmAction('destroy', 'Destroy a guest (admin; production guests need --force and a second approval)'),
  vmAction('start', 'Start a guest'),
  vmAction('stop', 'Stop a guest (hard)'),
  vmAction('shutdown', 'Shut a guest down (ACPI; a container: its init)'),
  vmAction('reboot', 'Reboot a guest'),
  vmAction('suspend', 'Suspend a guest'),
  vmAction('resume', 'Resume a suspended guest'),
];
