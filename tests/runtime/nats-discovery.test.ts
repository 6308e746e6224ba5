// NATS_DISCOVERY: whether a core follows the servers a NATS cluster announces (default) or keeps to NATS_URL's, so
// that losing its own server cuts it off (docs/multi-core.md). Bad values are refused with one error naming it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../actors/config';
import { natsConnectOptions, resolveNats } from '../../actors/nats-endpoint';
import { SystemClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import { natsServerAvailable, startNatsServer, type TestNatsServer } from '../helpers/nats-server';

let server: TestNatsServer;
let dir: string;
const log = createMemoryLog(new SystemClock(), 'error');
const resolve = (extra: Record<string, string>) =>
  resolveNats({ env: { NATS_URL: server.url, OVERSEER_NAMESPACE: 'disc', ...extra }, dataDir: dir, log });

describe.runIf(natsServerAvailable)('nats discovery', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'overseer-discovery-'));
    server = await startNatsServer();
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('nats discovery - a core follows the cluster by default and keeps to NATS_URL with NATS_DISCOVERY=off', async () => {
    const followed = await resolve({});
    expect(natsConnectOptions(followed, 'core', log).followCluster).toBe(true);
    const pinned = await resolve({ NATS_DISCOVERY: 'off' });
    expect(natsConnectOptions(pinned, 'core', log).followCluster).toBe(false);
    expect(natsConnectOptions(pinned, 'gateway', log).followCluster).toBe(false);
  });

  it('nats discovery - any other value is refused with one error naming NATS_DISCOVERY', async () => {
    const refused = await resolve({ NATS_DISCOVERY: 'sometimes' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as Error).message).toBe(`NATS_DISCOVERY must be 'on' or 'off', not 'sometimes'`);
  });
});
