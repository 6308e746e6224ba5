// Shared bits of the Proxmox adapter tests.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SimulatedClock } from '../../adapters/clock';
import type { ProxmoxClusterConfig } from '../../adapters/proxmox';
import type { FakePve } from './fake-pve';
import type { TlsFixture } from './tls-fixture';

export const TOKEN_ID = 'root@pam!overseer';
export const TOKEN_SECRET = '5f0e3a52-6b6c-4c1e-9a53-0d1c2b3a4f5e';

export const UPID_CLONE = 'UPID:pve1:0001E240:0ADB2769:66F1A2B3:qmclone:9000:root@pam!overseer:';
export const UPID_START = 'UPID:pve1:0001E241:0ADB2769:66F1A2B4:qmstart:101:root@pam!overseer:';

export function fixture(name: string): { data: unknown } {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)), 'utf8')) as {
    data: unknown;
  };
}

/** A config for the fake server, trusting the fixture CA, token auth. */
export function configFor(
  fake: FakePve,
  tls: TlsFixture,
  over: Partial<ProxmoxClusterConfig> = {},
): ProxmoxClusterConfig {
  return {
    name: 'lab',
    host: '127.0.0.1',
    port: fake.port,
    auth: { type: 'token', tokenId: TOKEN_ID, secret: TOKEN_SECRET },
    tls: { ca: tls.ca },
    ...over,
  };
}

/**
 * Waits for `promise` while moving a SimulatedClock: real time passes for the network, clock time for
 * sleeps and timeouts (in `stepMs` steps).
 */
export async function settleWithClock<T>(promise: Promise<T>, clock: SimulatedClock, stepMs = 100): Promise<T> {
  let done = false;
  promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  for (let i = 0; i < 20_000 && !done; i++) {
    await new Promise((r) => setTimeout(r, 2));
    if (!done) await clock.advanceAsync(stepMs);
  }
  return promise;
}
