// A PVE simulator over HTTPS with a pinned, freshly generated CA, and the Overseer cluster config that reaches it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../adapters/clock';
import { SystemClock } from '../../adapters/clock';
import type { SimSeed, Simulator } from '../../adapters/pve-sim';
import { generateTestCertificates, startSimulator } from '../../adapters/pve-sim';

export const SIM_TOKEN = { tokenid: 'root@pam!overseer', secret: '5d1e3f0a-7b2c-4c9e-9a51-0f6e2b8d4c11' };

export interface SimCluster {
  sim: Simulator;
  caPath: string;
  /** An entry for the config file's `clusters` list. */
  clusterConfig: Record<string, unknown>;
  stop(): Promise<void>;
}

export async function startSimCluster(
  options: { clock?: Clock; seed?: SimSeed; taskDurations?: Partial<Record<string, number>> } = {},
): Promise<SimCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'overseer-sim-'));
  const certs = generateTestCertificates(dir);
  const sim = await startSimulator({
    clock: options.clock ?? new SystemClock(),
    tls: { cert: certs.cert, key: certs.key },
    tokens: [SIM_TOKEN],
    seed: options.seed,
    taskDurations: options.taskDurations,
  });
  return {
    sim,
    caPath: certs.caCertPath,
    clusterConfig: {
      name: 'lab',
      host: '127.0.0.1',
      port: sim.port,
      auth: { type: 'token', tokenId: SIM_TOKEN.tokenid, secret: SIM_TOKEN.secret },
      tls: { caFile: certs.caCertPath },
      taskPollMs: 100,
      timeoutMs: 5000,
    },
    async stop() {
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
