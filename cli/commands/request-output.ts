// How requests are shown, and --wait: poll GET /v1/requests/:id until the request ends.
import type { DecidedBy, RequestView } from '../../protocol';
import { decisionShown, TERMINAL_REQUEST_STATUSES } from '../../protocol';
import { CliError } from '../errors';
import type { ExitCode } from '../exit-codes';
import { EXIT } from '../exit-codes';
import { json, keyValues, table, time } from '../format';
import type { DecisionAnswer, DryRunAnswer, RequestAbout } from './bulk-output';
import { dryRunLine, membersText, targetText } from './bulk-output';
import type { CommandContext } from './types';

export interface SubmitAnswer extends DecisionAnswer {
  id: string;
  status: string;
}

const ENDED: ReadonlySet<string> = TERMINAL_REQUEST_STATUSES;

/** `awaiting_approval` → `awaiting approval`. */
const words = (status: string): string => status.replaceAll('_', ' ');

/** The exit code of a request in `status`. */
export function exitCodeOfStatus(status: string): ExitCode {
  switch (status) {
    case 'denied':
      return EXIT.denied;
    case 'failed':
      return EXIT.failed;
    case 'cancelled':
    case 'expired':
      return EXIT.cancelled;
    case 'awaiting_approval':
      return EXIT.awaitingApproval;
    default:
      return EXIT.ok;
  }
}

export { targetText };

export function checksTable(checks: DecisionAnswer['checks']): string {
  return table(
    ['check', 'outcome', 'reason'],
    checks.map((c) => [c.check, c.outcome, c.reason]),
  );
}

/** Who took a decision: `the gate`, or `bob (token 3f2a…) at 2026-01-01T10:00:00Z`. */
export function decidedByText(d: DecidedBy | undefined): string | undefined {
  if (!d) return undefined;
  if (d.kind === 'gate') return 'the gate';
  const who = d.name ? `${d.name} (token ${d.id})` : (d.id ?? 'someone');
  return `${who} at ${time(d.at)}`;
}

export function renderRequest(r: RequestView): string {
  const params = Object.keys(r.params).length > 0 ? JSON.stringify(r.params) : undefined;
  // A person who cancelled (a denial is their decision, shown as such): `cancelled: by alice: wrong VM`.
  const closed = r.decidedBy?.kind === 'person' ? undefined : closedByText(r);
  return [
    keyValues([
      ['id', r.id],
      ['action', r.action],
      ['target', targetText(r.target)],
      ['params', params],
      ['force', r.force],
      ['parent', r.parent],
      [
        'requester',
        r.requester.name
          ? `${r.requester.name} (token ${r.requester.id}, ${r.requester.role})`
          : `${r.requester.id} (${r.requester.role})`,
      ],
      ['origin', r.origin],
      ['status', r.status],
      ['decision', decisionShown(r)],
      ['decided by', decidedByText(r.decidedBy)],
      ['decision note', r.decidedBy?.reason],
      ...(closed ? [[r.status, closed] as [string, string]] : []),
      ['reasons', r.reasons.join('; ')],
      ['error', r.error],
      ['tasks', r.tasks.map((t) => `${t.upid} (${t.node})`).join(', ')],
      ['members', progressText(r.progress)],
      ['submitted', time(r.submittedAt)],
      ['updated', time(r.updatedAt)],
    ]),
    r.checks.length > 0 ? `\n${checksTable(r.checks)}` : '',
    r.members ? `\n${membersText(r.target.cluster, r.members)}` : '',
    r.history.length > 0
      ? `\n${table(
          ['at', 'status', 'by', 'note'],
          r.history.map((h) => [time(h.at), h.status, h.byName ?? h.by, h.note]),
        )}`
      : '',
  ].join('');
}

/** Who ended a request that a person denied or cancelled, and why: `by bob: not during the sale`. */
function closedByText(r: RequestView): string | undefined {
  const last = r.history.at(-1);
  if (!last || last.status !== r.status || last.by === undefined) return undefined;
  return `by ${last.byName ?? last.by}${last.note ? `: ${last.note}` : ''}`;
}

/** Reason line for stderr when a request did not (yet) succeed, from the request's view. */
function explainRequest(r: RequestView): string | undefined {
  if (r.status === 'denied' || r.status === 'cancelled') {
    const closed = closedByText(r);
    if (closed) return `${r.status} ${closed}`;
  }
  return explain(r.status, r.reasons, r.error);
}

/** Reason line for stderr when a request did not (yet) succeed. */
function explain(status: string, reasons: string[], error?: string): string | undefined {
  const why = error ?? (reasons.length > 0 ? reasons.join('; ') : undefined);
  switch (status) {
    case 'denied':
      return `denied: ${why ?? 'no reason given'}`;
    case 'awaiting_approval':
      return `awaiting approval: ${why ?? 'someone else must approve'}`;
    case 'failed':
      return `failed: ${why ?? 'no reason given'}`;
    case 'cancelled':
    case 'expired':
      return `${status}${why ? `: ${why}` : ''}`;
    default:
      return undefined;
  }
}

