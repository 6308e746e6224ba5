import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  findFreePort,
  findNatsServerBinary,
  NatsServerStartError,
  natsInstallCommand,
  spawnNatsServer,
} from '../../adapters/nats';
import { startNatsServer, type TestNatsServer } from '../helpers/nats-server';

describe('nats-server process', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'overseer-nats-proc-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('nats-server process - finds the binary, honours NATS_SERVER_BIN, else null', () => {
    expect(findNatsServerBinary()).toMatch(/nats-server$/);
    expect(findNatsServerBinary({ NATS_SERVER_BIN: '/nonexistent/nats-server' })).toBeNull();
    expect(natsInstallCommand).toBe('apt-get install -y nats-server');
  });

  test('nats-server process - starts on 127.0.0.1 with a log file and stops cleanly', async () => {
    const port = await findFreePort();
    const logFile = join(dir, 'nats.log');
    const proc = await spawnNatsServer({ port, storeDir: join(dir, 'store'), logFile });
    expect(proc.url).toBe(`nats://127.0.0.1:${port}`);
    expect(proc.running).toBe(true);
    await proc.stop();
    expect(proc.running).toBe(false);
    expect(readFileSync(logFile, 'utf8')).toContain('Server is ready');
    expect(proc.output()).toContain('Server is ready');
  });

  test('nats-server process - a taken port is a NatsServerStartError with the server output', async () => {
    const first = await startNatsServer({ jetstream: false });
    try {
      const err = await spawnNatsServer({ port: first.port }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NatsServerStartError);
      expect((err as NatsServerStartError).output).toMatch(/address already in use/);
    } finally {
      await first.stop();
    }
  });

  test('nats-server process - a missing binary is a NatsServerStartError', async () => {
    const err = await spawnNatsServer({ binary: join(dir, 'no-such-server'), port: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NatsServerStartError);
  });
});

describe('test nats-server helper', () => {
  let server: TestNatsServer;
  afterAll(async () => {
    await server?.stop();
  });

  test('test nats-server helper - restart keeps the port and the store dir', async () => {
    server = await startNatsServer();
    const { port, storeDir } = server;
    const pid = server.pid;
    await server.kill();
    await server.restart();
    expect(server.port).toBe(port);
    expect(server.storeDir).toBe(storeDir);
    expect(server.pid).not.toBe(pid);
    expect(server.port).not.toBe(4222);
  });
});
