// GET /v1/events: Server-Sent Events relayed from NATS (`overseer.evt.>`, or a narrower validated filter).
// Each event is `data: {"subject", "payload"}`. When the bus can read the JetStream events stream (OVERSEER_EVENTS),
// the events come from it and each one's `id` is its stream sequence: a client that reconnects with
// `Last-Event-ID` (browsers' EventSource do it by themselves) gets every event it missed, then the live ones.
// Without the stream, events are relayed live from a subscription, without ids, and a slow client loses events
// beyond `maxPending` (announced as an `event: dropped` message) instead of growing the gateway's memory.
// One token holds at most `maxPerToken` streams at once; one more is answered 429 (code too_many_streams).
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import type { EventReplay, StoredEvent } from '../../protocol';
import { InvalidSubjectError, MAX_SUBJECT_LENGTH, subjects, validateEventFilter } from '../../protocol';
import { BadRequestError } from '../errors';
import { TooManyStreamsError } from '../limit-errors';
import type { RouteTable } from '../route-table';
import type { RouteContext } from './context';

export const LAST_EVENT_ID_HEADER = 'Last-Event-ID';
const SEQUENCE = /^\d{1,15}$/;

export const EventsQuerySchema = z.strictObject({
  filter: z
    .string()
    .min(1)
    .max(MAX_SUBJECT_LENGTH)
    .optional()
    .describe(`NATS subject filter under overseer.evt (default ${subjects.allEvents})`),
  lastEventId: z
    .string()
    .regex(SEQUENCE, 'expected the id of an event (digits)')
    .optional()
    .describe('Resume after this event id, for clients that cannot send the Last-Event-ID header'),
});

/** The JSON of one relayed event. */
export const RelayedEventSchema = z.object({ subject: z.string(), payload: z.unknown() });

function checkFilter(filter: string): string {
  try {
    return validateEventFilter(filter);
  } catch (err) {
    if (err instanceof InvalidSubjectError) throw new BadRequestError(err.message, 'filter', 'query', { cause: err });
    throw err;
  }
}

/** The event id to resume after: the Last-Event-ID header (what EventSource sends), else `?lastEventId=`. */
function resumeAfter(header: string | undefined, query: string | undefined): number | undefined {
  if (header !== undefined && header.trim() !== '') {
    const value = header.trim();
    if (!SEQUENCE.test(value)) {
      throw new BadRequestError(
        `${LAST_EVENT_ID_HEADER}: expected the id of an event this gateway sent (digits), got '${value.slice(0, 40)}'`,
        LAST_EVENT_ID_HEADER,
        'header',
      );
    }
    return Number(value);
  }
  return query === undefined ? undefined : Number(query);
}

