// Subject tokens and whole subjects: checked, so a token with a '.', a wildcard or whitespace never addresses the
// wrong actors. The one place subject strings are validated (DESIGN §6).
import { InvalidSubjectError } from './errors';

export const SUBJECT_ROOT = 'overseer';
/** Longest token accepted (ids, cluster and node names, event names). */
export const MAX_TOKEN_LENGTH = 128;
/** Longest subject accepted. */
export const MAX_SUBJECT_LENGTH = 1024;

export const REQUEST_COMMANDS = ['approve', 'deny', 'cancel'] as const;
export type RequestCommand = (typeof REQUEST_COMMANDS)[number];

export const EVENT_KINDS = ['vm', 'host', 'req', 'incident', 'loop', 'lab', 'lease'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** What happens to a core's lease on a Proxmox cluster (renewals are not events: too many). */
export const LEASE_EVENTS = ['acquired', 'taken-over', 'lost', 'released'] as const;
export type LeaseEvent = (typeof LEASE_EVENTS)[number];

export function assertLeaseEvent(event: unknown): LeaseEvent {
  if (!LEASE_EVENTS.includes(event as LeaseEvent)) {
    throw new InvalidSubjectError(
      `invalid lease event '${String(event)}': expected one of ${LEASE_EVENTS.join(', ')}`,
      String(event),
      'lease event',
    );
  }
  return event as LeaseEvent;
}

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

export function assertVmid(vmid: unknown): string {
  if (typeof vmid !== 'number' || !Number.isSafeInteger(vmid) || vmid < 0) {
    throw new InvalidSubjectError(
      `invalid vmid '${String(vmid)}': expected a non-negative integer`,
      String(vmid),
      'vmid',
    );
  }
  return String(vmid);
}

export function parseVmid(token: string): number {
  if (!/^\d{1,15}$/.test(token)) {
    throw new InvalidSubjectError(`invalid vmid '${token}': expected digits`, token, 'vmid');
  }
  return Number(token);
}

export function assertCommand(command: unknown): RequestCommand {
  if (!REQUEST_COMMANDS.includes(command as RequestCommand)) {
    throw new InvalidSubjectError(
      `invalid request command '${String(command)}': expected one of ${REQUEST_COMMANDS.join(', ')}`,
      String(command),
      'command',
    );
  }
  return command as RequestCommand;
}

export const join = (...tokens: string[]): string => tokens.join('.');

/**
 * Checks a whole subject or filter: tokens non-empty, no whitespace or control characters, length limit.
 * With `wildcards`, '*' may stand as a whole token and '>' as the whole last token.
 */
export function checkSubject(subject: unknown, wildcards: boolean, part: string): string[] {
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

/**
 * A literal subject every token of which is well formed (1–128 characters, none of BAD_TOKEN_CHAR): what almost
 * every publish carries, recognised in one pass. Anything else is looked at token by token, for the error's words.
 */
const PLAIN_TOKEN = `[^${BAD_TOKEN_CHAR.source.slice(1, -1)}]{1,${MAX_TOKEN_LENGTH}}`;
const PLAIN_SUBJECT = new RegExp(`^${PLAIN_TOKEN}(?:\\.${PLAIN_TOKEN})*$`);

/** Checks a subject to publish or request on (no wildcards) and returns it. */
export function assertSubject(subject: unknown): string {
  if (typeof subject === 'string' && subject.length <= MAX_SUBJECT_LENGTH && PLAIN_SUBJECT.test(subject)) {
    return subject;
  }
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
