// The request/reply contract between the gateway (and any other client) and the core, over NATS (DESIGN §6).
// One zod schema per payload and reply, so both sides validate: the core checks what it receives
// (serveCoreProtocol), clients check what comes back (createCoreClient). Subjects come only from `subjects`.
import { z } from 'zod';
import { ACTIONS, REQUEST_STATUSES, ROLES } from '../../machines/types';
import type { Bus, BusRequestOptions, Unsubscribe } from './bus';
import type { RequestCommand } from './subjects';
import { parseSubject, REQUEST_COMMANDS, subjects } from './subjects';

// The shared domain vocabulary, re-exported so that clients of the protocol need import nothing else.
export type { Action, Decision, RequestStatus, Role } from '../../machines/types';
export { ACTIONS, REQUEST_STATUSES, ROLE_RANK, ROLES, TERMINAL_REQUEST_STATUSES } from '../../machines/types';
export type { RequestCommand } from './subjects';
export { REQUEST_COMMANDS } from './subjects';

// --- building blocks ----------------------------------------------------------------------------

/** Longest free text (reasons, notes) accepted in a payload. */
export const MAX_REASON_LENGTH = 1000;
/** Longest id (principal, token, request, idempotency key) accepted in a payload. */
export const MAX_ID_LENGTH = 128;

export const RoleSchema = z.enum(ROLES);
export const ActionSchema = z.enum(ACTIONS);
export const RequestStatusSchema = z.enum(REQUEST_STATUSES);
export const DecisionSchema = z.enum(['approved', 'denied', 'awaiting_approval']);
export const CheckOutcomeSchema = z.enum(['pass', 'deny', 'approval', 'skipped']);
export const RequestCommandSchema = z.enum(REQUEST_COMMANDS);

const id = () => z.string().min(1).max(MAX_ID_LENGTH);

/** Who acts: the owner of the API token (never a body field). */
export const ActorRefSchema = z.strictObject({ id: id(), role: RoleSchema });

export const TargetSchema = z.strictObject({
  cluster: z.string().min(1).max(64),
  vmid: z.number().int().nonnegative().optional(),
});

export const CheckResultSchema = z.object({ check: z.string(), outcome: CheckOutcomeSchema, reason: z.string() });

const EmptySchema = z.strictObject({});
const paging = {
  limit: z.number().int().min(1).max(10_000).optional(),
  offset: z.number().int().min(0).optional(),
};

// --- submissions and commands -------------------------------------------------------------------

export const SubmitPayloadSchema = z.strictObject({
  action: ActionSchema,
  target: TargetSchema,
  params: z.record(z.string(), z.unknown()),
  force: z.boolean(),
  requester: ActorRefSchema,
  idempotencyKey: id().optional(),
});

export const SubmitReplySchema = z.object({
  requestId: z.string(),
  decision: DecisionSchema,
  reasons: z.array(z.string()),
  checks: z.array(CheckResultSchema),
  status: RequestStatusSchema,
  /** True when an idempotency key matched an earlier submission and this is its answer. */
  replayed: z.boolean(),
});

export const CommandPayloadSchema = z.strictObject({
  by: ActorRefSchema,
  reason: z.string().max(MAX_REASON_LENGTH).optional(),
});

export const CommandReplySchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), status: RequestStatusSchema }),
  z.object({ ok: z.literal(false), code: z.enum(['not_found', 'refused', 'conflict']), reason: z.string() }),
]);

// --- query replies ------------------------------------------------------------------------------

export const LoopViewSchema = z.object({
  state: z.string(),
  cycles: z.number(),
  failures: z.number(),
  lastError: z.string().optional(),
});

export const StatusReplySchema = z.object({
  state: z.string(),
  escalated: z.array(z.string()),
  loops: z.record(z.string(), LoopViewSchema),
  clusters: z.array(z.object({ cluster: z.string(), reachable: z.boolean(), quorate: z.boolean() })),
  startedAt: z.number(),
  now: z.number(),
});

export const SummaryReplySchema = z.object({
  vms: z.record(z.string(), z.number()),
  hosts: z.record(z.string(), z.number()),
  requests: z.record(z.string(), z.number()),
});

