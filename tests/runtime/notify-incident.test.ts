import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../actors/config';
import { Overseer } from '../../actors/overseer';
import { SystemClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import { createNotifier, verifySignature } from '../../adapters/notify';
import { StateStore } from '../../state';
import { demoInventory, demoVms } from '../helpers/inventory';

const SECRET = 'a-webhook-secret-of-some-length';

describe('notifications', () => {
  it('notify - an incident reaches a local webhook receiver with a valid signature; a dead receiver stalls nothing', async () => {
    const received: { body: string; signature: string; timestamp: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => {
        body += d.toString();
      });
      req.on('end', () => {
        received.push({
          body,
          signature: String(req.headers['x-overseer-signature']),
          timestamp: String(req.headers['x-overseer-timestamp']),
        });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const dir = mkdtempSync(join(tmpdir(), 'overseer-notify-'));
    const clock = new SystemClock();
    const log = createMemoryLog(clock);
    const store = StateStore.open(join(dir, 'overseer.db'));
    const notifier = createNotifier(
      { clock, log },
      {
        channels: [
          { type: 'webhook', url: `http://127.0.0.1:${port}/hook`, secret: SECRET },
          // Nothing listens here: deliveries fail and are retried in the background.
          { type: 'webhook', url: 'http://127.0.0.1:9/dead', secret: SECRET, name: 'dead' },
        ],
        attemptTimeoutMs: 500,
        retryBaseMs: 50,
      },
    );
    const overseer = new Overseer({ clock, log, config: parseConfig({}), store, platforms: new Map(), notifier });
    try {
      overseer.observe(demoInventory({ at: clock.now() }));
      const crashed = demoVms({ 101: { status: 'stopped' } });
      overseer.observe(demoInventory({ at: clock.now(), vms: crashed }));
      const t0 = performance.now();
      await overseer.monitor.cycle();
      expect(performance.now() - t0).toBeLessThan(1000);
      for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(received.length).toBeGreaterThan(0);
      const first = received[0] as { body: string; signature: string; timestamp: string };
      // As a receiver would: the signature covers the timestamp, which must be recent.
      expect(verifySignature(SECRET, first.body, first.signature, first.timestamp, { nowMs: clock.now() })).toBe(true);
      expect(
        verifySignature(SECRET, first.body, first.signature, first.timestamp, { nowMs: clock.now() + 301_000 }),
      ).toBe(false);
      expect(JSON.parse(first.body)).toMatchObject({ severity: 'critical', subject: 'vm:lab/101' });
    } finally {
      overseer.stop();
      await notifier.close();
      store.close();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
