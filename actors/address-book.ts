// Actors are addressed by NATS subject (`overseer.actor.loop.sync`, `overseer.actor.overseer`, ...): the address
// book resolves an actor id to the actor in this process, and answers events sent to an actor's subject by any
// process. Only events that cannot bypass the gate are accepted from the bus: approvals, denials and
// submissions go through the request protocol, which knows who is asking.
import type { AnyActorRef } from 'xstate';
import type { Bus, Unsubscribe } from '../adapters/nats/bus';
import { parseSubject, subjects } from '../adapters/nats/subjects';
import { LOOP_NAMES } from '../machines/loops/periodic-loop.machine';

type LoopName = (typeof LOOP_NAMES)[number];
export type AddressedEvent = { type: 'RUN_NOW' } | { type: 'RECOVER'; loop: LoopName };

export class AddressRefusedError extends Error {
  override name = 'AddressRefusedError';
}

/** Which events an actor accepts from other processes. */
function acceptedEvent(actorId: string, payload: unknown): AddressedEvent {
  const event = payload as { type?: unknown; loop?: unknown } | null;
  if (!event || typeof event !== 'object') throw new AddressRefusedError('an actor event must be a JSON object');
  if (/^loop:(sync|monitor|health)$/.test(actorId) && event.type === 'RUN_NOW') return { type: 'RUN_NOW' };
  if (actorId === 'overseer' && event.type === 'RECOVER' && LOOP_NAMES.includes(event.loop as LoopName)) {
    return { type: 'RECOVER', loop: event.loop as LoopName };
  }
  throw new AddressRefusedError(`${actorId} does not accept ${String(event.type)} from the bus`);
}

export class AddressBook {
  constructor(private readonly resolve: (actorId: string) => AnyActorRef | undefined) {}

  /** Delivers an event to an actor of this process; false when no such actor lives here. */
  send(actorId: string, event: { type: string }): boolean {
    const actor = this.resolve(actorId);
    if (!actor) return false;
    actor.send(event);
    return true;
  }

  /** Answers `overseer.actor.>`: each message is an event for the actor its subject names. */
  serve(bus: Bus): Unsubscribe {
    return bus.reply(subjects.allActors, (payload, subject) => {
      const parsed = parseSubject(subject);
      if (parsed.kind !== 'actor') throw new AddressRefusedError(`not an actor address: ${subject}`);
      const event = acceptedEvent(parsed.actorId, payload);
      if (!this.send(parsed.actorId, event))
        throw new AddressRefusedError(`no actor ${parsed.actorId} in this process`);
      return { delivered: true, actorId: parsed.actorId, type: event.type };
    });
  }
}
