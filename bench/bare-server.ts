// The recovery benchmark's baseline: a bare Hono server (one JSON route) on @hono/node-server, built and started the
// way the Overseer is (scripts/build-server.mjs: one bundle run by its loader with V8's code cache, plain Node), so
// "process start → first HTTP answer" is measured the same way for both.
// Run: node scripts/build-server.mjs bench/bare-server.ts dist/bench bare-server && node dist/bench/bare-server.mjs <port>
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) throw new Error('usage: bare-server <port>');
const app = new Hono();
app.get('/v1/status', (c) => c.json({ state: 'running' }));
serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });
process.on('SIGTERM', () => process.exit(0));
