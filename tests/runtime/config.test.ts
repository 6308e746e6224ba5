import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../actors/config';
import { runTs } from '../helpers/child';

function refusal(raw: unknown): ConfigError {
  try {
    parseConfig(raw);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('the config was accepted');
}

describe('config', () => {
  it('config - every key has a default', () => {
    const config = parseConfig({});
    expect(config.gate.production.tags).toEqual(['production']);
    expect(config.execution.perNodeConcurrency).toBe(2);
    expect(config.supervision).toEqual({ maxRestarts: 3, withinSeconds: 60 });
  });

  it('config - an unknown key is refused by name, also nested', () => {
    expect(refusal({ gaet: {} })).toMatchObject({ key: 'gaet', message: "config: unknown key 'gaet'" });
    expect(refusal({ gate: { massOperation: { maxVms: 3 } } }).key).toBe('gate.massOperation.maxVms');
  });

  it('config - a wrong type names the key', () => {
    const error = refusal({ loops: { syncIntervalSeconds: 'ten' } });
    expect(error.key).toBe('loops.syncIntervalSeconds');
    expect(error.message).toContain("'loops.syncIntervalSeconds'");
  });

  it('config - a negative limit names the key', () => {
    expect(refusal({ gate: { massOperation: { maxDestructivePerWindow: -1 } } }).key).toBe(
      'gate.massOperation.maxDestructivePerWindow',
    );
    expect(refusal({ execution: { perNodeConcurrency: 0 } }).key).toBe('execution.perNodeConcurrency');
  });

  it('config - a cluster token secret must be a lowercase UUID', () => {
    const error = refusal({
      clusters: [{ name: 'lab', host: 'pve', auth: { type: 'token', tokenId: 'root@pam!x', secret: 'NOT-A-UUID' } }],
    });
    expect(error.key).toBe('clusters[0].auth.secret');
  });

  it('config - a file that is not JSON is refused with the file named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'overseer-cfg-'));
    const file = join(dir, 'overseer.json');
    writeFileSync(file, '{ "gate": ');
    expect(() => loadConfig(file)).toThrow(/overseer\.json: not valid JSON/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('config - bad config stops start-up with a message that names the key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'overseer-cfg-'));
    const file = join(dir, 'overseer.json');
    writeFileSync(file, JSON.stringify({ gate: { massOperation: { maxVmsPerRequest: -5 } } }));
    const child = runTs(join(import.meta.dirname, '../../cli/bin.js'), ['serve'], {
      OVERSEER_CONFIG: file,
      OVERSEER_DATA_DIR: dir,
      NATS_URL: 'nats://127.0.0.1:1',
    });
    expect(await child.exited).toBe(1);
    expect(child.stderr()).toContain("'gate.massOperation.maxVmsPerRequest'");
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);
});
