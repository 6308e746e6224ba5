// deploy, destroy, start, stop, shutdown, reboot, suspend, resume, snapshot: submit a request and report the
// gate's decision (exit 0 approved, 3 denied, 5 awaiting approval); --wait follows it to its end (a deploy then
// prints the VMIDs it created).
import { randomUUID } from 'node:crypto';
import type { RequestView } from '../../protocol';
import type { ExitCode } from '../exit-codes';
import { EXIT } from '../exit-codes';
import { cluster, int, required, seconds, str, vmTarget } from './args';
import type { SubmitAnswer } from './request-output';
import { reportSubmission } from './request-output';
import type { Command, CommandContext } from './types';

const waitOptions = {
  wait: { type: 'boolean' },
  interval: { type: 'string' },
  timeout: { type: 'string' },
} as const;

/** `lab/114` → {cluster: 'lab', vmid: 114}: a request's target as the API has it, in and out. */
function vmTargetOf(value: string | undefined): { cluster: string; vmid: number } {
  const [cluster, vmid] = vmTarget(value).split('/');
  return { cluster: cluster!, vmid: Number(vmid) };
}

async function send(ctx: CommandContext, body: Record<string, unknown>): Promise<SubmitAnswer> {
  seconds(ctx.values, 'interval', 1);
  seconds(ctx.values, 'timeout', 0);
  // One key per invocation: if the connection drops after the gateway answered, a retry cannot double-submit.
  return ctx.client.post<SubmitAnswer>('/v1/requests', body, {
    'Idempotency-Key': `cli-${randomUUID()}`,
  });
}

async function submit(ctx: CommandContext, body: Record<string, unknown>) {
  return reportSubmission(ctx, await send(ctx, body));
}

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

export const deployCommand: Command = {
  name: 'deploy',
  usage: '<cluster> --template <vmid> --node <node> --name <name> [--count n] [--full] [--wait]',
  summary: 'Clone VMs from a template',
  args: 1,
  options: {
    template: { type: 'string' },
    node: { type: 'string' },
    name: { type: 'string' },
    count: { type: 'string' },
    full: { type: 'boolean' },
    force: { type: 'boolean' },
    ...waitOptions,
  },
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
    const body = {
      action: 'deploy',
      target: { cluster: cluster(ctx.positionals[0]) },
      params,
      force: !!ctx.values.force,
    };
    const answer = await send(ctx, body);
    const code = await reportSubmission(ctx, answer);
    await reportCreated(ctx, answer, code);
    return code;
  },
};

const vmAction = (name: string, summary: string): Command => ({
  name,
  usage: '<cluster>/<vmid> [--force] [--wait]',
  summary,
  args: 1,
  options: { force: { type: 'boolean' }, ...waitOptions },
  run: (ctx) => submit(ctx, { action: name, target: vmTargetOf(ctx.positionals[0]), force: !!ctx.values.force }),
});

export const vmActionCommands: Command[] = [
  vmAction('destroy', 'Destroy a VM (admin; production VMs need --force and a second approval)'),
  vmAction('start', 'Start a VM'),
  vmAction('stop', 'Stop a VM (hard)'),
  vmAction('shutdown', 'Shut a VM down (ACPI)'),
  vmAction('reboot', 'Reboot a VM'),
  vmAction('suspend', 'Suspend a VM'),
  vmAction('resume', 'Resume a suspended VM'),
];

export const snapshotCommand: Command = {
  name: 'snapshot',
  usage: '<cluster>/<vmid> --name <snapname> [--description text] [--wait]',
  summary: 'Snapshot a VM',
  args: 1,
  options: { name: { type: 'string' }, description: { type: 'string' }, force: { type: 'boolean' }, ...waitOptions },
  run(ctx) {
    const description = str(ctx.values, 'description');
    return submit(ctx, {
      action: 'snapshot',
      target: vmTargetOf(ctx.positionals[0]),
      params: { snapname: required(ctx.values, 'name'), ...(description !== undefined ? { description } : {}) },
      force: !!ctx.values.force,
    });
  },
};
