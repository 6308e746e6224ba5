// Several clusters at once: one platform per cluster, each with its own trust and credentials.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import { PlatformConfigError, PlatformTlsError } from '../../adapters/platform/errors';
import { closePlatforms, createPlatforms } from '../../adapters/proxmox';
import { type FakePve, startFakePve } from './fake-pve';
import { configFor } from './helpers';
import { createTlsFixture, type TlsFixture } from './tls-fixture';

describe('platforms', () => {
  let tlsA: TlsFixture;
  let tlsB: TlsFixture;
  let a: FakePve;
  let b: FakePve;
  const clock = new SystemClock();
  const log = createMemoryLog(clock);

  beforeAll(async () => {
    tlsA = createTlsFixture();
    tlsB = createTlsFixture();
    a = await startFakePve(tlsA, { 'GET /cluster/nextid': { data: '100' } });
    b = await startFakePve(tlsB, { 'GET /cluster/nextid': { data: '200' } });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    tlsA.cleanup();
    tlsB.cleanup();
  });

  it('platforms - one platform per cluster, keyed by name, each with its own trust', async () => {
    const platforms = createPlatforms(
      [
        configFor(a, tlsA, { name: 'lab' }),
        configFor(b, tlsB, { name: 'range', tls: { fingerprint: tlsB.fingerprint } }),
        configFor(b, tlsA, { name: 'mistrusted' }),
      ],
      { clock, log },
    );
    try {
      expect([...platforms.keys()]).toEqual(['lab', 'range', 'mistrusted']);
      expect(platforms.get('range')?.cluster).toBe('range');
      expect(await platforms.get('lab')?.nextId()).toBe(100);
      expect(await platforms.get('range')?.nextId()).toBe(200);
      await expect(platforms.get('mistrusted')?.nextId()).rejects.toBeInstanceOf(PlatformTlsError);
    } finally {
      await closePlatforms(platforms.values());
    }
  });

  it('platforms - a cluster name used twice is a config error', () => {
    expect(() => createPlatforms([configFor(a, tlsA), configFor(b, tlsB)], { clock, log })).toThrow(
      PlatformConfigError,
    );
  });

  it('platforms - the port must be given explicitly', () => {
    expect(() =>
      createPlatforms([{ ...configFor(a, tlsA), port: undefined as unknown as number }], { clock, log }),
    ).toThrow(/port must be given explicitly/);
  });
});
