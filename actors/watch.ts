// The one hook through which every actor's state changes are seen: it writes the fixed log line
// `<time> <actor-id>: state changed from 'x' to 'y'` and hands the change to the runtime (persist, publish).
import type { AnyActorRef, StateValue } from 'xstate';
import type { Log } from '../adapters/log';

/** 'running', or 'degraded.unresponsive' for nested states; parallel regions joined with ','. */
export function stateName(value: StateValue): string {
  if (typeof value === 'string') return value;
  return Object.entries(value)
    .map(([k, v]) =>
      v === undefined || (typeof v === 'object' && Object.keys(v).length === 0)
        ? k
        : `${k}.${stateName(v as StateValue)}`,
    )
    .join(',');
}

export interface StateChange<TSnapshot> {
  actorId: string;
  from: string;
  to: string;
  snapshot: TSnapshot;
}

export interface WatchOptions<TSnapshot> {
  actorId: string;
  log: Log;
  /** The state before the actor started (a restored actor's state, or 'none' for a new one). */
  initial: string;
  onStateChange?: (change: StateChange<TSnapshot>) => void;
  /** Every snapshot, including ones where only the context changed. */
  onSnapshot?: (snapshot: TSnapshot, stateChanged: boolean) => void;
}

/** Subscribes to an actor; returns the unsubscribe function. */
export function watchActor<TActor extends AnyActorRef>(
  actor: TActor,
  options: WatchOptions<ReturnType<TActor['getSnapshot']>>,
): () => void {
  let current = options.initial;
  const sub = actor.subscribe({
    next: (snapshot: ReturnType<TActor['getSnapshot']>) => {
      const to = stateName((snapshot as { value: StateValue }).value);
      const changed = to !== current;
      if (changed) {
        const from = current;
        current = to;
        options.log.stateChange(options.actorId, from, to);
        options.onStateChange?.({ actorId: options.actorId, from, to, snapshot });
      }
      options.onSnapshot?.(snapshot, changed);
    },
    error: (err: unknown) => options.log.error(`${options.actorId}: actor failed`, err),
  });
  return () => sub.unsubscribe();
}
