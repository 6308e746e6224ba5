import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  createFileKnownHosts,
  createMemoryKnownHosts,
  fingerprintOfPublicKeyLine,
  KnownHostsError,
  normalizeFingerprint,
} from '../../adapters/ssh';

const dir = mkdtempSync(join(tmpdir(), 'overseer-known-hosts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FP_A = `SHA256:${'A'.repeat(43)}`;
const FP_B = `SHA256:${'B'.repeat(43)}`;

describe('known hosts', () => {
  test('known hosts - fingerprints match ssh-keygen -l', () => {
    const key = join(dir, 'k');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key], { stdio: 'ignore' });
    const expected = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${key}.pub`], { encoding: 'utf8' }).split(
      ' ',
    )[1];
    expect(fingerprintOfPublicKeyLine(readFileSync(`${key}.pub`, 'utf8'))).toBe(expected);
    expect(normalizeFingerprint(`${FP_A}=`)).toBe(FP_A);
    expect(normalizeFingerprint('SHA256:short')).toBeUndefined();
    expect(normalizeFingerprint('MD5:aa:bb')).toBeUndefined();
  });

  test('known hosts - the file store writes atomically, mode 0600, and reads back', async () => {
    const path = join(dir, 'sub', 'known.json');
    const store = createFileKnownHosts({ path });
    expect(store.tofu).toBe(false);
    expect(await store.get('vm:lab/101')).toBeUndefined();
    await Promise.all([store.set('vm:lab/101', FP_A), store.set('host:lab/pve1', `${FP_B}=`)]);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({
      version: 1,
      hosts: { 'host:lab/pve1': FP_B, 'vm:lab/101': FP_A },
    });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['known.json']);
    const again = createFileKnownHosts({ path, tofu: true });
    expect(again.tofu).toBe(true);
    expect(await again.get('host:lab/pve1')).toBe(FP_B);
    await again.delete('host:lab/pve1');
    expect(await createFileKnownHosts({ path }).entries()).toEqual({ 'vm:lab/101': FP_A });
  });

  test('known hosts - a corrupt file is an error, never read as empty', async () => {
    const path = join(dir, 'corrupt.json');
    writeFileSync(path, '{not json');
    const store = createFileKnownHosts({ path, tofu: true });
    await expect(store.get('vm:lab/101')).rejects.toBeInstanceOf(KnownHostsError);
    await expect(store.set('vm:lab/101', FP_A)).rejects.toBeInstanceOf(KnownHostsError);
    expect(readFileSync(path, 'utf8')).toBe('{not json');
    writeFileSync(path, JSON.stringify({ version: 1, hosts: { x: 'nope' } }));
    await expect(createFileKnownHosts({ path }).get('x')).rejects.toThrow(/invalid fingerprint/);
  });

  test('known hosts - the memory store validates fingerprints', () => {
    const store = createMemoryKnownHosts({ entries: { a: FP_A } });
    expect(store.get('a')).toBe(FP_A);
    expect(() => store.set('b', 'nope')).toThrow(KnownHostsError);
  });
});
