// The one place NATS subjects are built (DESIGN §6): request/reply, queries, events and actor addresses.
// Nothing else concatenates subject strings.
import type { RequestStatus } from '../machines/types';
import { InvalidSubjectError } from './errors';
import type { LeaseEvent, RequestCommand } from './subject-tokens';
import {
  assertCommand,
  assertLeaseEvent,
  assertToken,
  assertVmid,
  checkSubject,
  EVENT_KINDS,
  join,
  parseVmid,
  SUBJECT_ROOT,
} from './subject-tokens';

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

export function actorIdFromTokens(tokens: string[], subject: string): string {
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
  /** A lab's event (its status, `drift`): `overseer.evt.lab.<name>.<event>`. */
  evtLab: (name: string, event: string): string =>
    join(SUBJECT_ROOT, 'evt', 'lab', assertToken(name, 'lab name'), assertToken(event, 'event')),
  /** A core's lease on a Proxmox cluster: `overseer.evt.lease.<cluster>.<acquired|taken-over|lost|released>`. */
  evtLease: (cluster: string, event: LeaseEvent): string =>
    join(SUBJECT_ROOT, 'evt', 'lease', assertToken(cluster, 'cluster'), assertLeaseEvent(event)),
  evtLoop: (name: string, event: string): string =>
    join(SUBJECT_ROOT, 'evt', 'loop', assertToken(name, 'loop name'), assertToken(event, 'event')),
  /** Every event (the JetStream event stream's subject). */
  allEvents: join(SUBJECT_ROOT, 'evt', '>'),

  /** The address of an actor: `vm:lab/101` → `overseer.actor.vm.lab.101`, `overseer` → `overseer.actor.overseer`. */
  actor: (actorId: string): string => join(SUBJECT_ROOT, 'actor', ...actorTokens(actorId)),
  /** Every actor address. */
  allActors: join(SUBJECT_ROOT, 'actor', '>'),
} as const;

// --- event filters ------------------------------------------------------------------------------

/** Which events to subscribe to; omitted parts match anything. */
export type EventFilterSpec =
  | { kind: 'vm'; cluster?: string; vmid?: number; event?: string }
  | { kind: 'host'; cluster?: string; node?: string; event?: string }
  | { kind: 'req'; id?: string; status?: RequestStatus | (string & {}) }
  | { kind: 'incident'; id?: string; status?: string }
  | { kind: 'loop'; name?: string; event?: string }
  | { kind: 'lab'; name?: string; event?: string }
  | { kind: 'lease'; cluster?: string; event?: LeaseEvent };

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
    case 'lab':
      return join(
        ...base,
        any(spec.name, (v) => assertToken(v, 'lab name')),
        any(spec.event, (v) => assertToken(v, 'event')),
      );
    case 'lease':
      return join(
        ...base,
        any(spec.cluster, (v) => assertToken(v, 'cluster')),
        any(spec.event, assertLeaseEvent),
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
  // A kind that is none of the events' would follow nothing, silently.
  const kind = tokens[2] as string;
  if (kind !== '*' && kind !== '>' && !(EVENT_KINDS as readonly string[]).includes(kind)) {
    throw new InvalidSubjectError(
      `invalid filter '${String(filter)}': no event kind '${kind}' (kinds: ${EVENT_KINDS.join(', ')})`,
      String(filter),
      'filter',
    );
  }
  return filter as string;
}
