// A real gateway (gateway/server.ts) on a free 127.0.0.1 port, over the memory bus and the fake core; the CLI
// runs in-process against it.
import type { MemoryBus } from '../../adapters/nats/memory-bus';
import { createMemoryBus } from '../../adapters/nats/memory-bus';
import type { CliIO } from '../../cli/main';
import { run } from '../../cli/main';
import type { RunningGateway } from '../../gateway';
import { startGateway } from '../../gateway';
import { createCoreClient } from '../../protocol';
import type { FakeCore } from '../gateway/fake-core';
import { startFakeCore } from '../gateway/fake-core';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliHarness {
  bus: MemoryBus;
  core: FakeCore;
  gateway: RunningGateway;
  /** Runs `overseer <argv>` with OVERSEER_URL set and the given token (admin by default). */
  cli(
    argv: string[],
    opts?: { token?: string | null; env?: Record<string, string>; io?: Partial<CliIO> },
  ): Promise<CliResult>;
  close(): Promise<void>;
}

export async function startHarness(opts: { eventStream?: boolean } = {}): Promise<CliHarness> {
  // eventStream: the bus keeps events as the JetStream events stream would (SSE ids, Last-Event-ID).
  const bus = createMemoryBus({ eventStream: opts.eventStream ?? false });
  const core = startFakeCore(bus);
  const gateway = await startGateway(
    { core: createCoreClient(bus), bus, rateLimit: false, log: { warn: () => {}, error: () => {} } },
    { port: 0, hostname: '127.0.0.1' },
  );
  const cli: CliHarness['cli'] = async (argv, opts = {}) => {
    let stdout = '';
    let stderr = '';
    const token = opts.token === undefined ? core.tokens.admin : opts.token;
    const env = { OVERSEER_URL: gateway.url, ...(token !== null ? { OVERSEER_TOKEN: token } : {}), ...opts.env };
    const code = await run(argv, env, {
      stdout: (t) => {
        stdout += t;
      },
      stderr: (t) => {
        stderr += t;
      },
      sleep: () => new Promise((r) => setTimeout(r, 1)),
      ...opts.io,
    });
    return { code, stdout, stderr };
  };
  return {
    bus,
    core,
    gateway,
    cli,
    close: async () => {
      await gateway.close();
      core.stop();
      await bus.close();
    },
  };
}