export function registerEventRoutes(table: RouteTable, ctx: RouteContext): void {
  // That the events stream cannot be read is logged once, not at every connection (again after it could be read).
  let replayWarned = false;
  table.add(
    {
      operationId: 'streamEvents',
      method: 'get',
      path: '/v1/events',
      role: 'observer',
      tag: 'events',
      summary: 'Follow events as Server-Sent Events',
      description:
        'Starts with `event: ready` (data: {"filter", "resumable"}); then one message per NATS event, data ' +
        '{"subject", "payload"}. When `resumable` is true each message’s `id` is its sequence in the JetStream ' +
        'events stream: reconnect with `Last-Event-ID: <id>` (or `?lastEventId=`) to get every event after it ' +
        '(as far back as the stream keeps them), then the live ones. Otherwise messages carry no id, and a ' +
        'client too slow to keep up is told how many it lost (`event: dropped`). Comments keep the connection alive.',
      query: EventsQuerySchema,
      headers: [
        { name: LAST_EVENT_ID_HEADER, description: 'Resume after this event id (sent by EventSource on reconnect)' },
      ],
      success: {
        status: 200,
        description: 'An event stream',
        contentType: 'text/event-stream',
      },
    },
    async ({ c, query, principal }) => {
      const filter = checkFilter(query.filter ?? subjects.allEvents);
      const after = resumeAfter(c.req.header(LAST_EVENT_ID_HEADER), query.lastEventId);
      // HEAD is answered by this GET route and Hono drops the body unread: a stream started here would never be
      // cancelled (a subscription, a timer and a buffer leaked per request). Answer the headers only.
      if (c.req.method === 'HEAD') {
        return c.body(null, 200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      }
      // At most maxPerToken open streams per token; the place is taken before anything is awaited (so concurrent
      // requests cannot all pass) and given back when the stream ends, or at once if it cannot start.
      const holder = principal!.id;
      const open = ctx.sse.perToken.get(holder) ?? 0;
      if (open >= ctx.sse.maxPerToken) {
        ctx.metrics.countStreamsRefused();
        throw new TooManyStreamsError(ctx.sse.maxPerToken, ctx.retryAfterSeconds);
      }
      ctx.sse.perToken.set(holder, open + 1);
      const release = () => {
        const left = (ctx.sse.perToken.get(holder) ?? 1) - 1;
        if (left > 0) ctx.sse.perToken.set(holder, left);
        else ctx.sse.perToken.delete(holder);
      };

      const pending: { seq?: number; subject: string; payload: unknown }[] = [];
      let dropped = 0;
      let wake: (() => void) | undefined;
      const signal = () => {
        const w = wake;
        wake = undefined;
        w?.();
      };

      // The source: the events stream when the bus can read it, else a live subscription. Either is opened before
      // the answer starts, so nothing stored or published after the headers is missed.
      let replay: EventReplay | undefined;
      let unsubscribe: (() => void) | undefined;
      try {
        if (ctx.bus.replay) {
          try {
            replay = await ctx.bus.replay(filter, after ?? 'new');
            replayWarned = false;
          } catch (err) {
            if (!replayWarned) {
              const problem = (err as Error).message;
              ctx.log.warn(`events: cannot read the events stream (${problem}); relaying live events without ids`);
            }
            replayWarned = true;
          }
        }
        if (!replay) {
          unsubscribe = ctx.bus.subscribe(filter, (subject, payload) => {
            if (pending.length >= ctx.sse.maxPending) dropped += 1;
            else pending.push({ subject, payload });
            signal();
          });
        }
      } catch (err) {
        release();
        throw err;
      }

      // Events from the stream are pulled as they are written out: at most maxPending wait here.
      let ended = false;
      let sourceEnded = false;
      let drained: (() => void) | undefined;
      const pump = async (source: EventReplay) => {
        try {
          for await (const event of source as AsyncIterable<StoredEvent>) {
            if (ended) break;
            pending.push(event);
            signal();
            while (pending.length >= ctx.sse.maxPending && !ended) {
              await new Promise<void>((resolve) => {
                drained = resolve;
              });
            }
          }
        } catch (err) {
          if (!ended) ctx.log.warn(`events: the events stream ended: ${(err as Error).message}`);
        } finally {
          // The client reconnects with the last id it got and misses nothing.
          sourceEnded = true;
          signal();
        }
      };

      return streamSSE(c, async (stream) => {
        ctx.sse.clients.count += 1;
        let heartbeat = false;
        let timer: unknown;
        const beat = () => {
          heartbeat = true;
          signal();
          timer = ctx.clock.setTimeout(beat, ctx.sse.heartbeatMs);
        };
        timer = ctx.clock.setTimeout(beat, ctx.sse.heartbeatMs);
        stream.onAbort(signal);
        try {
          const ready = {
            filter,
            resumable: replay !== undefined,
            ...(replay && after !== undefined ? { after } : {}),
          };
          await stream.writeSSE({ event: 'ready', data: JSON.stringify(ready), retry: 2000 });
          if (replay) void pump(replay);
          while (!stream.aborted && !stream.closed) {
            if (pending.length === 0 && !heartbeat && dropped === 0) {
              if (sourceEnded) break;
              await new Promise<void>((resolve) => {
                wake = resolve;
              });
              continue;
            }
            if (dropped > 0) {
              const n = dropped;
              dropped = 0;
              await stream.writeSSE({ event: 'dropped', data: JSON.stringify({ dropped: n }) });
            }
            const batch = pending.splice(0);
            drained?.();
            drained = undefined;
            for (const { seq, subject, payload } of batch) {
              const data = JSON.stringify({ subject, payload });
              await stream.writeSSE(seq === undefined ? { data } : { id: String(seq), data });
            }
            if (heartbeat) {
              heartbeat = false;
              await stream.write(': keep-alive\n\n');
            }
          }
        } finally {
          ended = true;
          drained?.();
          unsubscribe?.();
          await replay?.close().catch(() => {});
          ctx.clock.clearTimeout(timer as never);
          ctx.sse.clients.count -= 1;
          release();
        }
      });
    },
  );
}
