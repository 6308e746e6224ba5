// GET /v1/events: Server-Sent Events relayed from NATS (`overseer.evt.>`, or a narrower validated filter).
// Each event is `data: {"subject", "payload"}` with an increasing `id`; a slow client loses events beyond
// `maxPending` (announced as an `event: dropped` message) instead of growing the gateway's memory. One token
// holds at most `maxPerToken` streams at once; one more is answered 429 (code too_many_streams).
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { InvalidSubjectError, MAX_SUBJECT_LENGTH, subjects, validateEventFilter } from '../../protocol';
import { BadRequestError } from '../errors';
import { TooManyStreamsError } from '../limit-errors';
import type { RouteTable } from '../route-table';
import type { RouteContext } from './context';

export const EventsQuerySchema = z.strictObject({
  filter: z
    .string()
    .min(1)
    .max(MAX_SUBJECT_LENGTH)
    .optional()
    .describe(`NATS subject filter under overseer.evt (default ${subjects.allEvents})`),
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

export function registerEventRoutes(table: RouteTable, ctx: RouteContext): void {
  table.add(
    {
      operationId: 'streamEvents',
      method: 'get',
      path: '/v1/events',
      role: 'observer',
      tag: 'events',
      summary: 'Follow events as Server-Sent Events',
      description:
        'Starts with `event: ready` (data: {"filter"}); then one message per NATS event, data ' +
        '{"subject", "payload"}. Comments keep the connection alive.',
      query: EventsQuerySchema,
      success: {
        status: 200,
        description: 'An event stream',
        contentType: 'text/event-stream',
      },
    },
    ({ c, query, principal }) => {
      const filter = checkFilter(query.filter ?? subjects.allEvents);
      // HEAD is answered by this GET route and Hono drops the body unread: a stream started here would never be
      // cancelled (a subscription, a timer and a buffer leaked per request). Answer the headers only.
      if (c.req.method === 'HEAD') {
        return c.body(null, 200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      }
      // At most maxPerToken open streams per token; the place is taken before the stream starts (no await in
      // between, so concurrent requests cannot all pass) and given back when the stream ends.
      const holder = principal!.id;
      const open = ctx.sse.perToken.get(holder) ?? 0;
      if (open >= ctx.sse.maxPerToken) {
        ctx.metrics.countStreamsRefused();
        throw new TooManyStreamsError(ctx.sse.maxPerToken, ctx.retryAfterSeconds);
      }
      const pending: { subject: string; payload: unknown }[] = [];
      let dropped = 0;
      let wake: (() => void) | undefined;
      const signal = () => {
        const w = wake;
        wake = undefined;
        w?.();
      };
      // Subscribed before the stream starts, so a failure is an HTTP error and nothing published after the
      // answer's headers is missed.
      const unsubscribe = ctx.bus.subscribe(filter, (subject, payload) => {
        if (pending.length >= ctx.sse.maxPending) dropped += 1;
        else pending.push({ subject, payload });
        signal();
      });

      ctx.sse.perToken.set(holder, open + 1);
      const release = () => {
        const left = (ctx.sse.perToken.get(holder) ?? 1) - 1;
        if (left > 0) ctx.sse.perToken.set(holder, left);
        else ctx.sse.perToken.delete(holder);
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
        let seq = 0;
        try {
          await stream.writeSSE({ event: 'ready', data: JSON.stringify({ filter }), retry: 2000 });
          while (!stream.aborted && !stream.closed) {
            if (pending.length === 0 && !heartbeat && dropped === 0) {
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
            for (const event of pending.splice(0)) {
              seq += 1;
              await stream.writeSSE({ id: String(seq), data: JSON.stringify(event) });
            }
            if (heartbeat) {
              heartbeat = false;
              await stream.write(': keep-alive\n\n');
            }
          }
        } finally {
          unsubscribe();
          ctx.clock.clearTimeout(timer as never);
          ctx.sse.clients.count -= 1;
          release();
        }
      });
    },
  );
}
