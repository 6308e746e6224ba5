// A real HTTP receiver on 127.0.0.1 for the notification tests: records every request and answers as told.
import { createServer, type IncomingHttpHeaders } from 'node:http';

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Answer = number | 'hang' | { status: number; headers?: Record<string, string>; body?: string };

export interface Receiver {
  readonly url: string;
  readonly received: Received[];
  /** Bodies parsed as JSON. */
  json<T = unknown>(): T[];
  close(): Promise<void>;
}

/** `answer` decides per request (0-based index); default 200. 'hang' never answers. */
export async function startReceiver(answer: (r: Received, index: number) => Answer = () => 200): Promise<Receiver> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const index = received.push(r) - 1;
      const a = answer(r, index);
      if (a === 'hang') return;
      const { status, headers = {}, body = '' } = typeof a === 'number' ? { status: a } : a;
      res.writeHead(status, { 'Content-Type': 'text/plain', ...headers });
      res.end(body || (status < 300 ? 'ok' : 'error'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    json: <T>() => received.map((r) => JSON.parse(r.body) as T),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls `check` (real time) until it holds; throws after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 3_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
