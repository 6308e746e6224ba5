// TLS trust per client: CA pin, fingerprint pin, explicit insecure; never a process-wide switch.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import { PlatformConfigError, PlatformTlsError, PlatformUnavailableError } from '../../adapters/platform/errors';
import { createProxmoxPlatform, type ProxmoxClusterConfig, type ProxmoxPlatform } from '../../adapters/proxmox';
import { MAX_CONNECTIONS } from '../../adapters/proxmox/tls';
import { type FakePve, startFakePve } from './fake-pve';
import { configFor } from './helpers';
import { createTlsFixture, type TlsFixture } from './tls-fixture';

describe('tls', () => {
  let tls: TlsFixture;
  let fake: FakePve;
  const clock = new SystemClock();
  const opened: ProxmoxPlatform[] = [];
  let log = createMemoryLog(clock);

  const platformWith = (over: Partial<ProxmoxClusterConfig>) => {
    const p = createProxmoxPlatform(configFor(fake, tls, over), { clock, log });
    opened.push(p);
    return p;
  };

  beforeAll(async () => {
    tls = createTlsFixture();
    fake = await startFakePve(tls, { 'GET /cluster/nextid': { data: '104' } });
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((p) => p.close()));
    fake.requests.length = 0;
    log = createMemoryLog(clock);
  });
  afterAll(async () => {
    await fake.close();
    tls.cleanup();
  });

  it('tls - a pinned CA that signed the server certificate is accepted', async () => {
    expect(await platformWith({ tls: { ca: tls.ca } }).nextId()).toBe(104);
  });

  it('tls - a pinned CA that did not sign it is rejected before any request is sent', async () => {
    const err = await platformWith({ tls: { ca: tls.otherCa } })
      .nextId()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformTlsError);
    expect(err).toBeInstanceOf(PlatformUnavailableError);
    expect((err as Error).message).toMatch(/TLS verification of https:\/\/127\.0\.0\.1:\d+ failed/);
    expect(fake.requests).toHaveLength(0);
  });

  it('tls - without a pin only the system CAs are trusted, so a private CA is rejected', async () => {
    await expect(platformWith({ tls: undefined }).nextId()).rejects.toBeInstanceOf(PlatformTlsError);
    expect(fake.requests).toHaveLength(0);
  });

  it('tls - a fingerprint pin of the server certificate is accepted (any notation)', async () => {
    expect(await platformWith({ tls: { fingerprint: tls.fingerprint } }).nextId()).toBe(104);
    const compact = tls.fingerprint.replaceAll(':', '').toLowerCase();
    expect(await platformWith({ tls: { fingerprint: compact } }).nextId()).toBe(104);
  });

  it('tls - a CA and a fingerprint pinned together must both hold', async () => {
    expect(await platformWith({ tls: { ca: tls.ca, fingerprint: tls.fingerprint } }).nextId()).toBe(104);
    await expect(
      platformWith({ tls: { ca: tls.otherCa, fingerprint: tls.fingerprint } }).nextId(),
    ).rejects.toBeInstanceOf(PlatformTlsError);
  });

  it('tls - a wrong fingerprint is rejected before any request is sent', async () => {
    const wrong = `${'AB:'.repeat(31)}AB`;
    const err = await platformWith({ tls: { fingerprint: wrong } })
      .nextId()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformTlsError);
    expect((err as Error).message).toContain(`does not match the pinned ${wrong}`);
    expect((err as Error).message).toContain(tls.fingerprint);
    expect(fake.requests).toHaveLength(0);
  });

  it('tls - insecure connects and says so in the log', async () => {
    const p = platformWith({ tls: { insecure: true } });
    expect(log.lines.some((l) => l.includes('warn: lab: TLS certificate verification is DISABLED'))).toBe(true);
    expect(await p.nextId()).toBe(104);
  });

  it('tls - insecure on one client relaxes nothing for another, nor globally', async () => {
    const loose = platformWith({ name: 'loose', tls: { insecure: true } });
    const strict = platformWith({ name: 'strict', tls: { ca: tls.otherCa } });
    expect(await loose.nextId()).toBe(104);
    await expect(strict.nextId()).rejects.toBeInstanceOf(PlatformTlsError);
    expect(process.env.NODE_TLS_REJECT_UNAUTHORIZED).toBeUndefined();
  });

  it('tls - a burst of calls shares at most MAX_CONNECTIONS connections, each handshake paid once', async () => {
    // Answers held back 20 ms, so that 4 × MAX_CONNECTIONS calls are in flight at once.
    fake.route('GET /cluster/nextid', async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { data: '104' };
    });
    const platform = platformWith({ tls: { ca: tls.ca } });
    const ids = await Promise.all(Array.from({ length: 4 * MAX_CONNECTIONS }, () => platform.nextId()));
    expect(ids).toEqual(Array.from({ length: 4 * MAX_CONNECTIONS }, () => 104));
    const connections = new Set(fake.calls('GET', '/cluster/nextid').map((r) => r.remotePort));
    expect(connections.size).toBeLessThanOrEqual(MAX_CONNECTIONS);
    fake.route('GET /cluster/nextid', { data: '104' });
  });

  it('tls - contradictory or malformed settings are config errors', () => {
    expect(() => platformWith({ tls: { insecure: true, fingerprint: tls.fingerprint } })).toThrow(PlatformConfigError);
    expect(() => platformWith({ tls: { fingerprint: 'AA:BB' } })).toThrow(/SHA-256 fingerprint/);
    expect(() => platformWith({ tls: { ca: 'not a pem' } })).toThrow(/PEM/);
  });
});
