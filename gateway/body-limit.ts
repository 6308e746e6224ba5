// The request body's size limit, without building a web Request for every call. Hono's bodyLimit reads
// `c.req.raw.body`, which makes @hono/node-server turn the Node request into a full web Request (a ReadableStream
// over the socket, an AbortController): about a twentieth of a decision's CPU (bench/results/decisions.md). A body
// with a Content-Length is judged by that header (Node's HTTP parser never delivers more than it says), and the
// route then reads it through node-server's direct path (`c.req.text()`). Any other body (streamed, or a Request
// handed to app.request() without the header) is counted as it arrives, by Hono's own middleware; a GET or HEAD
// without either header has none (no GET route reads a body).
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnv } from './deps';

export function limitBody(maxSize: number, onTooLarge: () => never): MiddlewareHandler<AppEnv> {
  const streamed = bodyLimit({ maxSize, onError: onTooLarge });
  return async (c, next) => {
    const length = c.req.header('content-length');
    if (length === undefined || c.req.header('transfer-encoding') !== undefined) {
      if (length === undefined && (c.req.method === 'GET' || c.req.method === 'HEAD')) return next();
      return streamed(c, next);
    }
    if (Number.parseInt(length, 10) > maxSize) onTooLarge();
    await next();
  };
}
