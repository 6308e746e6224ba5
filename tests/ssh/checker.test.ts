import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { flushMicrotasks, SimulatedClock, SystemClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import { findFreePort } from '../../adapters/nats/server-process';
import {
  createFileKnownHosts,
  createMemoryKnownHosts,
  createSshChecker,
  type KnownHostsStore,
  SshAuthError,
  SshExitError,
  SshHostKeyMismatchError,
  type SshTarget,
  SshTimeoutError,
  SshUnknownHostKeyError,
} from '../../adapters/ssh';
import { startSshd, type TestSshd } from '../helpers/sshd';

const clock = new SystemClock();
const WRONG_PIN = `SHA256:${'A'.repeat(43)}`;

let sshd: TestSshd;
let scratch: string;

beforeAll(async () => {
  sshd = await startSshd();
  scratch = mkdtempSync(join(tmpdir(), 'overseer-ssh-test-'));
});

afterAll(async () => {
  await sshd?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function targetOf(server: TestSshd, extra: Partial<SshTarget> = {}): SshTarget {
  return {
    id: 'vm:lab/101',
    host: server.host,
    port: server.port,
    username: server.username,
    privateKey: server.privateKey,
    timeoutMs: 5_000,
    ...extra,
  };
}

function checkerWith(knownHosts: KnownHostsStore = createMemoryKnownHosts()) {
  const log = createMemoryLog(clock);
  return { checker: createSshChecker({ clock, log, knownHosts }), log };
}

describe('ssh checks', () => {
  test('ssh checks - reports reachability, uptime, load and disk read from a real sshd', async () => {
    const { checker } = checkerWith();
    const result = await checker.check(targetOf(sshd, { hostKey: sshd.hostKeyFingerprint }));
    expect(result.error).toBeUndefined();
    expect(result.reachable).toBe(true);
    expect(result.hostKey).toBe(sshd.hostKeyFingerprint);
    expect(result.hostKeyChanged).toBeUndefined();
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    // The sshd runs on this machine: its /proc is ours.
    const localUptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    expect(Math.abs((result.uptimeSeconds ?? 0) - localUptime)).toBeLessThan(30);
    expect(result.load).toHaveLength(3);
    for (const v of result.load ?? []) expect(v).toBeGreaterThanOrEqual(0);
    const root = result.disk?.find((d) => d.mount === '/');
    expect(root).toBeDefined();
    expect(root!.usedFraction).toBeGreaterThanOrEqual(0);
    expect(root!.usedFraction).toBeLessThanOrEqual(1);
  });

  test('ssh checks - a unit that is not active is reported inactive, and a bad unit name is never run', async () => {
    const { checker } = checkerWith();
    const result = await checker.check(
      targetOf(sshd, {
        hostKey: sshd.hostKeyFingerprint,
        units: ['overseer-surely-absent-unit.service', 'x; rm -rf /'],
      }),
    );
    expect(result.reachable).toBe(true);
    expect(result.units).toHaveLength(2);
    expect(result.units![0]).toMatchObject({ name: 'overseer-surely-absent-unit.service', active: false });
    // With systemd the state is read ('inactive'); without it (containers) an error says why.
    expect(result.units![0]!.state !== undefined || result.units![0]!.error !== undefined).toBe(true);
    expect(result.units![1]).toEqual({ name: 'x; rm -rf /', active: false, error: 'invalid unit name' });
  });

  test('ssh checks - a wrong pinned key is refused and reported as changed', async () => {
    const store = createMemoryKnownHosts({ tofu: true });
    const { checker, log } = checkerWith(store);
    const result = await checker.check(targetOf(sshd, { hostKey: WRONG_PIN }));
    expect(result.reachable).toBe(false);
    expect(result.hostKeyChanged).toBe(true);
    expect(result.hostKey).toBe(sshd.hostKeyFingerprint);
    expect(result.error?.name).toBe('SshHostKeyMismatchError');
    expect(result.uptimeSeconds).toBeUndefined();
    expect(store.entries()).toEqual({});
    expect(log.lines.some((l) => l.includes('host key changed'))).toBe(true);
  });

  test('ssh checks - a server restarted with a new host key is refused and reported', async () => {
    const own = await startSshd();
    try {
      const store = createMemoryKnownHosts({ tofu: true });
      const { checker } = checkerWith(store);
      const first = await checker.check(targetOf(own));
      expect(first.reachable).toBe(true);
      const recorded = own.hostKeyFingerprint;
      expect(store.entries()).toEqual({ 'vm:lab/101': recorded });

      await own.restartWithNewHostKey();
      expect(own.hostKeyFingerprint).not.toBe(recorded);
      const second = await checker.check(targetOf(own));
      expect(second).toMatchObject({ reachable: false, hostKeyChanged: true, hostKey: own.hostKeyFingerprint });
      expect(second.error?.name).toBe('SshHostKeyMismatchError');
      // Never silently accepted: the recorded key stays.
      expect(store.entries()).toEqual({ 'vm:lab/101': recorded });

      const err = await checker.runCommand(targetOf(own), 'true').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SshHostKeyMismatchError);
      expect(err).toMatchObject({ expected: recorded, presented: own.hostKeyFingerprint, targetId: 'vm:lab/101' });
    } finally {
      await own.stop();
    }
  });

  test('ssh checks - an unknown key without trust-on-first-use is refused', async () => {
    const store = createMemoryKnownHosts();
    const { checker } = checkerWith(store);
    const result = await checker.check(targetOf(sshd));
    expect(result.reachable).toBe(false);
    expect(result.hostKeyChanged).toBeUndefined();
    expect(result.hostKey).toBe(sshd.hostKeyFingerprint);
    expect(result.error?.name).toBe('SshUnknownHostKeyError');
    expect(store.entries()).toEqual({});
    await expect(checker.runCommand(targetOf(sshd), 'true')).rejects.toBeInstanceOf(SshUnknownHostKeyError);
  });

  test('ssh checks - trust on first use records the key in the file, which is then accepted without tofu', async () => {
    const path = join(scratch, 'tofu', 'known_hosts.json');
    const tofu = createFileKnownHosts({ path, tofu: true });
    const first = await checkerWith(tofu).checker.check(targetOf(sshd));
    expect(first.reachable).toBe(true);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({
      version: 1,
      hosts: { 'vm:lab/101': sshd.hostKeyFingerprint },
    });

    const strict = createFileKnownHosts({ path });
    const second = await checkerWith(strict).checker.check(targetOf(sshd));
    expect(second.reachable).toBe(true);
    expect(second.error).toBeUndefined();
  });

  test('ssh checks - a closed port is unreachable with a clear error, well within the timeout', async () => {
    const port = await findFreePort();
    const { checker } = checkerWith();
    const started = Date.now();
    const result = await checker.check(targetOf(sshd, { port, hostKey: sshd.hostKeyFingerprint, timeoutMs: 3_000 }));
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(result.reachable).toBe(false);
    expect(result.error?.name).toBe('SshConnectError');
    expect(result.error?.message).toContain('connection refused');
    expect(result.error?.message).toContain(`127.0.0.1:${port}`);
  });

  test('ssh checks - a server that never answers times out on the injected clock', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const sim = new SimulatedClock(1_000);
      const checker = createSshChecker({ clock: sim, log: createMemoryLog(sim), knownHosts: createMemoryKnownHosts() });
      let settled = false;
      const pending = checker
        .check(targetOf(sshd, { port, hostKey: sshd.hostKeyFingerprint, timeoutMs: 4_000 }))
        .finally(() => {
          settled = true;
        });
      for (let i = 0; i < 200 && sockets.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(sockets).toHaveLength(1);
      sim.advance(3_999);
      await flushMicrotasks();
      expect(settled).toBe(false);
      sim.advance(1);
      const result = await pending;
      expect(result.reachable).toBe(false);
      expect(result.error?.name).toBe('SshTimeoutError');
      expect(result.error?.message).toContain('4000 ms');
      expect(sim.pending).toBe(0);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  test('ssh checks - a key the server does not accept is an SshAuthError', async () => {
    const keyPath = join(scratch, 'stranger');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyPath], { stdio: 'ignore' });
    const { checker } = checkerWith();
    const target = targetOf(sshd, { hostKey: sshd.hostKeyFingerprint, privateKey: readFileSync(keyPath, 'utf8') });
    const result = await checker.check(target);
    expect(result).toMatchObject({ reachable: false, hostKey: sshd.hostKeyFingerprint });
    expect(result.error?.name).toBe('SshAuthError');
    await expect(checker.runCommand(target, 'true')).rejects.toBeInstanceOf(SshAuthError);
  });
});

describe('ssh targets', () => {
  test('ssh targets - an unusable private key or port is an SshTargetError, reported without connecting', async () => {
    const { checker } = checkerWith();
    const badKey = await checker.check(targetOf(sshd, { hostKey: sshd.hostKeyFingerprint, privateKey: 'garbage' }));
    expect(badKey).toMatchObject({ reachable: false, error: { name: 'SshTargetError' } });
    expect(badKey.hostKey).toBeUndefined();
    const badPort = await checker.check(targetOf(sshd, { port: 0 }));
    expect(badPort.error).toEqual({ name: 'SshTargetError', message: 'ssh vm:lab/101: invalid port 0' });
    const badPin = await checker.check(targetOf(sshd, { hostKey: 'md5:00' }));
    expect(badPin.error?.name).toBe('SshTargetError');
  });
});

describe('ssh commands', () => {
  test('ssh commands - runCommand returns exit code and output', async () => {
    const { checker } = checkerWith();
    const r = await checker.runCommand(
      targetOf(sshd, { hostKey: sshd.hostKeyFingerprint }),
      'echo hello; echo oops >&2',
    );
    expect(r).toEqual({ code: 0, stdout: 'hello\n', stderr: 'oops\n', truncated: false });
  });

  test('ssh commands - a non-zero exit throws SshExitError with the code and stderr', async () => {
    const { checker } = checkerWith();
    const target = targetOf(sshd, { hostKey: sshd.hostKeyFingerprint });
    const err = await checker.runCommand(target, 'echo partial; echo broken >&2; exit 3').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SshExitError);
    expect(err).toMatchObject({ name: 'SshExitError', code: 3, stdout: 'partial\n', stderr: 'broken\n' });
    expect((err as Error).message).toContain('exited with code 3: broken');
    const allowed = await checker.runCommand(target, 'exit 4', { allowNonZero: true });
    expect(allowed.code).toBe(4);
  });

  test('ssh commands - output is capped at 64 KiB', async () => {
    const { checker } = checkerWith();
    const r = await checker.runCommand(
      targetOf(sshd, { hostKey: sshd.hostKeyFingerprint }),
      "head -c 200000 /dev/zero | tr '\\0' a",
    );
    expect(r.stdout.length).toBe(64 * 1024);
    expect(r.truncated).toBe(true);
  });

  test('ssh commands - a command running past the deadline is aborted with SshTimeoutError', async () => {
    const { checker } = checkerWith();
    const started = Date.now();
    const err = await checker
      .runCommand(targetOf(sshd, { hostKey: sshd.hostKeyFingerprint }), 'sleep 3', { timeoutMs: 400 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SshTimeoutError);
    expect(err).toMatchObject({ phase: 'command', timeoutMs: 400 });
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