export const HealthReplySchema = z.object({
  ok: z.boolean(),
  checks: z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string() })),
});

/** VmInfo (machines/types) as the core knows it, plus its actor's state. */
export const VmViewSchema = z.object({
  cluster: z.string(),
  vmid: z.number(),
  name: z.string(),
  node: z.string(),
  status: z.enum(['running', 'stopped', 'paused', 'unknown']),
  lock: z.string().optional(),
  tags: z.array(z.string()),
  template: z.boolean(),
  haManaged: z.boolean(),
  cpus: z.number(),
  maxmem: z.number(),
  maxdisk: z.number(),
  mem: z.number(),
  cpu: z.number(),
  uptime: z.number(),
  state: z.string(),
  production: z.boolean(),
  activeRequest: z.object({ id: z.string(), action: ActionSchema }).optional(),
});

/** HostInfo (machines/types) plus its actor's state. */
export const HostViewSchema = z.object({
  cluster: z.string(),
  node: z.string(),
  status: z.enum(['online', 'offline', 'unknown']),
  cpu: z.number(),
  maxcpu: z.number(),
  mem: z.number(),
  maxmem: z.number(),
  disk: z.number(),
  maxdisk: z.number(),
  state: z.string(),
});

export const RequestViewSchema = z.object({
  id: z.string(),
  action: ActionSchema,
  target: z.object({ cluster: z.string(), vmid: z.number().optional() }),
  params: z.record(z.string(), z.unknown()),
  force: z.boolean(),
  requester: z.object({ id: z.string(), role: RoleSchema }),
  // Absent for requests made before origins were recorded: those were human.
  origin: z.enum(['human', 'overseer']).default('human'),
  status: RequestStatusSchema,
  decision: DecisionSchema.optional(),
  reasons: z.array(z.string()),
  checks: z.array(CheckResultSchema),
  history: z.array(
    z.object({ status: RequestStatusSchema, at: z.number(), by: z.string().optional(), note: z.string().optional() }),
  ),
  tasks: z.array(z.object({ upid: z.string(), node: z.string() })),
  error: z.string().optional(),
  submittedAt: z.number(),
  updatedAt: z.number(),
});

export const PrincipalSchema = z.object({ id: z.string(), role: RoleSchema, tokenId: z.string() });

export const TokenInfoSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: RoleSchema,
  createdAt: z.number(),
  createdBy: z.string(),
  revokedAt: z.number().optional(),
  lastUsedAt: z.number().optional(),
});

export const CreatedTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: RoleSchema,
  /** The plaintext token: shown once, stored only hashed. */
  token: z.string(),
});

// --- the query table ----------------------------------------------------------------------------

/** Every `overseer.query.<what>`: its payload and reply schemas. */
export const querySchemas = {
  status: { payload: EmptySchema, reply: StatusReplySchema },
  summary: { payload: EmptySchema, reply: SummaryReplySchema },
  health: { payload: EmptySchema, reply: HealthReplySchema },
  vms: {
    payload: z.strictObject({
      cluster: z.string().max(64).optional(),
      node: z.string().max(64).optional(),
      state: z.string().max(64).optional(),
      tag: z.string().max(64).optional(),
      ...paging,
    }),
    reply: z.object({ items: z.array(VmViewSchema), total: z.number() }),
  },
  vm: {
    payload: z.strictObject({ cluster: z.string().min(1).max(64), vmid: z.number().int().nonnegative() }),
    reply: VmViewSchema.nullable(),
  },
  hosts: {
    payload: z.strictObject({ cluster: z.string().max(64).optional() }),
    reply: z.object({ items: z.array(HostViewSchema) }),
  },
  requests: {
    payload: z.strictObject({
      status: RequestStatusSchema.optional(),
      requester: id().optional(),
      limit: paging.limit,
    }),
    reply: z.object({ items: z.array(RequestViewSchema) }),
  },
  request: { payload: z.strictObject({ id: id() }), reply: RequestViewSchema.nullable() },
  sync: { payload: EmptySchema, reply: z.object({ started: z.literal(true) }) },
  auth: {
    payload: z.strictObject({ token: z.string().min(1).max(512) }),
    reply: z.discriminatedUnion('ok', [
      z.object({ ok: z.literal(true), principal: PrincipalSchema }),
      z.object({ ok: z.literal(false) }),
    ]),
  },
  tokenCreate: {
    payload: z.strictObject({ name: z.string().min(1).max(64), role: RoleSchema, by: id() }),
    reply: CreatedTokenSchema,
  },
  tokenList: { payload: EmptySchema, reply: z.object({ items: z.array(TokenInfoSchema) }) },
  tokenRevoke: { payload: z.strictObject({ id: id(), by: id() }), reply: z.object({ ok: z.boolean() }) },
} as const;

