// The embedded default platform: the PVE simulator with its demo seed, over HTTPS with a CA generated once
// under the data dir, and the cluster config that reaches it (the same path a real cluster takes).
// The simulated cluster's state (nodes, VMs with their snapshots and locks, recent tasks) is kept in
// `<data dir>/pve-sim/state.json`, written shortly after every change and when the simulator stops, so a VM destroyed
// through the gate stays destroyed across restarts. Delete that file to start again from the demo seed.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../adapters/clock';
import type { Simulator } from '../adapters/pve-sim';
import {
  demoSeed,
  generateTestCertificates,
  readSavedState,
  SimConfigError,
  StatePersister,
  startSimulator,
} from '../adapters/pve-sim';
import type { ClusterConfig } from './config';
import { parseConfig } from './config';

export interface EmbeddedSimulator {
  sim: Simulator;
  cluster: ClusterConfig;
  /** True when the cluster continued from its saved state, false when it started from the demo seed. */
  restored: boolean;
  /** Where the simulated cluster's state is kept. */
  statePath: string;
}

/** The file that keeps the embedded simulator's state (delete it to start from the demo seed again). */
export const simStatePath = (dataDir: string): string => join(dataDir, 'pve-sim', 'state.json');

/** How long a stop waits for the simulator's interrupted tasks to end before the last write. */
const STOP_SETTLE_MS = 2_000;

export async function startEmbeddedSimulator(dataDir: string, clock: Clock, port = 0): Promise<EmbeddedSimulator> {
  const dir = join(dataDir, 'pve-sim');
  mkdirSync(dir, { recursive: true });
  // Certificates are made once and reused, so a CA pinned elsewhere stays valid across restarts.
  const caPath = join(dir, 'ca.crt');
  const certs = existsSync(caPath)
    ? {
        caCertPath: caPath,
        cert: readFileSync(join(dir, 'server.crt'), 'utf8'),
        key: readFileSync(join(dir, 'server.key'), 'utf8'),
      }
    : generateTestCertificates(dir);
  const secretFile = join(dir, 'token.secret');
  if (!existsSync(secretFile)) writeFileSync(secretFile, randomUUID(), { mode: 0o600 });
  const secret = readFileSync(secretFile, 'utf8').trim();
  const tokenid = 'root@pam!overseer';

  const statePath = simStatePath(dataDir);
  let saved: ReturnType<typeof readSavedState>;
  try {
    saved = readSavedState(statePath);
  } catch (cause) {
    throw new SimConfigError(
      `${(cause as Error).message} — delete ${statePath} to start the embedded simulator from the demo seed`,
      { cause },
    );
  }
  let persister: StatePersister | undefined;
  const sim = await startSimulator({
    clock,
    port,
    ...(saved ? { state: saved } : { seed: demoSeed() }),
    tls: { cert: certs.cert, key: certs.key },
    tokens: [{ tokenid, secret }],
    onChange: () => persister?.changed(),
  });
  const saver = new StatePersister({ path: statePath, state: sim.state, clock });
  persister = saver;
  // The first start writes the seeded state at once, so the file is there to be found (and deleted).
  if (!saved) {
    saver.changed();
    saver.flush();
  }
  const stopSim = sim.stop;
  const cluster = parseConfig({
    clusters: [
      {
        name: 'lab',
        host: '127.0.0.1',
        port: sim.port,
        auth: { type: 'token', tokenId: tokenid, secret },
        tls: { caFile: certs.caCertPath },
      },
    ],
  }).clusters[0] as ClusterConfig;
  return {
    sim: {
      ...sim,
      // Tasks the stop interrupted end first (their effects undone as PVE's workers would); then the last write.
      async stop() {
        await stopSim();
        await Promise.race([sim.idle(), clock.sleep(STOP_SETTLE_MS)]);
        saver.flush();
      },
    },
    cluster,
    restored: saved !== undefined,
    statePath,
  };
}
