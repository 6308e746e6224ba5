// approve, deny, cancel: commands on a request. Exit 0 when accepted; 3 when refused (own request, wrong state).
import { EXIT } from '../exit-codes';
import { json } from '../format';
import { str } from './args';
import { resolveRequestId } from './request-id';
import { waitForEnd } from './request-output';
import type { Command } from './types';

const decide = (command: 'approve' | 'deny' | 'cancel', summary: string): Command => ({
  name: command,
  usage: command === 'approve' ? '<id> [--reason text] [--wait]' : '<id> [--reason text]',
  summary,
  args: 1,
  options: {
    reason: { type: 'string' },
    ...(command === 'approve'
      ? { wait: { type: 'boolean' }, interval: { type: 'string' }, timeout: { type: 'string' } }
      : {}),
  },
  async run(ctx) {
    const requestId = await resolveRequestId(ctx, ctx.positionals[0]);
    const reason = str(ctx.values, 'reason');
    const answer = await ctx.client.post<{ id: string; status: string }>(
      `/v1/requests/${requestId}/${command}`,
      reason !== undefined ? { reason } : {},
    );
    if (ctx.values.wait) {
      ctx.err(`request ${requestId}: ${answer.status}\n`);
      return waitForEnd(ctx, requestId, answer.status);
    }
    ctx.out(ctx.json ? json(answer) : `request ${answer.id}: ${answer.status}\n`);
    return EXIT.ok;
  },
});

export const decideCommands: Command[] = [
  decide('approve', 'Approve a request awaiting approval (not your own)'),
  decide('deny', 'Deny a request awaiting approval'),
  decide('cancel', 'Cancel a request that has not ended'),
];