export type QueryName = keyof typeof querySchemas;
export const QUERY_NAMES = Object.keys(querySchemas) as QueryName[];

// --- types --------------------------------------------------------------------------------------

export type SubmitPayload = z.infer<typeof SubmitPayloadSchema>;
export type SubmitReply = z.infer<typeof SubmitReplySchema>;
export type CommandPayload = z.infer<typeof CommandPayloadSchema>;
export type CommandReply = z.infer<typeof CommandReplySchema>;
export type CheckResultView = z.infer<typeof CheckResultSchema>;
export type StatusReply = z.infer<typeof StatusReplySchema>;
export type SummaryReply = z.infer<typeof SummaryReplySchema>;
export type HealthReply = z.infer<typeof HealthReplySchema>;
export type VmView = z.infer<typeof VmViewSchema>;
export type HostView = z.infer<typeof HostViewSchema>;
export type RequestView = z.infer<typeof RequestViewSchema>;
export type Principal = z.infer<typeof PrincipalSchema>;
export type TokenInfo = z.infer<typeof TokenInfoSchema>;
export type CreatedToken = z.infer<typeof CreatedTokenSchema>;

/** Each query's payload and reply. */
export type QueryMap = {
  [W in QueryName]: {
    payload: z.infer<(typeof querySchemas)[W]['payload']>;
    reply: z.infer<(typeof querySchemas)[W]['reply']>;
  };
};

// --- errors -------------------------------------------------------------------------------------

