// The one place NATS subjects are built, validated and parsed (DESIGN §6). Nothing else concatenates
// subject strings: a token with a '.', a wildcard or whitespace would silently address the wrong actors.
import type { RequestStatus } from '../../machines/types';
import { InvalidSubjectError } from './errors';

export const SUBJECT_ROOT = 'overseer';
/** Longest token accepted (ids, cluster and node names, event names). */
export const MAX_TOKEN_LENGTH = 128;
/** Longest subject accepted. */
export const MAX_SUBJECT_LENGTH = 1024;

export const REQUEST_COMMANDS = ['approve', 'deny', 'cancel'] as const;
export type RequestCommand = (typeof REQUEST_COMMANDS)[number];

export const EVENT_KINDS = ['vm', 'host', 'req', 'incident', 'loop'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

// Whitespace, control characters, the token separator and both wildcards.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is rejected
const BAD_TOKEN_CHAR = /[\s.*>\u0000-\u001f\u007f]/;

function describeBadChar(ch: string): string {
  if (ch === '.') return "contains '.'";
  if (ch === '*' || ch === '>') return `contains the wildcard '${ch}'`;
  if (/\s/.test(ch)) return 'contains whitespace';
  return `contains the control character U+${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** Checks one literal subject token and returns it; throws InvalidSubjectError naming it otherwise. */
export function assertToken(value: unknown, part: string): string {
  if (typeof value !== 'string') {
    throw new InvalidSubjectError(`invalid ${part}: expected a string, got ${typeof value}`, String(value), part);
  }
  if (value.length === 0) throw new InvalidSubjectError(`invalid ${part}: empty`, value, part);
  if (value.length > MAX_TOKEN_LENGTH) {
    throw new InvalidSubjectError(
      `invalid ${part} '${value.slice(0, 32)}...': longer than ${MAX_TOKEN_LENGTH} characters`,
      value,
      part,
    );
  }
  const bad = BAD_TOKEN_CHAR.exec(value);
  if (bad) throw new InvalidSubjectError(`invalid ${part} '${value}': ${describeBadChar(bad[0])}`, value, part);
  return value;
}

function assertVmid(vmid: unknown): string {
  if (typeof vmid !== 'number' || !Number.isSafeInteger(vmid) || vmid < 0) {
    throw new InvalidSubjectError(
      `invalid vmid '${String(vmid)}': expected a non-negative integer`,
      String(vmid),
      'vmid',
    );
  }
  return String(vmid);
}

function parseVmid(token: string): number {
  if (!/^\d{1,15}$/.test(token)) {
    throw new InvalidSubjectError(`invalid vmid '${token}': expected digits`, token, 'vmid');
  }
  return Number(token);
}

function assertCommand(command: unknown): RequestCommand {
  if (!REQUEST_COMMANDS.includes(command as RequestCommand)) {
    throw new InvalidSubjectError(
      `invalid request command '${String(command)}': expected one of ${REQUEST_COMMANDS.join(', ')}`,
      String(command),
      'command',
    );
  }
  return command as RequestCommand;
}

const join = (...tokens: string[]): string => tokens.join('.');

/**
 * Checks a whole subject or filter: tokens non-empty, no whitespace or control characters, length limit.
 * With `wildcards`, '*' may stand as a whole token and '>' as the whole last token.
 */
function checkSubject(subject: unknown, wildcards: boolean, part: string): string[] {
  if (typeof subject !== 'string') {
    throw new InvalidSubjectError(`invalid ${part}: expected a string, got ${typeof subject}`, String(subject), part);
  }
  if (subject.length === 0) throw new InvalidSubjectError(`invalid ${part}: empty`, subject, part);
  if (subject.length > MAX_SUBJECT_LENGTH) {
    throw new InvalidSubjectError(`invalid ${part}: longer than ${MAX_SUBJECT_LENGTH} characters`, subject, part);
  }
  const tokens = subject.split('.');
  tokens.forEach((token, i) => {
    if (wildcards && (token === '*' || (token === '>' && i === tokens.length - 1))) return;
    if (token === '>' || token === '*') {
      const why = wildcards ? "'>' is only allowed as the last token" : 'wildcards are not allowed here';
      throw new InvalidSubjectError(`invalid ${part} '${subject}': ${why}`, subject, part);
    }
    if (token.length === 0) {
      throw new InvalidSubjectError(`invalid ${part} '${subject}': empty token at position ${i + 1}`, subject, part);
    }
    if (token.length > MAX_TOKEN_LENGTH) {
      throw new InvalidSubjectError(`invalid ${part} '${subject}': token ${i + 1} is too long`, subject, part);
    }
    const bad = BAD_TOKEN_CHAR.exec(token);
    if (bad) {
      const why =
        bad[0] === '*' || bad[0] === '>'
          ? `token '${token}' mixes a wildcard with other characters`
          : `token '${token}' ${describeBadChar(bad[0])}`;
      throw new InvalidSubjectError(`invalid ${part} '${subject}': ${why}`, subject, part);
    }
  });
  return tokens;
}

/** Checks a subject to publish or request on (no wildcards) and returns it. */
export function assertSubject(subject: unknown): string {
  checkSubject(subject, false, 'subject');
  return subject as string;
}

/** Checks a subscription filter (wildcards allowed) and returns it. */
export function assertFilter(filter: unknown): string {
  checkSubject(filter, true, 'filter');
  return filter as string;
}

/** Does `subject` (literal) match `filter` (possibly with wildcards)? */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    const token = f[i];
    if (token === '>') return s.length > i;
    if (i >= s.length) return false;
    if (token !== '*' && token !== s[i]) return false;
  }
  return f.length === s.length;
}

// --- actor addresses ----------------------------------------------------------------------------

const ACTOR_KINDS = ['vm', 'host', 'req', 'loop', 'incident'] as const;
type ActorKind = (typeof ACTOR_KINDS)[number];
const ROOT_ACTOR = 'overseer';

/**
 * Tokens of an actor id after `overseer.actor`:
 * `vm:lab/101` → vm.lab.101, `host:lab/pve1` → host.lab.pve1, `req:<id>` → req.<id>,
 * `loop:sync` → loop.sync, `incident:<id>` → incident.<id>, `overseer` → overseer.
 */
function actorTokens(actorId: unknown): string[] {
  if (actorId === ROOT_ACTOR) return [ROOT_ACTOR];
  if (typeof actorId !== 'string') {
    throw new InvalidSubjectError(`invalid actor id: expected a string`, String(actorId), 'actorId');
  }
  const colon = actorId.indexOf(':');
  const kind = colon < 0 ? actorId : actorId.slice(0, colon);
  if (colon < 0 || !ACTOR_KINDS.includes(kind as ActorKind)) {
    throw new InvalidSubjectError(
      `invalid actor id '${actorId}': expected 'overseer' or <${ACTOR_KINDS.join('|')}>:<key>`,
      actorId,
      'actorId',
    );
  }
  const key = actorId.slice(colon + 1);
  switch (kind as ActorKind) {
    case 'vm': {
      const [cluster, vmid, ...rest] = key.split('/');
      if (vmid === undefined || rest.length > 0) {
        throw new InvalidSubjectError(
          `invalid actor id '${actorId}': expected vm:<cluster>/<vmid>`,
          actorId,
          'actorId',
        );
      }
      return ['vm', assertToken(cluster, 'cluster'), String(parseVmid(assertToken(vmid, 'vmid')))];
    }
    case 'host': {
      const [cluster, node, ...rest] = key.split('/');
      if (node === undefined || rest.length > 0) {
        throw new InvalidSubjectError(
          `invalid actor id '${actorId}': expected host:<cluster>/<node>`,
          actorId,
          'actorId',
        );
      }
      return ['host', assertToken(cluster, 'cluster'), assertToken(node, 'node')];
    }
    case 'req':
      return ['req', assertToken(key, 'request id')];
    case 'loop':
      return ['loop', assertToken(key, 'loop name')];
    case 'incident':
      return ['incident', assertToken(key, 'incident id')];
  }
  // Unreachable: every kind is handled above.
  throw new InvalidSubjectError(`invalid actor id '${actorId}'`, actorId, 'actorId');
}

function actorIdFromTokens(tokens: string[], subject: string): string {
  const [kind, a, b, ...rest] = tokens;
  const bad = () =>
    new InvalidSubjectError(`invalid actor subject '${subject}': not an actor address`, subject, 'subject');
  if (rest.length > 0) throw bad();
  if (kind === ROOT_ACTOR && a === undefined) return ROOT_ACTOR;
  if ((kind === 'vm' || kind === 'host') && a !== undefined && b !== undefined) {
    return `${kind}:${a}/${kind === 'vm' ? parseVmid(b) : b}`;
  }
  if ((kind === 'req' || kind === 'loop' || kind === 'incident') && a !== undefined && b === undefined) {
    return `${kind}:${a}`;
  }
  throw bad();
}

// --- builders -----------------------------------------------------------------------------------

/** Every subject Overseer uses. */
export const subjects = {
  root: SUBJECT_ROOT,
  /** Request/reply: submit a request → `{requestId, decision, reasons, checks}`. */
  reqSubmit: join(SUBJECT_ROOT, 'req', 'submit'),
  /** Request/reply: approve, deny or cancel request `id`. */
  reqCommand: (id: string, command: RequestCommand): string =>
    join(SUBJECT_ROOT, 'req', assertToken(id, 'request id'), assertCommand(command)),
  /** Filter matching every request command (for the one responder handling them). */
  reqCommandsFilter: join(SUBJECT_ROOT, 'req', '*', '*'),
  /** Request/reply: the gateway's reads. */
  query: (what: string): string => join(SUBJECT_ROOT, 'query', assertToken(what, 'query')),
  /** Filter matching every query. */
  queriesFilter: join(SUBJECT_ROOT, 'query', '*'),

  evtVm: (cluster: string, vmid: number, event: string): string =>
    join(SUBJECT_ROOT, 'evt', 'vm', assertToken(cluster, 'cluster'), assertVmid(vmid), assertToken(event, 'event')),
  evtHost: (cluster: string, node: string, event: string): string =>
    join(
      SUBJECT_ROOT,
      'evt',
      'host',
      assertToken(cluster, 'cluster'),
      assertToken(node, 'node'),
      assertToken(event, 'event'),
    ),
  evtReq: (id: string, status: RequestStatus | (string & {})): string =>
    join(SUBJECT_ROOT, 'evt', 'req', assertToken(id, 'request id'), assertToken(status, 'status')),
  evtIncident: (id: string, status: string): string =>
    join(SUBJECT_ROOT, 'evt', 'incident', assertToken(id, 'incident id'), assertToken(status, 'status')),
  evtLoop: (name: string, event: string): string =>
    join(SUBJECT_ROOT, 'evt', 'loop', assertToken(name, 'loop name'), assertToken(event, 'event')),
  /** Every event (the JetStream event stream's subject). */
  allEvents: join(SUBJECT_ROOT, 'evt', '>'),

  /** The address of an actor: `vm:lab/101` → `overseer.actor.vm.lab.101`, `overseer` → `overseer.actor.overseer`. */
  actor: (actorId: string): string => join(SUBJECT_ROOT, 'actor', ...actorTokens(actorId)),
  /** Every actor address. */
  allActors: join(SUBJECT_ROOT, 'actor', '>'),

  /** Durable work item `id` in queue `queue` (JetStream work-queue stream). */
  work: (queue: string, id: string): string =>
    join(SUBJECT_ROOT, 'work', assertToken(queue, 'work queue'), assertToken(id, 'work id')),
  /** Every item of one work queue. */
  workQueueFilter: (queue: string): string => join(SUBJECT_ROOT, 'work', assertToken(queue, 'work queue'), '*'),
  /** Every work item (the JetStream work stream's subject). */
  allWork: join(SUBJECT_ROOT, 'work', '>'),
} as const;

// --- event filters ------------------------------------------------------------------------------

/** Which events to subscribe to; omitted parts match anything. */
export type EventFilterSpec =
  | { kind: 'vm'; cluster?: string; vmid?: number; event?: string }
  | { kind: 'host'; cluster?: string; node?: string; event?: string }
  | { kind: 'req'; id?: string; status?: RequestStatus | (string & {}) }
  | { kind: 'incident'; id?: string; status?: string }
  | { kind: 'loop'; name?: string; event?: string };

const any = <T>(value: T | undefined, check: (v: T) => string): string => (value === undefined ? '*' : check(value));

/**
 * A subscription filter for events: `eventFilter()` → every event;
 * `eventFilter({kind: 'vm', cluster: 'lab', vmid: 101})` → every event of that VM;
 * `eventFilter({kind: 'req'})` → every request event.
 */
export function eventFilter(spec?: EventFilterSpec): string {
  if (!spec) return subjects.allEvents;
  const base = [SUBJECT_ROOT, 'evt', spec.kind];
  switch (spec.kind) {
    case 'vm':
      return join(
        ...base,
        any(spec.cluster, (v) => assertToken(v, 'cluster')),
        any(spec.vmid, assertVmid),
        any(spec.event, (v) => assertToken(v, 'event')),
      );
    case 'host':
      return join(
        ...base,
        any(spec.cluster, (v) => assertToken(v, 'cluster')),
        any(spec.node, (v) => assertToken(v, 'node')),
        any(spec.event, (v) => assertToken(v, 'event')),
      );
    case 'req':
      return join(
        ...base,
        any(spec.id, (v) => assertToken(v, 'request id')),
        any(spec.status, (v) => assertToken(v, 'status')),
      );
    case 'incident':
      return join(
        ...base,
        any(spec.id, (v) => assertToken(v, 'incident id')),
        any(spec.status, (v) => assertToken(v, 'status')),
      );
    case 'loop':
      return join(
        ...base,
        any(spec.name, (v) => assertToken(v, 'loop name')),
        any(spec.event, (v) => assertToken(v, 'event')),
      );
    default:
      throw new InvalidSubjectError(
        `invalid event kind '${String((spec as { kind: unknown }).kind)}': expected one of ${EVENT_KINDS.join(', ')}`,
        String((spec as { kind: unknown }).kind),
        'event kind',
      );
  }
}

/**
 * Checks a filter a user supplied (HTTP, CLI): a valid NATS subject, wildcards allowed, under `overseer.evt`
 * and naming at least one token below it. Returns the filter.
 */
export function validateEventFilter(filter: unknown): string {
  const tokens = checkSubject(filter, true, 'filter');
  if (tokens[0] !== SUBJECT_ROOT || tokens[1] !== 'evt' || tokens.length < 3) {
    throw new InvalidSubjectError(
      `invalid filter '${String(filter)}': must start with '${SUBJECT_ROOT}.evt.' (e.g. '${subjects.allEvents}')`,
      String(filter),
      'filter',
    );
  }
  return filter as string;
}

// --- parsing ------------------------------------------------------------------------------------

export type ParsedEventSubject =
  | { kind: 'evt.vm'; cluster: string; vmid: number; event: string }
  | { kind: 'evt.host'; cluster: string; node: string; event: string }
  | { kind: 'evt.req'; id: string; status: string }
  | { kind: 'evt.incident'; id: string; status: string }
  | { kind: 'evt.loop'; name: string; event: string };

export type ParsedSubject =
  | ParsedEventSubject
  | { kind: 'req.submit' }
  | { kind: 'req.command'; id: string; command: RequestCommand }
  | { kind: 'query'; what: string }
  | { kind: 'actor'; actorId: string }
  | { kind: 'work'; queue: string; id: string };

/** Turns any Overseer subject back into its parts; throws InvalidSubjectError for anything else. */
export function parseSubject(subject: string): ParsedSubject {
  const tokens = checkSubject(subject, false, 'subject');
  const unknown = () =>
    new InvalidSubjectError(`unknown subject '${subject}': not an Overseer subject`, subject, 'subject');
  const [root, area, ...rest] = tokens;
  if (root !== SUBJECT_ROOT) throw unknown();
  const n = rest.length;
  switch (area) {
    case 'req':
      if (n === 1 && rest[0] === 'submit') return { kind: 'req.submit' };
      if (n === 2) return { kind: 'req.command', id: rest[0]!, command: assertCommand(rest[1]) };
      break;
    case 'query':
      if (n === 1) return { kind: 'query', what: rest[0]! };
      break;
    case 'actor':
      if (n >= 1) return { kind: 'actor', actorId: actorIdFromTokens(rest, subject) };
      break;
    case 'work':
      if (n === 2) return { kind: 'work', queue: rest[0]!, id: rest[1]! };
      break;
    case 'evt': {
      const [kind, a, b, c] = rest;
      if (kind === 'vm' && n === 4) return { kind: 'evt.vm', cluster: a!, vmid: parseVmid(b!), event: c! };
      if (kind === 'host' && n === 4) return { kind: 'evt.host', cluster: a!, node: b!, event: c! };
      if (kind === 'req' && n === 3) return { kind: 'evt.req', id: a!, status: b! };
      if (kind === 'incident' && n === 3) return { kind: 'evt.incident', id: a!, status: b! };
      if (kind === 'loop' && n === 3) return { kind: 'evt.loop', name: a!, event: b! };
      break;
    }
  }
  throw unknown();
}

/** Like parseSubject, for event subjects only. */
export function parseEventSubject(subject: string): ParsedEventSubject {
  const parsed = parseSubject(subject);
  if (!parsed.kind.startsWith('evt.')) {
    throw new InvalidSubjectError(`'${subject}' is not an event subject`, subject, 'subject');
  }
  return parsed as ParsedEventSubject;
}
