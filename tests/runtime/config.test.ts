import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, monitorThresholdsOf, parseConfig } from '../../actors/config';
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

  it('config - a key left out is named as required', () => {
    expect(refusal({ clusters: [{ name: 'a' }] })).toMatchObject({
      key: 'clusters[0].host',
      message: "config: 'clusters[0].host' is required",
    });
  });

  it('config - a bound crossed is said in words', () => {
    expect(refusal({ gate: { massOperation: { maxDestructivePerWindow: -1 } } }).message).toBe(
      "config: 'gate.massOperation.maxDestructivePerWindow' must be at least 0",
    );
    expect(refusal({ loops: { syncIntervalSeconds: 0 } }).message).toBe(
      "config: 'loops.syncIntervalSeconds' must be more than 0",
    );
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

  it('config - the command allow-list defaults to empty and takes one-line commands', () => {
    expect(parseConfig({}).gate.commands).toEqual({ allowed: [] });
    const config = parseConfig({ gate: { commands: { allowed: ['systemctl restart nginx', 'df -h'] } } });
    expect(config.gate.commands.allowed).toEqual(['systemctl restart nginx', 'df -h']);
    expect(refusal({ gate: { commands: { allowed: 'df -h' } } }).key).toBe('gate.commands.allowed');
    expect(refusal({ gate: { commands: { allowed: [42] } } }).key).toBe('gate.commands.allowed[0]');
    expect(refusal({ gate: { commands: { allowed: ['df -h\nreboot'] } } }).key).toBe('gate.commands.allowed[0]');
    expect(refusal({ gate: { commands: { allowed: [''] } } }).key).toBe('gate.commands.allowed[0]');
    expect(refusal({ gate: { commands: { allow: [] } } }).key).toBe('gate.commands.allow');
  });

  it('config - every remediation command must be in gate.commands.allowed', () => {
    const allowed = { gate: { commands: { allowed: ['touch /tmp/x'] } } };
    const ok = parseConfig({ ...allowed, remediation: { commands: { 'guest-disk-high': 'touch /tmp/x' } } });
    expect(ok.remediation.commands).toEqual({ 'guest-disk-high': 'touch /tmp/x' });
    const error = refusal({ ...allowed, remediation: { commands: { 'guest-unit-failed': 'systemctl restart x' } } });
    expect(error).toMatchObject({
      key: 'remediation.commands.guest-unit-failed',
      message:
        'config: \'remediation.commands.guest-unit-failed\' is "systemctl restart x", which is not in gate.commands.allowed',
    });
    // No allow-list: no remediation command at all.
    expect(refusal({ remediation: { commands: { 'guest-disk-high': 'touch /tmp/x' } } }).key).toBe(
      'remediation.commands.guest-disk-high',
    );
  });

  it('config - the guest load threshold is per CPU and may be above 1', () => {
    expect(parseConfig({}).monitor.guestLoadPerCpu).toEqual({ warning: 2, critical: 4 });
    const config = parseConfig({ monitor: { guestLoadPerCpu: { warning: 3, critical: 6 } } });
    expect(config.monitor.guestLoadPerCpu).toEqual({ warning: 3, critical: 6 });
    expect(monitorThresholdsOf(config).guestLoadPerCpu).toEqual({ warning: 3, critical: 6 });
    expect(refusal({ monitor: { guestLoadPerCpu: { warning: 6, critical: 3 } } }).key).toBe('monitor.guestLoadPerCpu');
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