/** A payload the core received does not follow the protocol. Names the offending field. */
export class ProtocolPayloadError extends Error {
  override name = 'ProtocolPayloadError';
  constructor(
    message: string,
    readonly subject: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A reply a client received does not follow the protocol. */
export class ProtocolReplyError extends Error {
  override name = 'ProtocolReplyError';
  constructor(
    message: string,
    readonly subject: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The core was asked something it does not answer (an unknown query or an unwired handler). */
export class UnknownQueryError extends Error {
  override name = 'UnknownQueryError';
  constructor(
    message: string,
    readonly subject: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const keys = issue.code === 'unrecognized_keys' ? ` (${issue.keys.join(', ')})` : '';
      const where = issue.path.length > 0 ? issue.path.join('.') : '(root)';
      return `${where}: ${issue.message}${keys}`;
    })
    .join('; ');
}

// --- client -------------------------------------------------------------------------------------

export interface CoreCallOptions {
  /** Overrides the client's timeout for this call. */
  timeoutMs?: number;
}

/** Typed calls to the core. Throws BusUnavailableError, BusTimeoutError, BusRemoteError or ProtocolReplyError. */
export interface CoreClient {
  submit(payload: SubmitPayload, opts?: CoreCallOptions): Promise<SubmitReply>;
  command(id: string, command: RequestCommand, payload: CommandPayload, opts?: CoreCallOptions): Promise<CommandReply>;
  query<W extends QueryName>(
    what: W,
    payload: QueryMap[W]['payload'],
    opts?: CoreCallOptions,
  ): Promise<QueryMap[W]['reply']>;
}

export interface CoreClientOptions {
  /** Default timeout of every call; the bus default otherwise. */
  timeoutMs?: number;
}

export function createCoreClient(bus: Bus, opts: CoreClientOptions = {}): CoreClient {
  const call = async <S extends z.ZodType>(
    subject: string,
    payload: unknown,
    schema: S,
    callOpts?: CoreCallOptions,
  ): Promise<z.infer<S>> => {
    const timeoutMs = callOpts?.timeoutMs ?? opts.timeoutMs;
    const requestOpts: BusRequestOptions = timeoutMs === undefined ? {} : { timeoutMs };
    const reply = await bus.request<unknown>(subject, payload, requestOpts);
    const parsed = schema.safeParse(reply);
    if (!parsed.success) {
      throw new ProtocolReplyError(`invalid reply on ${subject}: ${describeIssues(parsed.error)}`, subject, {
        cause: parsed.error,
      });
    }
    return parsed.data;
  };
  return {
    submit: (payload, callOpts) => call(subjects.reqSubmit, payload, SubmitReplySchema, callOpts),
    command: (requestId, command, payload, callOpts) =>
      call(subjects.reqCommand(requestId, command), payload, CommandReplySchema, callOpts),
    query: <W extends QueryName>(what: W, payload: QueryMap[W]['payload'], callOpts?: CoreCallOptions) =>
      call(
        subjects.query(what),
        payload,
        querySchemas[what].reply as unknown as z.ZodType<QueryMap[W]['reply']>,
        callOpts,
      ),
  };
}

// --- responder (the core's side) ----------------------------------------------------------------

type MaybePromise<T> = T | Promise<T>;

/** What a query handler may answer (before defaults are applied on the client's side). */
export type QueryReplyInput<W extends QueryName> = z.input<(typeof querySchemas)[W]['reply']>;

export type QueryHandlers = {
  [W in QueryName]: (payload: QueryMap[W]['payload']) => MaybePromise<QueryReplyInput<W>>;
};

export interface CoreHandlers {
  submit(payload: SubmitPayload): MaybePromise<SubmitReply>;
  command(id: string, command: RequestCommand, payload: CommandPayload): MaybePromise<CommandReply>;
  /** A query without a handler is answered with an UnknownQueryError. */
  queries: Partial<QueryHandlers>;
}

export interface ServeCoreOptions {
  /** Queue group, so several core processes can share the work. */
  queue?: string;
}

function parsePayload<S extends z.ZodType>(schema: S, payload: unknown, subject: string): z.infer<S> {
  const parsed = schema.safeParse(payload ?? {});
  if (!parsed.success) {
    throw new ProtocolPayloadError(`invalid payload on ${subject}: ${describeIssues(parsed.error)}`, subject, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

/**
 * Answers the protocol subjects on `bus` with `handlers`, validating every payload first (an invalid one is
 * answered with a ProtocolPayloadError, which the caller receives as a BusRemoteError). Returns the cleanup.
 */
export function serveCoreProtocol(bus: Bus, handlers: CoreHandlers, opts: ServeCoreOptions = {}): Unsubscribe {
  const replyOpts = opts.queue ? { queue: opts.queue } : {};
  const offs = [
    bus.reply(
      subjects.reqSubmit,
      (payload, subject) => handlers.submit(parsePayload(SubmitPayloadSchema, payload, subject)),
      replyOpts,
    ),
    bus.reply(
      subjects.reqCommandsFilter,
      (payload, subject) => {
        const parsed = parseSubject(subject);
        if (parsed.kind !== 'req.command') throw new UnknownQueryError(`not a request command: ${subject}`, subject);
        return handlers.command(parsed.id, parsed.command, parsePayload(CommandPayloadSchema, payload, subject));
      },
      replyOpts,
    ),
    bus.reply(
      subjects.queriesFilter,
      (payload, subject) => {
        const parsed = parseSubject(subject);
        const what = parsed.kind === 'query' ? parsed.what : '';
        if (!Object.hasOwn(querySchemas, what)) throw new UnknownQueryError(`unknown query '${what}'`, subject);
        const name = what as QueryName;
        const handler = handlers.queries[name] as ((p: unknown) => unknown) | undefined;
        if (!handler) throw new UnknownQueryError(`the core does not answer the query '${name}'`, subject);
        return handler(parsePayload(querySchemas[name].payload, payload, subject));
      },
      replyOpts,
    ),
  ];
  return () => {
    for (const off of offs) off();
  };
}
