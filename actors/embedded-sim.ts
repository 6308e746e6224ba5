// The embedded default platform: the PVE simulator with its demo seed, over HTTPS with a CA generated once
// under the data dir, and the cluster config that reaches it (the same path a real cluster takes).
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../adapters/clock';
import type { Simulator } from '../adapters/pve-sim';
import { demoSeed, generateTestCertificates, startSimulator } from '../adapters/pve-sim';
import type { ClusterConfig } from './config';
import { parseConfig } from './config';

export interface EmbeddedSimulator {
  sim: Simulator;
  cluster: ClusterConfig;
}

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
  const sim = await startSimulator({
    clock,
    port,
    seed: demoSeed(),
    tls: { cert: certs.cert, key: certs.key },
    tokens: [{ tokenid, secret }],
  });
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
  return { sim, cluster };
}
