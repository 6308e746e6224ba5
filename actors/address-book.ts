// Actors are addressed by id (`overseer`, `loop:sync`, `req:<id>`, `vm:lab/101`, ...): the address book resolves
// an actor id to the actor in this process and delivers events to it.
import type { AnyActorRef } from 'xstate';

export class AddressBook {
  constructor(private readonly resolve: (actorId: string) => AnyActorRef | undefined) {}

  /** Delivers an event to an actor of this process; false when no such actor lives here. */
  send(actorId: string, event: { type: string }): boolean {
    const actor = this.resolve(actorId);
    if (!actor) return false;
    actor.send(event);
    return true;
  }
}