/**
 * Prints a submission's answer (a bulk request's members too); with --wait follows it to its end. A dry run prints
 * the decision, its checks and the expansion, and says nothing was done. Returns the exit code of the decision.
 */
export async function reportSubmission(
  ctx: CommandContext,
  answer: SubmitAnswer | DryRunAnswer,
  about: RequestAbout,
): Promise<ExitCode> {
  if ('dryRun' in answer && answer.dryRun) {
    if (ctx.json) ctx.out(json(answer));
    else {
      ctx.out(dryRunLine(answer, about));
      if (answer.checks.length > 0) ctx.out(checksTable(answer.checks));
      if (answer.members) ctx.out(membersText(about.target.cluster, answer.members));
      ctx.out('nothing was done (dry run)\n');
    }
    return exitCodeOfStatus(answer.decision);
  }
  if (!('id' in answer)) throw new CliError('the gateway answered a submission without a request id', EXIT.error);
  if (ctx.values['dry-run']) ctx.err('this gateway or core does not do dry runs: the request was submitted\n');
  if (ctx.values.wait && !ENDED.has(answer.status)) {
    if (!ctx.json) ctx.err(`request ${answer.id}: ${words(answer.decision)}\n`);
    return waitForEnd(ctx, answer.id, answer.status);
  }
  if (ctx.json) ctx.out(json(answer));
  else {
    // The status only when it says more than the decision: `approved (queued)`, but `denied`, not `denied (denied)`.
    const status = answer.status === answer.decision ? '' : ` (${words(answer.status)})`;
    // Nothing to do is a success: why is part of the answer (`nothing to do: VM lab/103 is already stopped`).
    const why =
      answer.decision === 'nothing_to_do' && answer.reasons.length > 0 ? `: ${answer.reasons.join('; ')}` : '';
    ctx.out(`request ${answer.id}: ${words(answer.decision)}${status}${why}\n`);
    if (answer.checks.length > 0) ctx.out(checksTable(answer.checks));
    if (answer.members) ctx.out(membersText(about.target.cluster, answer.members));
  }
  const decisionStatus = answer.decision === 'approved' ? answer.status : answer.decision;
  const why = explain(decisionStatus, answer.reasons);
  if (why) ctx.err(`${why}\n`);
  return exitCodeOfStatus(decisionStatus);
}

/** One poll; undefined while the gateway, NATS or the core is briefly unavailable (the request is not lost). */
async function poll(ctx: CommandContext, id: string): Promise<RequestView | undefined> {
  try {
    return await ctx.client.get<RequestView>(`/v1/requests/${encodeURIComponent(id)}`);
  } catch (err) {
    if (!(err instanceof CliError) || err.exitCode !== EXIT.unavailable || ctx.signal?.aborted) throw err;
    ctx.err(`request ${id}: ${err.message}; still waiting\n`);
    return undefined;
  }
}

/** A bulk request's progress: `3 of 6 completed, 1 failed, 2 active`. */
function progressText(p: RequestView['progress']): string | undefined {
  if (!p) return undefined;
  return `${p.completed} of ${p.total} completed, ${p.failed} failed, ${p.active} active`;
}

/** Polls the request until it ends; progress on stderr, the final request on stdout. */
export async function waitForEnd(ctx: CommandContext, id: string, lastStatus?: string): Promise<ExitCode> {
  const intervalMs = Number(ctx.values.interval ?? 1) * 1000;
  const timeoutMs = Number(ctx.values.timeout ?? 0) * 1000;
  const started = Date.now();
  let last = lastStatus;
  let lastTasks = 0;
  let lastProgress: string | undefined;
  for (;;) {
    const r = await poll(ctx, id);
    if (r) {
      if (r.status !== last) {
        ctx.err(`request ${id}: ${words(r.status)}\n`);
        last = r.status;
      }
      const progress = progressText(r.progress);
      if (progress && progress !== lastProgress) ctx.err(`request ${id}: members ${progress}\n`);
      lastProgress = progress;
      for (const task of r.tasks.slice(lastTasks)) ctx.err(`request ${id}: task ${task.upid} on ${task.node}\n`);
      lastTasks = r.tasks.length;
      if (ENDED.has(r.status)) {
        ctx.out(ctx.json ? json(r) : renderRequest(r));
        const why = explainRequest(r);
        if (why) ctx.err(`${why}\n`);
        return exitCodeOfStatus(r.status);
      }
    }
    const still = last ? ` (still ${words(last)})` : '';
    if (ctx.signal?.aborted) throw new CliError(`stopped waiting for request ${id}${still}`, EXIT.error);
    if (timeoutMs > 0 && Date.now() - started >= timeoutMs) {
      throw new CliError(`timed out waiting for request ${id}${still}`, EXIT.error);
    }
    await ctx.sleep(r ? intervalMs : Math.max(intervalMs, 1000));
  }
}
