// Several cores (config `cores`): a setting that would let cores act on the same cluster without sharing leases is
// refused before anything starts, naming what is wrong.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../actors/config';
import { serve } from '../../actors/main';
import { coreIdOf } from '../../actors/multi-core';

const dir = mkdtempSync(join(tmpdir(), 'overseer-cores-config-'));
const cluster = {
  name: 'east',
  host: '127.0.0.1',
  auth: { type: 'token', tokenId: 'root@pam!o', secret: '0f0e0d0c-0b0a-4908-8706-050403020100' },
};

describe('multi-core config', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('multi-core config - cores without a configured cluster is refused, naming cores', () => {
    expect(() => parseConfig({ cores: {} })).toThrow(/cores.*needs at least one cluster/);
  });

  it('multi-core config - a core needs an id, from the config or OVERSEER_CORE_ID', () => {
    const config = parseConfig({ clusters: [cluster], cores: {} });
    expect(() => coreIdOf(config, {})).toThrow(ConfigError);
    expect(coreIdOf(config, { OVERSEER_CORE_ID: 'core-2' })).toBe('core-2');
    expect(coreIdOf(parseConfig({ clusters: [cluster], cores: { id: 'core-1' } }), {})).toBe('core-1');
    expect(() => coreIdOf(config, { OVERSEER_CORE_ID: 'no spaces' })).toThrow(/cores.id or OVERSEER_CORE_ID/);
  });

  it('multi-core config - the lease time is bounded and replicas are a count', () => {
    expect(() => parseConfig({ clusters: [cluster], cores: { leaseSeconds: 0.1 } })).toThrow(/leaseSeconds/);
    expect(() => parseConfig({ clusters: [cluster], cores: { replicas: 0 } })).toThrow(/replicas/);
    expect(parseConfig({ clusters: [cluster], cores: {} }).cores).toMatchObject({ leaseSeconds: 5, replicas: 3 });
  });

  it('multi-core config - serve refuses cores without a shared NATS_URL and OVERSEER_NAMESPACE', async () => {
    const configPath = join(dir, 'overseer.json');
    writeFileSync(configPath, JSON.stringify({ clusters: [cluster], cores: { id: 'core-1' } }));
    const env = { OVERSEER_DATA_DIR: join(dir, 'data'), OVERSEER_CONFIG: configPath, OVERSEER_PORT: '0' };
    await expect(serve(['--role', 'core'], env)).rejects.toThrow(/NATS_URL/);
    await expect(serve(['--role', 'core'], { ...env, NATS_URL: 'nats://127.0.0.1:1' })).rejects.toThrow(
      /OVERSEER_NAMESPACE/,
    );
  });
});
