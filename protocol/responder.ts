// The core's side of the wire contract. Every call is checked in this order, before any handler runs:
// the envelope, the credential (resolved to a principal by the core's own token store), the role the subject
// needs, then the payload. A refused call is reported (the core audits it) and answered with a typed error.
import { z } from 'zod';
import { ROLE_RANK } from '../machines/types';
import type { Bus, Unsubscribe } from './bus';
import type { Envelope } from './client';
import { CredentialError, describeIssues, ProtocolPayloadError, RoleRefusedError, UnknownQueryError } from './errors';
import { parseSubject } from './parse-subject';
import type { QueryMap, QueryName, QueryReplyInput } from './queries';
import { querySchemas } from './queries';
import type { CommandPayload, CommandReply, Principal, SubmitPayload, SubmitReply } from './schemas';
import { CommandPayloadSchema, SubmitPayloadSchema } from './schemas';
import type { RequestCommand } from './subject-tokens';
import { subjects } from './subjects';

type MaybePromise<T> = T | Promise<T>;

export type QueryHandlers = {
  [W in QueryName]: (payload: QueryMap[W]['payload'], principal: Principal) => MaybePromise<QueryReplyInput<W>>;
};

export interface CoreHandlers {
  submit(payload: SubmitPayload, principal: Principal): MaybePromise<SubmitReply>;
  command(
    id: string,
    command: RequestCommand,
    payload: CommandPayload,
    principal: Principal,
  ): MaybePromise<CommandReply>;
  /** A query without a handler is answered with an UnknownQueryError. */
  queries: Partial<QueryHandlers>;
}

/** A call the responder refused before any handler ran. */
export interface Refusal {
  subject: string;
  reason: string;
  /** Set when the credential was valid but its role too low. */
  principal?: Principal | undefined;
}

export interface ServeCoreOptions {
  /** Queue group, so several core processes can share the work. */
  queue?: string;
  /** The principal a credential belongs to, or undefined for an unknown or revoked one. */
  authenticate(credential: string): Principal | undefined;
  /** Told of every refused call (the core audits them). */
  refused?(refusal: Refusal): void;
}

/** Longest credential looked at. */
export const MAX_CREDENTIAL_LENGTH = 512;

const EnvelopeSchema = z.strictObject({
  credential: z.string().max(MAX_CREDENTIAL_LENGTH).optional(),
  payload: z.unknown().optional(),
});

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
 * Answers the protocol subjects on `bus` with `handlers` (see the order above). An invalid call is answered
 * with a CredentialError, RoleRefusedError or ProtocolPayloadError, which the caller receives as a
 * BusRemoteError naming it. Returns the cleanup.
 */
export function serveCoreProtocol(bus: Bus, handlers: CoreHandlers, opts: ServeCoreOptions): Unsubscribe {
  const replyOpts = opts.queue ? { queue: opts.queue } : {};

  /** The caller's principal and the payload, or a thrown refusal. */
  const admit = (message: unknown, subject: string, role: Principal['role'] | 'any'): [Principal, unknown] => {
    const refuse = (error: Error, principal?: Principal): never => {
      opts.refused?.({ subject, reason: error.message, principal });
      throw error;
    };
    const envelope = EnvelopeSchema.safeParse(message);
    if (!envelope.success) {
      refuse(new CredentialError(`refused on ${subject}: not an envelope with a credential`));
    }
    const { credential, payload } = envelope.data as Envelope;
    if (!credential) return refuse(new CredentialError(`refused on ${subject}: the call carries no credential`));
    const principal = opts.authenticate(credential);
    if (!principal) return refuse(new CredentialError(`refused on ${subject}: the credential is unknown or revoked`));
    if (role !== 'any' && ROLE_RANK[principal.role] < ROLE_RANK[role]) {
      refuse(
        new RoleRefusedError(`refused on ${subject}: needs the ${role} role; the caller is ${principal.role}`),
        principal,
      );
    }
    return [principal, payload];
  };

  const offs = [
    bus.reply(
      subjects.reqSubmit,
      (message, subject) => {
        const [principal, payload] = admit(message, subject, 'any');
        return handlers.submit(parsePayload(SubmitPayloadSchema, payload, subject), principal);
      },
      replyOpts,
    ),
    bus.reply(
      subjects.reqCommandsFilter,
      (message, subject) => {
        const parsed = parseSubject(subject);
        if (parsed.kind !== 'req.command') throw new UnknownQueryError(`not a request command: ${subject}`, subject);
        const [principal, payload] = admit(message, subject, 'any');
        return handlers.command(
          parsed.id,
          parsed.command,
          parsePayload(CommandPayloadSchema, payload, subject),
          principal,
        );
      },
      replyOpts,
    ),
    bus.reply(
      subjects.queriesFilter,
      (message, subject) => {
        const parsed = parseSubject(subject);
        const what = parsed.kind === 'query' ? parsed.what : '';
        if (!Object.hasOwn(querySchemas, what)) throw new UnknownQueryError(`unknown query '${what}'`, subject);
        const name = what as QueryName;
        const [principal, payload] = admit(message, subject, querySchemas[name].role);
        const handler = handlers.queries[name] as ((p: unknown, who: Principal) => unknown) | undefined;
        if (!handler) throw new UnknownQueryError(`the core does not answer the query '${name}'`, subject);
        return handler(parsePayload(querySchemas[name].payload, payload, subject), principal);
      },
      replyOpts,
    ),
  ];
  return () => {
    for (const off of offs) off();
  };
}
