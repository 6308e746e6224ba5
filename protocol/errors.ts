// Typed errors of the wire contract: bad subjects, bus failures any client sees, and protocol violations.
// Each has a `name` and keeps its `cause`.

/** A subject, subject token, filter or actor id that cannot be used. Names the offending part. */
export class InvalidSubjectError extends Error {
  override name = 'InvalidSubjectError';
  constructor(
    message: string,
    /** The offending value (a token, a whole subject or an actor id). */
    readonly value: string,
    /** What the value was meant to be: 'cluster', 'vmid', 'filter', 'subject', ... */
    readonly part: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Base of every message-bus failure. */
export class BusError extends Error {
  override name = 'BusError';
}

/** The bus cannot carry the message now: disconnected, closed, or nobody answers on the subject. */
export class BusUnavailableError extends BusError {
  override name = 'BusUnavailableError';
  constructor(
    message: string,
    readonly subject?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A request got no answer in time. */
export class BusTimeoutError extends BusError {
  override name = 'BusTimeoutError';
  constructor(
    message: string,
    readonly subject: string,
    readonly timeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The responder's handler failed; `remoteName` is the name of the error it threw. */
export class BusRemoteError extends BusError {
  override name = 'BusRemoteError';
  /** The input field the remote error is about, when it named one (InputRefusedError). */
  readonly remoteField: string | undefined;
  constructor(
    message: string,
    readonly subject: string,
    readonly remoteName: string,
    options?: { cause?: unknown; field?: string | undefined },
  ) {
    super(message, options);
    this.remoteField = options?.field;
  }
}

/** A payload that is not JSON (received) or cannot become JSON (sent). */
export class BusPayloadError extends BusError {
  override name = 'BusPayloadError';
}

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

/** A call that carries no credential, or one the core does not know (unknown, revoked, malformed). */
export class CredentialError extends Error {
  override name = 'CredentialError';
}

/** A valid credential whose role is too low for what the call asks. */
export class RoleRefusedError extends Error {
  override name = 'RoleRefusedError';
}

/** What a call asks does not fit the state of what it names now (a lab that is busy, or not awaiting approval). */
export class StateConflictError extends Error {
  override name = 'StateConflictError';
}

/** Zod's own message for a field left out (JSON has no undefined); a schema's own message for it does not match. */
const LEFT_OUT = /^Invalid input: expected \w+, received undefined$/;

/** Zod's own message for a bound (`Too small: expected string to have >=1 characters`). */
const OUT_OF_BOUNDS = /^Too (small|big): /;

/** Zod's own message for a value not among the allowed ones. */
const NOT_AN_OPTION = /^Invalid option: /;

interface IssueLike {
  message: string;
  code?: string;
  values?: readonly unknown[];
  origin?: string;
  minimum?: unknown;
  maximum?: unknown;
  inclusive?: boolean;
}

/** A bound zod found crossed, in words: `must not be empty`, `must be at most 64 characters long`, `must be more than 0`. */
function boundMessage(issue: IssueLike): string | undefined {
  if (issue.code !== 'too_small' && issue.code !== 'too_big') return undefined;
  const small = issue.code === 'too_small';
  const limit = small ? issue.minimum : issue.maximum;
  const least = small ? 'at least' : 'at most';
  if (issue.origin === 'string' || issue.origin === 'array') {
    if (small && Number(limit) === 1) return 'must not be empty';
    return issue.origin === 'string'
      ? `must be ${least} ${limit} characters long`
      : `must have ${least} ${limit} items`;
  }
  if (issue.origin === 'number' || issue.origin === 'bigint') {
    if (issue.inclusive === false) return `must be ${small ? 'more' : 'less'} than ${limit}`;
    return `must be ${least} ${limit}`;
  }
  return undefined;
}

/**
 * An issue's message, with zod's own said as a person would: a field left out is `required`, a bound crossed says
 * which (`must not be empty`), a value not allowed lists those that are (`must be one of open, resolved`), and
 * `Invalid input: ` before the rest is left out (the caller names the field): `expected object, received array`. A
 * schema's own message is kept.
 */
export function issueMessage(issue: IssueLike): string {
  if (LEFT_OUT.test(issue.message)) return 'required';
  if (OUT_OF_BOUNDS.test(issue.message)) return boundMessage(issue) ?? issue.message;
  if (NOT_AN_OPTION.test(issue.message) && issue.values) return `must be one of ${issue.values.join(', ')}`;
  return issue.message.replace(/^Invalid input: /, '');
}

/** A problem zod found, by the path of the offending field. */
export interface FieldIssue {
  field: string;
  message: string;
}

/**
 * One issue per offending field, the whole input named `where`; unknown keys are named one by one. A union of an
 * object and its older string form (a request's target) that failed inside the object is answered with the object's
 * own issues, by their paths (`target.vmid`), as any other object's: its first form is the object, and the object
 * was given when each of that form's issues lies inside it. The same field and message are given once (a number
 * that is neither whole nor in range fails two rules with one message).
 */
export function fieldIssues(issues: readonly import('zod').core.$ZodIssue[], where: string): FieldIssue[] {
  const out = issues.flatMap((issue): FieldIssue[] => {
    const field = issue.path.map(String).join('.') || where;
    if (issue.code === 'unrecognized_keys') {
      // A key named '' at the top is named by where it is (`body: an unknown field with an empty name`).
      return issue.keys.map((key) => ({
        field: [...issue.path, key].map(String).join('.') || where,
        message: key === '' ? 'an unknown field with an empty name' : 'unknown field',
      }));
    }
    const inside = issue.code === 'invalid_union' ? issue.errors[0] : undefined;
    if (inside?.length && inside.every((i) => i.path.length > 0)) {
      return fieldIssues(
        inside.map((i) => ({ ...i, path: [...issue.path, ...i.path] })),
        where,
      );
    }
    return [{ field, message: issueMessage(issue) }];
  });
  return out.filter((a, n) => out.findIndex((b) => b.field === a.field && b.message === a.message) === n);
}

/** One line naming every problem zod found in a bus payload, by path (`payload` for the whole). */
export function describeIssues(error: import('zod').ZodError): string {
  return fieldIssues(error.issues, 'payload')
    .map((i) => `${i.field}: ${i.message}`)
    .join('; ');
}

/** The core refuses what a call asks for a reason of its input (e.g. a reserved token name). */
export class InputRefusedError extends Error {
  override name = 'InputRefusedError';
  constructor(
    message: string,
    /** The offending field. */
    readonly field: string,
  ) {
    super(message);
  }
}

/**
 * Whether a responder's error is the caller's doing (a payload off the protocol, an unknown query, a credential or
 * role refused, input or a state that does not fit), not a failure of the responder: its answer says why, and the
 * responder's log need not warn of it.
 */
export function isCallerError(err: unknown): boolean {
  return (
    err instanceof BusPayloadError ||
    err instanceof ProtocolPayloadError ||
    err instanceof UnknownQueryError ||
    err instanceof CredentialError ||
    err instanceof RoleRefusedError ||
    err instanceof StateConflictError ||
    err instanceof InputRefusedError ||
    err instanceof InvalidSubjectError
  );
}
