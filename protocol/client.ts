// The typed client of the core (gateway, CLI `serve`, tests). Every call travels in an envelope with the
// caller's credential; the core derives who acts from it and believes nothing else the payload says.
import type { z } from 'zod';
import type { Bus, BusRequestOptions } from './bus';
import { describeIssues, ProtocolReplyError } from './errors';
import type { QueryMap, QueryName } from './queries';
import { querySchemas } from './queries';
import type { CommandPayload, CommandReply, SubmitPayload, SubmitReply } from './schemas';
import { CommandReplySchema, SubmitReplySchema } from './schemas';
import type { RequestCommand } from './subject-tokens';
import { subjects } from './subjects';

/** What travels on a request or query subject: the caller's credential and the payload. */
export interface Envelope {
  /** The caller's API token, as presented to the gateway. */
  credential?: string | undefined;
  payload: unknown;
}

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
  /** The same client, with every call carrying `credential`. */
  withCredential(credential: string): CoreClient;
}

export interface CoreClientOptions {
  /** Default timeout of every call; the bus default otherwise. */
  timeoutMs?: number;
  credential?: string;
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
    const envelope: Envelope = { credential: opts.credential, payload };
    const reply = await bus.request<unknown>(subject, envelope, requestOpts);
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
    // Every option of CoreClientOptions written out (a new one goes here too), not `{ ...opts, credential }`: one per
    // request, and such a literal gets a hidden class of its own on Node 20 (bench/object-spread.ts).
    withCredential: (credential) => createCoreClient(bus, { timeoutMs: opts.timeoutMs, credential }),
  };
}
