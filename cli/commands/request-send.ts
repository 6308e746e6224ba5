// Submitting a request from a command: the options every request command shares (--dry-run, --wait and its
// timing), one idempotency key per invocation, and the report of the answer.
import { randomUUID } from 'node:crypto';
import type { Action } from '../../protocol';
import { UsageError } from '../errors';
import type { ExitCode } from '../exit-codes';
import { seconds } from './args';
import type { DryRunAnswer, RequestAbout } from './bulk-output';
import type { SubmitAnswer } from './request-output';
import { reportSubmission } from './request-output';
import type { CommandContext } from './types';

/** --dry-run, and --wait with its polling interval and timeout. */
export const requestOptions = {
  'dry-run': { type: 'boolean' },
  wait: { type: 'boolean' },
  interval: { type: 'string' },
  timeout: { type: 'string' },
} as const;

/** What help says about them, after a command's own options. */
export const REQUEST_DETAILS = `--dry-run asks the gate only: it prints the decision, each check and (for a selector or a drain) every
member; nothing is recorded or run, and the exit code is the decision's. --wait follows the request to its end.`;

/** Where a guest is named, a selector may stand instead (each member runs as its own request). */
export const SELECTOR_DETAILS = `A guest is <cluster>/<vmid> (a VM or a container), or a selector <cluster>/@<selector>: @tag:<tag>,
@pool:<pool>, @node:<node> or @all, with exclusions -<vmid>, comma-separated (lab/@tag:web,-105). The core
expands a selector when it decides; the answer lists the members, and each runs as its own request.`;

export interface RequestBody extends RequestAbout {
  action: Action;
  params?: Record<string, unknown>;
  force?: boolean;
}

/** Sends the request (or, with --dry-run, asks for the decision only). */
export async function sendRequest(ctx: CommandContext, body: RequestBody): Promise<SubmitAnswer | DryRunAnswer> {
  seconds(ctx.values, 'interval', 1);
  seconds(ctx.values, 'timeout', 0);
  if (ctx.values['dry-run']) {
    if (ctx.values.wait) throw new UsageError('--wait has nothing to follow with --dry-run (nothing is recorded)');
    return ctx.client.json('POST', '/v1/requests', { query: { dryRun: 'true' }, body });
  }
  // One key per invocation: if the connection drops after the gateway answered, a retry cannot double-submit.
  return ctx.client.post('/v1/requests', body, { 'Idempotency-Key': `cli-${randomUUID()}` });
}

/** Sends the request and reports the answer; the exit code is the decision's (or, with --wait, the end's). */
export async function submitRequest(ctx: CommandContext, body: RequestBody): Promise<ExitCode> {
  return reportSubmission(ctx, await sendRequest(ctx, body), body);
}
