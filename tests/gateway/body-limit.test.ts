// The body limit on the listening server (gateway/body-limit.ts): a body with a Content-Length is judged by it and
// read without a web Request; a streamed one is counted as it arrives.
import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../adapters/nats/memory-bus';
import type { RunningGateway } from '../../gateway';
import { startGateway } from '../../gateway';
import { createCoreClient } from '../../protocol';
import type { FakeCore } from './fake-core';
import { startFakeCore } from './fake-core';

/** One raw HTTP/1.1 request: the status, and the body when there is one. */
function send(
  url: string,
  headers: Record<string, string>,
  chunks: string[],
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/v1/requests`, { method: 'POST', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe('body limit', () => {
  let running: RunningGateway | undefined;
  let core: FakeCore | undefined;
  afterEach(async () => {
    await running?.close();
    core?.stop();
    running = undefined;
  });

  const start = async () => {
    const bus = createMemoryBus();
    core = startFakeCore(bus);
    running = await startGateway(
      {
        core: createCoreClient(bus),
        bus,
        rateLimit: false,
        maxBodyBytes: 1024,
        log: { warn: () => {}, error: () => {} },
      },
      { port: 0 },
    );
    return { url: running.url, auth: `Bearer ${core.tokens.operator}` };
  };

  it('body limit - a body with Content-Length: over the limit 413, within it decided', async () => {
    const { url, auth } = await start();
    const small = JSON.stringify({ action: 'stop', target: 'lab/101' });
    const ok = await send(url, { authorization: auth, 'content-length': String(small.length) }, [small]);
    expect(ok.status).toBe(201);
    expect(JSON.parse(ok.body)).toMatchObject({ decision: expect.any(String) });
    const big = JSON.stringify({ action: 'stop', target: 'lab/101', params: { pad: 'x'.repeat(2000) } });
    const refused = await send(url, { authorization: auth, 'content-length': String(big.length) }, [big]);
    expect(refused.status).toBe(413);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'payload_too_large' } });
    expect(core?.submissions).toHaveLength(1);
  });

  it('body limit - a streamed body (chunked) is counted as it arrives: over the limit 413', async () => {
    const { url, auth } = await start();
    const chunks = ['{"action":"stop","target":"lab/101","params":{"pad":"', ...Array(4).fill('x'.repeat(400)), '"}}'];
    const refused = await send(url, { authorization: auth, 'transfer-encoding': 'chunked' }, chunks);
    expect(refused.status).toBe(413);
    const ok = await send(url, { authorization: auth, 'transfer-encoding': 'chunked' }, [
      '{"action":"stop",',
      '"target":"lab/101"}',
    ]);
    expect(ok.status).toBe(201);
    expect(core?.submissions).toHaveLength(1);
  });
});
