// POST /v1/requests (submit, or decide only with ?dryRun=true), GET /v1/requests (list), GET /v1/requests/:id, and the approve, deny and
// cancel commands. The requester is always the token's owner.
import { querySchemas, REQUEST_COMMANDS, RequestViewSchema } from '../../protocol';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from '../errors';
import { IdParamsSchema } from '../http-schemas';
import type { RouteTable } from '../route-table';
import { parseInput } from '../validation';
import type { RouteContext } from './context';
import {
  CommandAnswerSchema,
  CommandBodySchema,
  DryRunAnswerSchema,
  IDEMPOTENCY_HEADER,
  IdempotencyHeaderSchema,
  RequestListQuerySchema,
  SubmitAnswerSchema,
  SubmitBodySchema,
  SubmitQuerySchema,
} from './request-schemas';

export function registerRequestRoutes(table: RouteTable, _ctx: RouteContext): void {
  table.add(
    {
      operationId: 'submitRequest',
      method: 'post',
      path: '/v1/requests',
      role: 'operator',
      tag: 'requests',
      summary: 'Submit a request; answered at once with the gate’s decision',
      description:
        'The decision is approved, denied (with the reasons), awaiting_approval, or nothing_to_do (the guest is ' +
        'already in the state the action leads to, e.g. a stop of a stopped VM: the request ends at once with ' +
        'status nothing_to_do and no platform call; the reason says why). The per-action role ' +
        '(destroy needs admin) is the gate’s: a too-low role is a denial, not a 403. With an ' +
        'Idempotency-Key, a retried submission returns the first answer.\n\n' +
        'Guest actions name one guest (`vmid`) or a selector (`selector`: `@tag:web`, `@pool:lab1`, `@node:pve2`, ' +
        '`@all`, exclusions `-105`, comma-separated): the core expands it when it decides, the mass-operation brake ' +
        'and the production rule see every member, the answer lists them (`members`) and each runs as its own ' +
        'request. `drain` and `undrain` name a node (`target.node`): a drain moves every guest off it (one gated ' +
        'unit, one migrate per guest) and keeps it in maintenance until `undrain`.\n\n' +
        'A dry run (`?dryRun=true`, or `"dryRun": true` in the body) answers 200 with the decision, its checks and ' +
        'the expansion; nothing is recorded or run.',
      query: SubmitQuerySchema,
      body: SubmitBodySchema,
      headers: [{ name: IDEMPOTENCY_HEADER, description: 'Makes a retried submission return the first answer' }],
      success: { status: 201, description: 'The decision (a request was recorded)', schema: SubmitAnswerSchema },
      otherSuccess: [{ status: 200, description: 'A dry run: the decision, nothing done', schema: DryRunAnswerSchema }],
      coreAuthenticates: true,
    },
    async ({ c, query, body, core }) => {
      const rawKey = c.req.header(IDEMPOTENCY_HEADER);
      const idempotencyKey =
        rawKey === undefined
          ? undefined
          : parseInput(IdempotencyHeaderSchema, { [IDEMPOTENCY_HEADER]: rawKey }, 'header')[IDEMPOTENCY_HEADER];
      if (query.dryRun !== undefined && body.dryRun !== undefined && query.dryRun !== body.dryRun) {
        throw new BadRequestError('dryRun: the query string and the body disagree', 'dryRun', 'query');
      }
      const dryRun = query.dryRun ?? body.dryRun ?? false;
      const reply = await core.submit({
        action: body.action,
        target: body.target,
        params: body.params ?? {},
        force: body.force ?? false,
        ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
        ...(dryRun ? { dryRun: true } : {}),
      });
      const members = reply.members !== undefined ? { members: reply.members } : {};
      const decided = { decision: reply.decision, reasons: reply.reasons, checks: reply.checks };
      // Only what the core did counts: a dry run is answered as one when the core says nothing was recorded.
      if (reply.dryRun) return c.json({ dryRun: true, ...decided, ...members }, 200);
      c.header('Location', `/v1/requests/${encodeURIComponent(reply.requestId)}`);
      if (reply.replayed) c.header('Idempotent-Replayed', 'true');
      return c.json({ id: reply.requestId, ...decided, status: reply.status, ...members }, 201);
    },
  );

  table.add(
    {
      operationId: 'listRequests',
      method: 'get',
      path: '/v1/requests',
      role: 'observer',
      tag: 'requests',
      summary: 'Requests, newest first, filtered by status, requester, id prefix and guest',
      description: 'A page of requests (limit, offset) and the total matching.',
      query: RequestListQuerySchema,
      success: { status: 200, description: 'The requests', schema: querySchemas.requests.reply },
    },
    async ({ c, query, core }) => c.json(await core.query('requests', query)),
  );

  table.add(
    {
      operationId: 'getRequest',
      method: 'get',
      path: '/v1/requests/:id',
      role: 'observer',
      tag: 'requests',
      summary: 'One request: decision, checks, status history, platform task ids',
      description:
        'decision is the final one: the gate’s, or that of the person who approved or denied the request ' +
        '(decidedBy, with the reason they gave). Every reason given with approve, deny or cancel is the note of ' +
        'its status history entry.',
      params: IdParamsSchema,
      success: { status: 200, description: 'The request', schema: RequestViewSchema },
      errors: [404],
    },
    async ({ c, params, core }) => {
      const request = await core.query('request', { id: params.id });
      if (!request) throw new NotFoundError(`no request ${params.id}`);
      return c.json(request);
    },
  );

  for (const command of REQUEST_COMMANDS) {
    table.add(
      {
        operationId: `${command}Request`,
        method: 'post',
        path: `/v1/requests/:id/${command}`,
        role: 'operator',
        tag: 'requests',
        summary: `${command[0]!.toUpperCase()}${command.slice(1)} a request`,
        description:
          (command === 'approve'
            ? 'The requester can never approve their own request (403); the core may ask for a higher role. '
            : '') +
          'The reason, if given, is kept as the note of the request’s status history entry and in the audit log.',
        params: IdParamsSchema,
        body: CommandBodySchema,
        bodyOptional: true,
        success: { status: 200, description: 'The request’s new status', schema: CommandAnswerSchema },
        errors: [404, 409],
        coreAuthenticates: true,
      },
      async ({ c, params, body, core }) => {
        const reply = await core.command(params.id, command, {
          ...(body.reason !== undefined ? { reason: body.reason } : {}),
        });
        if (reply.ok) return c.json({ id: params.id, status: reply.status });
        if (reply.code === 'not_found') throw new NotFoundError(reply.reason || `no request ${params.id}`);
        if (reply.code === 'refused') throw new ForbiddenError(reply.reason, 'refused');
        throw new ConflictError(reply.reason);
      },
    );
  }
}
