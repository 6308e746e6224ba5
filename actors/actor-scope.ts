// Scopes and observers for starting actors quietly: an actor scope in which nothing happens (to resolve a machine's
// initial state without an actor, ActorSet.createResting) and an inspection observer that skips an actor's restart.
import type { AnyActorScope, AnyStateMachine, InspectionEvent, Observer } from 'xstate';
import { createActor } from 'xstate';

export interface InertScope {
  scope: AnyActorScope;
  /** Actions, deferred work and emitted events the last initial state asked for (none: it only computed). */
  effects: number;
}

/**
 * An actor scope in which nothing happens: for resolving a machine's initial state without an actor. Its `self` is an
 * actor of the logic that is never started (made without input, its own initial state is an error nobody reads).
 */
export function inertScope(logic: AnyStateMachine): InertScope {
  const self = createActor(logic);
  const inert: InertScope = {
    effects: 0,
    scope: {
      self,
      id: '',
      sessionId: '',
      logger: () => {},
      system: self.system,
      defer: () => {
        inert.effects++;
      },
      emit: () => {
        inert.effects++;
      },
      stopChild: () => {
        inert.effects++;
      },
      actionExecutor: () => {
        inert.effects++;
      },
    },
  };
  return inert;
}

/** Passes inspection events on, except those of an actor's (re)start while `starting()` holds. */
export function quietStart(inspect: Observer<InspectionEvent>, starting: () => boolean): Observer<InspectionEvent> {
  return {
    next: (event) => {
      if (!starting()) inspect.next?.(event);
    },
    error: (err) => inspect.error?.(err),
    complete: () => inspect.complete?.(),
  };
}
