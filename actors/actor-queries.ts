// The core's actor reads for the dashboard's inspector: every addressed actor with its kind and state (a page of
// them), and one actor's machine definition (cached per machine), its state and the events it journaled.
import type { AnyActorRef, AnyStateMachine } from 'xstate';
import { LOOP_NAMES } from '../machines/loops/periodic-loop.machine';
import type { ActorKind, ActorSummary, QueryHandlers } from '../protocol';
import type { ActorJournal } from './actor-journal';
import type { Overseer } from './overseer';
import { stateName } from './watch';

const DEFAULT_PAGE = 200;

/** Every addressed actor of the core, by kind, in a stable order (root and loops first). */
function* actorsOf(overseer: Overseer): Generator<[string, ActorKind, AnyActorRef]> {
  const root = overseer.actor('overseer');
  if (root) yield ['overseer', 'overseer', root];
  for (const name of LOOP_NAMES) {
    const loop = overseer.actor(`loop:${name}`);
    if (loop) yield [`loop:${name}`, 'loop', loop];
  }
  for (const [key, a] of overseer.hosts.entries()) yield [`host:${key}`, 'host', a];
  for (const [key, a] of overseer.vms.entries()) yield [`vm:${key}`, 'vm', a];
  for (const [key, a] of overseer.requests.entries()) yield [`req:${key}`, 'request', a];
  for (const [key, a] of overseer.monitor.incidents.entries()) yield [`incident:${key}`, 'incident', a];
  for (const [key, a] of overseer.labs.entries()) yield [`lab:${key}`, 'lab', a];
}

const KIND_OF: ReadonlyArray<[string, ActorKind]> = [
  ['loop:', 'loop'],
  ['vm:', 'vm'],
  ['host:', 'host'],
  ['req:', 'request'],
  ['incident:', 'incident'],
  ['lab:', 'lab'],
];

const kindOf = (id: string): ActorKind | undefined =>
  id === 'overseer' ? 'overseer' : KIND_OF.find(([prefix]) => id.startsWith(prefix))?.[1];

interface StateNodeLike {
  id: string;
  states?: Record<string, StateNodeLike>;
  always?: Array<{ target?: Array<{ id: string }>; guard?: unknown }>;
}

/** A guard as people read it: its name, `and(a, b)` for a composed one; undefined for an inline function. */
function guardLabel(guard: unknown): string | undefined {
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    const parts = (guard as { guards?: unknown[] }).guards;
    if (!Array.isArray(parts)) return undefined;
    return `${guard.name}(${parts.map((g) => guardLabel(g) ?? '…').join(', ')})`;
  }
  if (guard && typeof guard === 'object' && typeof (guard as { type?: unknown }).type === 'string') {
    return (guard as { type: string }).type;
  }
  return undefined;
}

/**
 * machine.toJSON() leaves out eventless (`always`) transitions and composed guards: they are added to each state's
 * JSON from the machine's own state nodes, so the statechart shows every transition it can take.
 */
function withEventless(json: Record<string, unknown>, node: StateNodeLike): Record<string, unknown> {
  const states = (json.states ?? {}) as Record<string, Record<string, unknown>>;
  const children = Object.fromEntries(
    Object.entries(states).map(([key, child]) => {
      const childNode = node.states?.[key];
      return [key, childNode ? withEventless(child, childNode) : child];
    }),
  );
  const always = (node.always ?? []).map((t) => ({
    target: (t.target ?? []).map((n) => `#${n.id}`),
    eventType: '',
    ...(guardLabel(t.guard) !== undefined ? { guard: { type: guardLabel(t.guard) } } : {}),
  }));
  return { ...json, states: children, ...(always.length > 0 ? { always } : {}) };
}

export function actorQueries(deps: {
  overseer: Overseer;
  journal: ActorJournal;
}): Pick<QueryHandlers, 'actors' | 'actorInspect'> {
  const definitions = new WeakMap<object, unknown>();
  const definitionOf = (logic: AnyStateMachine): unknown => {
    let json = definitions.get(logic);
    if (json === undefined) {
      json = withEventless(
        logic.toJSON() as unknown as Record<string, unknown>,
        logic.root as unknown as StateNodeLike,
      );
      definitions.set(logic, json);
    }
    return json;
  };
  return {
    actors: ({ kind, prefix, limit, offset }) => {
      const items: ActorSummary[] = [];
      let total = 0;
      const from = offset ?? 0;
      const page = limit ?? DEFAULT_PAGE;
      for (const [id, k, actor] of actorsOf(deps.overseer)) {
        if ((kind !== undefined && k !== kind) || (prefix !== undefined && !id.startsWith(prefix))) continue;
        if (total >= from && items.length < page) {
          items.push({ id, kind: k, state: stateName(actor.getSnapshot().value) });
        }
        total++;
      }
      return { items, total };
    },
    actorInspect: ({ id }) => {
      const kind = kindOf(id);
      const actor = kind && deps.overseer.actor(id);
      if (!kind || !actor) return null;
      const snapshot = actor.getSnapshot() as { value: never; status: string };
      return {
        id,
        kind,
        value: snapshot.value,
        state: stateName(snapshot.value),
        status: snapshot.status,
        machine: definitionOf((actor as unknown as { logic: AnyStateMachine }).logic),
        events: [...deps.journal.events(id)],
      };
    },
  };
}
