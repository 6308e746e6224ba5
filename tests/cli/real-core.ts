// The CLI against the real core on the PVE simulator (tests/helpers/sim-core.ts) through a real gateway on a free
// 127.0.0.1 port. The CLI runs in-process. Simulated time stands still unless the test moves it, so --wait is not
// for this harness.
import { run } from '../../cli/main';
import type { RunningGateway } from '../../gateway';
import { startGateway } from '../../gateway';
import type { SimCore, SimCoreToken } from '../helpers/sim-core';
import { startSimCore } from '../helpers/sim-core';
import type { CliResult } from './setup';

export interface RealCoreHarness {
  core: SimCore;
  gateway: RunningGateway;
  /** Runs `overseer <argv>` against the gateway with `token`. */
  cli(argv: string[], token: SimCoreToken): Promise<CliResult>;
  close(): Promise<void>;
}

export async function startRealCoreHarness(): Promise<RealCoreHarness> {
  const core = await startSimCore();
  const gateway = await startGateway(core.gatewayDeps, { port: 0, hostname: '127.0.0.1' });
  return {
    core,
    gateway,
    async cli(argv, token) {
      let stdout = '';
      let stderr = '';
      const code = await run(
        argv,
        { OVERSEER_URL: gateway.url, OVERSEER_TOKEN: token.token },
        {
          stdout: (t) => {
            stdout += t;
          },
          stderr: (t) => {
            stderr += t;
          },
          sleep: () => new Promise((r) => setTimeout(r, 1)),
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
