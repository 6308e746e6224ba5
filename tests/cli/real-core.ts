// The CLI against the real core on the PVE simulator (tests/helpers/sim-core.ts) through a real gateway on a free
// 127.0.0.1 port. The CLI runs in-process. Simulated time stands still unless the test moves it: a plain --wait
// would poll a core whose clock does not move, so a command that waits runs with `timePasses`, its pauses between
// polls being simulated time passing (`stack.advance`). `events` wires the runtime's events to the core's bus, as
// actors/core-process.ts does on NATS (the simulated stack starts without an event sink), so GET /v1/events relays
// them.

import { run } from '../../cli/main';
import type { RunningGateway } from '../../gateway';
import { startGateway } from '../../gateway';
import type { SimCore, SimCoreToken } from '../helpers/sim-core';
import { startSimCore } from '../helpers/sim-core';
import type { CliResult } from './setup';

export interface RealCliOptions {
  /** More environment for the CLI (OVERSEER_PROGRESS, ...). */
  env?: Record<string, string> | undefined;
  /** The CLI's pauses (--wait's polls) let that much simulated time pass instead of 1 ms of real time. */
  timePasses?: boolean | undefined;
}

export interface RealCoreHarnessOptions {
  /** The runtime's events (`overseer.evt.>`) are published on the core's bus, as the core process does on NATS. */
  events?: boolean | undefined;
}

export interface RealCoreHarness {
  core: SimCore;
  gateway: RunningGateway;
  /** Runs `overseer <argv>` against the gateway with `token`. */
  cli(argv: string[], token: SimCoreToken, opts?: RealCliOptions): Promise<CliResult>;
  close(): Promise<void>;
}

export async function startRealCoreHarness(opts: RealCoreHarnessOptions = {}): Promise<RealCoreHarness> {
  const core = await startSimCore({ events: opts.events });
  const gateway = await startGateway(core.gatewayDeps, { port: 0, hostname: '127.0.0.1' });
  return {
    core,
    gateway,
    async cli(argv, token, cliOpts = {}) {
      let stdout = '';
      let stderr = '';
      const code = await run(
        argv,
        { ...cliOpts.env, OVERSEER_URL: gateway.url, OVERSEER_TOKEN: token.token },
        {
          stdout: (t) => {
            stdout += t;
          },
          stderr: (t) => {
            stderr += t;
          },
          sleep: cliOpts.timePasses ? (ms) => core.stack.advance(ms) : () => new Promise((r) => setTimeout(r, 1)),
        },
      );
      return { code, stdout, stderr };
    },
    async close() {
      await gateway.close();
      await core.close();
    },
  };
}
