// events [--filter f]: follows the gateway's Server-Sent Events like `tail -f`, reconnecting when the stream
// drops (resuming after the last event it showed, so none is missed), until interrupted.
import { CliError } from '../errors';
import { EXIT } from '../exit-codes';
import { str } from './args';
import type { Command, CommandContext } from './types';

interface SseMessage {
  event: string;
  data: string;
  /** The event's id (its sequence in the events stream), if it had one. */
  id?: string;
}

/** Splits an SSE byte stream into messages. */
async function* sseMessages(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = 'message';
  let data: string[] = [];
  let id: string | undefined;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl = buffer.search(/\r?\n/);
    while (nl >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(buffer[nl] === '\r' ? nl + 2 : nl + 1);
      nl = buffer.search(/\r?\n/);
      if (line === '') {
        if (data.length > 0 || event !== 'message') yield { event, data: data.join('\n'), ...(id ? { id } : {}) };
        event = 'message';
        data = [];
        id = undefined;
      } else if (line.startsWith(':')) {
        // comment (keep-alive)
      } else {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
        else if (field === 'id') id = value;
      }
    }
  }
}

function show(ctx: CommandContext, msg: SseMessage): void {
  try {
    showParsed(ctx, msg);
  } catch {
    ctx.out(`${msg.data}\n`);
  }
}

function showParsed(ctx: CommandContext, msg: SseMessage): void {
  if (msg.event === 'ready') {
    const { filter, after } = JSON.parse(msg.data) as { filter: string; after?: number };
    ctx.err(`following ${filter}${after !== undefined ? ` (from after event ${after})` : ''}\n`);
  } else if (msg.event === 'dropped') {
    ctx.err(`warning: ${(JSON.parse(msg.data) as { dropped: number }).dropped} events dropped (too slow)\n`);
  } else if (msg.event === 'message') {
    if (ctx.json) ctx.out(`${msg.data}\n`);
    else {
      const { subject, payload } = JSON.parse(msg.data) as { subject: string; payload: unknown };
      ctx.out(`${subject} ${JSON.stringify(payload)}\n`);
    }
  }
}

/** Longest pause between reconnection attempts. */
const MAX_BACKOFF_MS = 10_000;

export const eventsCommand: Command = {
  name: 'events',
  usage: '[--filter overseer.evt.req.>]',
  summary: 'Follow events as they happen (Ctrl-C to stop); --json prints one JSON object per line',
  args: 0,
  options: { filter: { type: 'string' } },
  async run(ctx) {
    const filter = str(ctx.values, 'filter');
    let backoff = 500;
    // The id of the last event shown: a reconnection resumes after it (Last-Event-ID), so nothing is missed.
    let lastId: string | undefined;
    for (;;) {
      try {
        const res = await ctx.client.send('GET', '/v1/events', {
          query: { filter },
          accept: 'text/event-stream',
          ...(lastId ? { headers: { 'Last-Event-ID': lastId } } : {}),
        });
        backoff = 500;
        if (res.body) {
          for await (const msg of sseMessages(res.body)) {
            show(ctx, msg);
            if (msg.id) lastId = msg.id;
          }
        }
        if (ctx.signal?.aborted) return EXIT.ok;
        ctx.err('event stream ended; reconnecting\n');
      } catch (err) {
        if (ctx.signal?.aborted) return EXIT.ok;
        // Refusals (bad filter, bad token) end the command; an unreachable gateway or a broken stream is retried.
        if (err instanceof CliError && err.exitCode !== EXIT.unavailable) throw err;
        ctx.err(`event stream lost (${(err as Error).message}); reconnecting in ${backoff / 1000} s\n`);
      }
      await ctx.sleep(backoff);
      if (ctx.signal?.aborted) return EXIT.ok;
      backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
    }
  },
};
