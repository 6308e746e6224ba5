// What each actor received, kept in memory for the dashboard's inspector: the newest events per actor (type and
// time on the injected clock), read from XState's inspection stream — the same stream OVERSEER_INSPECT sends to
// Stately's inspector, which keeps working beside it. Only the core's addressed actors are kept (`overseer`,
// `loop:…`, `vm:…`, `host:…`, `req:…`, `incident:…`, `lab:…`), a bounded number of events each, and the actors
// themselves are bounded (the least recently active go first), so memory stays flat however long the core runs.
import type { InspectionEvent, Observer } from 'xstate';
import type { Clock } from '../adapters/clock';

export interface JournalEntry {
  type: string;
  /** epoch ms, from the injected clock */
  at: number;
}

export interface ActorJournalOptions {
  /** Events kept per actor (default 50). */
  perActor?: number;
  /** Actors kept (default 20,000); the least recently active are forgotten first. */
  maxActors?: number;
}

/** Ids of the actors the core addresses (spawned children and promise actors are not journaled). */
const ADDRESSED = /^(overseer|loop:|vm:|host:|req:|incident:|lab:)/;

export class ActorJournal {
  private readonly entries = new Map<string, JournalEntry[]>();
  private readonly perActor: number;
  private readonly maxActors: number;

  constructor(
    private readonly clock: Clock,
    options: ActorJournalOptions = {},
  ) {
    this.perActor = options.perActor ?? 50;
    this.maxActors = options.maxActors ?? 20_000;
  }

  /** An inspection observer that journals events and passes everything on to `next` (Stately's inspector). */
  observer(next?: Observer<InspectionEvent>): Observer<InspectionEvent> {
    return {
      next: (event) => {
        if (event.type === '@xstate.event') this.record((event.actorRef as { id?: string }).id ?? '', event.event.type);
        next?.next?.(event);
      },
      error: (error) => next?.error?.(error),
      complete: () => next?.complete?.(),
    };
  }

  record(actorId: string, type: string): void {
    if (!ADDRESSED.test(actorId)) return;
    let list = this.entries.get(actorId);
    if (list) {
      // Most recently active last: a Map keeps insertion order, so the first key is the one to forget.
      this.entries.delete(actorId);
    } else {
      list = [];
      if (this.entries.size >= this.maxActors) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
    }
    list.push({ type, at: this.clock.now() });
    if (list.length > this.perActor) list.splice(0, list.length - this.perActor);
    this.entries.set(actorId, list);
  }

  /** The events an actor received, oldest first (empty when none were seen). */
  events(actorId: string): readonly JournalEntry[] {
    return this.entries.get(actorId) ?? [];
  }
}
