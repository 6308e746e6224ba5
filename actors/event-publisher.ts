// Publishes the runtime's events (state changes, decisions, loop events) to the event sink; a subject that
// cannot be built or a sink that fails is logged, never thrown.
import type { Clock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import { subjects } from '../protocol';
import type { EventSink } from './overseer-deps';
import type { StateChange } from './watch';

export class EventPublisher {
  constructor(private readonly deps: { events?: EventSink | undefined; log: Log; clock: Clock }) {}

  /** Publishes an event; a subject that cannot be built or a bus that fails is logged, never thrown. */
  publish(subject: () => string, payload: unknown): void {
    if (!this.deps.events) return;
    try {
      this.deps.events.publish(subject(), payload);
    } catch (error) {
      this.deps.log.error('publishing an event failed', error);
    }
  }

  /** A VM's or host's state change, on `overseer.evt.vm.<cluster>.<vmid>.state` or `…evt.host.<cluster>.<node>.state`. */
  publishState(kind: 'vm' | 'host', key: string, change: StateChange<unknown>): void {
    const [cluster = '', id = ''] = key.split('/');
    const payload = { id: change.actorId, from: change.from, to: change.to, at: this.deps.clock.now() };
    this.publish(
      () => (kind === 'vm' ? subjects.evtVm(cluster, Number(id), 'state') : subjects.evtHost(cluster, id, 'state')),
      payload,
    );
  }
}
