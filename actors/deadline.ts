// A timer actor on the injected clock, for machines that wait for a deadline (a host's offline grace, a
// request's approval timeout).
import { fromCallback } from 'xstate';
import type { Clock } from '../adapters/clock';

/** Fires an event at an absolute time of the injected clock; survives restarts because its input is the deadline. */
export function deadline(clock: Clock, type: string) {
  return fromCallback<{ type: string }, { at: number }>(({ input, sendBack }) => {
    const handle = clock.setTimeout(() => sendBack({ type }), Math.max(0, input.at - clock.now()));
    return () => clock.clearTimeout(handle);
  });
}
