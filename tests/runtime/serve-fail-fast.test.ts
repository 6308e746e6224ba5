// `overseer serve` says what it waits for and gives up with a reason: a NATS_URL where nothing answers, a gateway
// port that is taken. Run as the command runs (cli/bin.js in a child process), reading its stdout and stderr.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { serve } from '../../actors/main';
import { findFreePort } from '../../adapters/nats';

const BIN = join(import.meta.dirname, '../../cli/bin.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `overseer serve` until it exits (SIGKILL after `limitMs`). */
function runServe(env: Record<string, string>, limitMs: number): Promise<Run> {
  const started = Date.now();
  const proc = spawn(process.execPath, [BIN, 'serve'], {
    env: { ...process.env, OVERSEER_INSPECT: '', OVERSEER_CONFIG: '', OVERSEER_NAMESPACE: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  proc.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const killer = setTimeout(() => proc.kill('SIGKILL'), limitMs);
  return new Promise((resolve) =>
    proc.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    }),
  );
}

const dirs: string[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'overseer-failfast-'));
  dirs.push(dir);
  return dir;
};

describe('serve fails fast', () => {
  it('serve - a NATS_URL where nothing answers prints what it waits for and gives up with a clear error', async () => {
    const natsPort = await findFreePort();
    const run = await runServe(
      {
        OVERSEER_DATA_DIR: dataDir(),
        OVERSEER_PORT: String(await findFreePort()),
        NATS_URL: `nats://127.0.0.1:${natsPort}`,
        OVERSEER_NATS_WAIT_SECONDS: '2',
      },
      40_000,
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `info: waiting for NATS at nats://127.0.0.1:${natsPort} (NATS_URL) … giving up after 2 s (OVERSEER_NATS_WAIT_SECONDS)`,
    );
    expect(run.stderr).toMatch(
      new RegExp(
        `^overseer: no NATS server answered at nats://127\\.0\\.0\\.1:${natsPort} \\(NATS_URL\\) within 2 s \\(.+\\): start it, or point NATS_URL at one; OVERSEER_NATS_WAIT_SECONDS sets how long to wait\\n$`,
      ),
    );
    // Bounded: the wait, plus start-up and the anonymous-access probe (a busy machine takes its time to start).
    expect(run.ms).toBeLessThan(30_000);
  }, 45_000);

  it('serve - a taken gateway port is refused first: before NATS, the admin token and the restore', async () => {
    const taken = createServer();
    servers.push(taken);
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    const dir = dataDir();
    const run = await runServe(
      {
        OVERSEER_DATA_DIR: dir,
        OVERSEER_PORT: String(port),
        // Nothing answers here either: a serve that looked at NATS first would wait for it.
        NATS_URL: `nats://127.0.0.1:${await findFreePort()}`,
        OVERSEER_NATS_WAIT_SECONDS: '20',
      },
      40_000,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `overseer: the gateway port 127.0.0.1:${port} is taken: another Overseer or another program listens there; stop it, or set OVERSEER_PORT to a free port\n`,
    );
    expect(run.stdout).not.toContain('NATS');
    expect(existsSync(join(dir, 'admin.token'))).toBe(false);
    expect(existsSync(join(dir, 'overseer.db'))).toBe(false);
  }, 45_000);

  it('serve - OVERSEER_NATS_WAIT_SECONDS that is not a number of seconds is refused by name', async () => {
    await expect(
      serve(['--role', 'all'], {
        OVERSEER_DATA_DIR: dataDir(),
        OVERSEER_PORT: '0',
        NATS_URL: 'nats://127.0.0.1:1',
        OVERSEER_NATS_WAIT_SECONDS: 'soon',
      }),
    ).rejects.toThrow("OVERSEER_NATS_WAIT_SECONDS must be a number of seconds >= 0 (got 'soon')");
  });
});
