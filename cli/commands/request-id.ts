// Request ids may be abbreviated, as in git and docker: any prefix that names exactly one request. The gateway
// finds the candidates (GET /v1/requests?idPrefix=); a prefix of several is refused with the candidates listed.
import type { RequestView } from '../../protocol';
import { ApiError, CliError, UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import { table, time } from '../format';
import { id } from './args';
import { targetText } from './request-output';
import type { CommandContext } from './types';

/** Candidates listed when a prefix names several requests. */
const SHOWN = 10;

/** The full id of the request `given` names: the request with that id, else the one whose id starts with it. */
export async function resolveRequestId(ctx: CommandContext, given: string | undefined): Promise<string> {
  const prefix = id(given, 'request');
  const page = await ctx.client.get<{ items: RequestView[]; total: number }>('/v1/requests', {
    idPrefix: prefix,
    limit: SHOWN,
  });
  if (page.items.some((r) => r.id === prefix)) return prefix;
  if (page.total === 1 && page.items[0]) return page.items[0].id;
  if (page.total === 0) throw new CliError(`no request ${prefix} (no request id starts with it)`, EXIT.notFound);
  // Several start with it; the full id may still be one of them, beyond this page.
  if (page.total > page.items.length) {
    try {
      return (await ctx.client.get<RequestView>(`/v1/requests/${encodeURIComponent(prefix)}`)).id;
    } catch (err) {
      if (!(err instanceof ApiError && err.exitCode === EXIT.notFound)) throw err;
    }
  }
  const listed = table(
    ['id', 'action', 'target', 'status', 'submitted'],
    page.items.map((r) => [r.id, r.action, targetText(r.target), r.status, time(r.submittedAt)]),
  )
    .trimEnd()
    .split('\n')
    .map((line) => `  ${line}`);
  const more = page.total > page.items.length ? `\n  ... and ${page.total - page.items.length} more` : '';
  throw new UsageError(
    `request id '${prefix}' is ambiguous: ${page.total} requests start with it; give more of the id:\n${listed.join('\n')}${more}`,
  );
}
