// Turning an Overseer subject back into its parts.
import { InvalidSubjectError } from './errors';
import type { RequestCommand } from './subject-tokens';
import { assertCommand, checkSubject, parseVmid, SUBJECT_ROOT } from './subject-tokens';
import { actorIdFromTokens } from './subjects';

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
  | { kind: 'actor'; actorId: string };

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
