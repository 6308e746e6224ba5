// Replays stored events from OVERSEER_EVENTS: a subscriber that was away catches up from a sequence
// or a time, then switches to live delivery on the bus. Uses an ordered (ephemeral) consumer.
import { type Consumer, DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream';
import { decodePayload } from './codec';
import { StreamError } from './errors';
import { EVENT_STREAM } from './streams';
import { validateEventFilter } from './subjects';

export interface StoredEvent {
  /** Stream sequence: pass `seq + 1` to resume after this event. */
  seq: number;
  subject: string;
  payload: unknown;
  /** epoch ms the server stored it */
  time: number;
}

export interface ReplayOptions {
  /** Stop after this many events. */
  limit?: number;
}

/**
 * Yields the stored events matching `filter` (validated like a user filter), oldest first, starting at
 * stream sequence `from` (a number) or time `from` (a Date), up to the last event stored when the replay
 * began. Events that are not JSON are skipped.
 */
export async function* replayEvents(
  js: JetStreamClient,
  filter: string,
  from: number | Date = 1,
  opts: ReplayOptions = {},
): AsyncGenerator<StoredEvent> {
  validateEventFilter(filter);
  const limit = opts.limit ?? Number.POSITIVE_INFINITY;
  if (limit <= 0) return;
  let consumer: Consumer;
  try {
    consumer = await js.consumers.get(EVENT_STREAM, {
      filter_subjects: filter,
      ...(from instanceof Date
        ? { opt_start_time: from.toISOString() }
        : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Math.max(1, Math.floor(from)) }),
    });
  } catch (err) {
    throw new StreamError(`cannot replay ${filter}: ${(err as Error).message}`, EVENT_STREAM, { cause: err });
  }
  try {
    const info = await consumer.info(true);
    let pending = info.num_pending;
    if (pending === 0) return;
    const messages = await consumer.consume({ max_messages: Math.min(256, pending, limit) });
    let count = 0;
    for await (const m of messages) {
      pending = m.info.pending;
      let payload: unknown;
      let ok = true;
      try {
        payload = decodePayload(m.data);
      } catch {
        ok = false;
      }
      if (ok) {
        yield { seq: m.seq, subject: m.subject, payload, time: m.time.getTime() };
        count++;
      }
      if (pending === 0 || count >= limit) break;
    }
    await messages.close();
  } finally {
    await consumer.delete().catch(() => undefined);
  }
}

/** All of replayEvents in an array (bounded by the stream's own limits and `limit`). */
export async function collectEvents(
  js: JetStreamClient,
  filter: string,
  from: number | Date = 1,
  opts: ReplayOptions = {},
): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of replayEvents(js, filter, from, opts)) out.push(e);
  return out;
}
