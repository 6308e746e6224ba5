// `serve --role all` as the command runs it: the gateway on a worker thread (actors/gateway-thread.ts) that runs the
// command's own program (cli/bin.js), with a real nats-server, SQLite and the embedded simulator. It decides through
// HTTP, it stops with the process's stop, and a thread that cannot listen or that ends is said, not hidden.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnGatewayThread } from '../../actors/gateway-thread';
import { serve } from '../../actors/main';
import { SystemClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import { findFreePort } from '../../adapters/nats';
import type { TestNatsServer } from '../helpers/nats-server';
import { natsServerAvailable, startNatsServer } from '../helpers/nats-server';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'overseer-gateway-thread-'));
  dirs.push(dir);
  return dir;
};
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe.runIf(natsServerAvailable)('gateway thread', () => {
  let nats: TestNatsServer;
  beforeAll(async () => {
    nats = await startNatsServer();
  }, 30_000);
  afterAll(async () => {
    await nats?.stop();
  });

  it('serve - `--role all` with its gateway on a thread decides through HTTP, and its stop ends the thread', async () => {
    const dataDir = tempDir();
    const port = await findFreePort();
    const exits: string[] = [];
    const stop = await serve(
      ['--role', 'all'],
      {
        OVERSEER_DATA_DIR: dataDir,
        NATS_URL: nats.url,
        OVERSEER_PORT: String(port),
        OVERSEER_NAMESPACE: 'thread',
        OVERSEER_GATEWAY_THREAD: 'on',
      },
      { onGatewayThreadExit: (reason) => exits.push(reason) },
    );
    try {
      const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
      const res = await fetch(`http://127.0.0.1:${port}/v1/requests`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'destroy', target: 'lab/999999' }),
      });
      const body = (await res.json()) as { decision?: string; reasons?: string[] };
      expect(res.status).toBe(201);
      expect(body.decision).toBe('denied');
      const anonymous = await fetch(`http://127.0.0.1:${port}/v1/requests`, { method: 'POST', body: '{}' });
      expect(anonymous.status).toBe(401);
    } finally {
      await stop();
    }
    await expect(fetch(`http://127.0.0.1:${port}/v1/status`)).rejects.toThrow();
    expect(exits).toEqual([]);
  }, 90_000);

  it('serve - a gateway thread that cannot listen fails the start with the listener error', async () => {
    const taken = createServer();
    servers.push(taken);
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    const log = createMemoryLog(new SystemClock());
    const thread = spawnGatewayThread(log, () => {});
    try {
      thread.connect({
        endpoint: { url: nats.url, embedded: false, namespace: 'thread-fail', credentials: { core: {}, gateway: {} } },
        natsWaitMs: 5_000,
      });
      const started = thread.listen({ port, hostname: '127.0.0.1', rateLimit: true });
      await expect(started).rejects.toMatchObject({
        name: 'GatewayListenError',
        message: expect.stringContaining(`cannot listen on 127.0.0.1:${port}`),
      });
    } finally {
      await thread.stop();
    }
  }, 60_000);
});

describe('gateway thread ending', () => {
  it('serve - a gateway thread that ends is told to the process, and a listen waiting on it is refused', async () => {
    const entry = join(tempDir(), 'ends.mjs');
    writeFileSync(entry, 'process.exit(3);\n');
    const exits: string[] = [];
    const thread = spawnGatewayThread(createMemoryLog(new SystemClock()), (reason) => exits.push(reason), entry);
    const started = thread.listen({ port: 0, hostname: '127.0.0.1', rateLimit: true });
    await expect(started).rejects.toThrow('the gateway thread ended (exit code 3)');
    expect(exits).toEqual(['the gateway thread ended (exit code 3)']);
    await thread.stop();
  });

  it('serve - a gateway thread that no NATS server answers fails its listen with the reason, naming the wait', async () => {
    const thread = spawnGatewayThread(createMemoryLog(new SystemClock()), () => {});
    try {
      thread.connect({
        endpoint: {
          url: 'nats://127.0.0.1:1',
          embedded: false,
          namespace: undefined,
          credentials: { core: {}, gateway: {} },
        },
        natsWaitMs: 1_000,
      });
      await expect(thread.listen({ port: 0, hostname: '127.0.0.1', rateLimit: true })).rejects.toMatchObject({
        name: 'NatsUnavailableError',
        message: expect.stringContaining('no NATS server answered at nats://127.0.0.1:1 (NATS_URL) within 1 s'),
      });
    } finally {
      await thread.stop();
    }
  }, 30_000);

  it('serve - OVERSEER_GATEWAY_THREAD that is not on or off is refused by name', async () => {
    await expect(
      serve(['--role', 'all'], {
        OVERSEER_DATA_DIR: tempDir(),
        OVERSEER_PORT: '0',
        NATS_URL: 'nats://127.0.0.1:1',
        OVERSEER_GATEWAY_THREAD: 'yes',
      }),
    ).rejects.toThrow("OVERSEER_GATEWAY_THREAD must be 'on' or 'off' (got 'yes')");
  });
});
