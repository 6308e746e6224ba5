// What the cluster-runtime tests on a real three-server NATS cluster share (tests/nats/cluster-*.test.ts): the cluster,
// started once per file and ready again after each test, cleanups run after each test (newest first), a polling wait,
// and a core's runtime for the simulated cluster `lab` on a data dir of its own.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { type ClusterRuntime, startClusterRuntime } from '../../actors/cluster-runtime';
import { parseConfig } from '../../actors/config';
import { SystemClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import type { RecordStore } from '../../adapters/nats/record-store';
import { createProxmoxPlatform } from '../../adapters/proxmox';
import type { Simulator } from '../../adapters/pve-sim';
import { startNatsCluster, type TestNatsCluster } from './nats-cluster';

export const clock = new SystemClock();
/** Loops slow enough that a test's own steps decide what happens. */
export const config = parseConfig({
  loops: { syncIntervalSeconds: 30, monitorIntervalSeconds: 30, healthIntervalSeconds: 60 },
});

export interface ClusterHarness {
  /** The three servers (started before the file's first test). */
  readonly cluster: TestNatsCluster;
  /** Run after each test, newest first. */
  readonly cleanups: (() => Promise<unknown> | unknown)[];
}

/** Starts the NATS cluster for the file and registers the hooks that clean up after each test and stop it at the end. */
export function useNatsCluster(): ClusterHarness {
  let cluster: TestNatsCluster | undefined;
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  beforeAll(async () => {
    cluster = await startNatsCluster();
  }, 60_000);
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  });
  afterAll(async () => {
    await cluster?.stopAll();
  });
  return {
    get cluster() {
      if (!cluster) throw new Error('the NATS cluster is not started yet');
      return cluster;
    },
    cleanups,
  };
}

/** Polls `cond` every 25 ms until it holds; fails naming `what` after `timeoutMs`. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface LabRuntimeOptions {
  /** The simulator's API token. */
  token: { tokenid: string; secret: string };
  /** The core's fence (default: never fenced). */
  fence?: () => void;
}

/** Core `name`'s runtime for the simulated cluster `lab`, on a data dir of its own (both gone after the test). */
export async function startLabRuntime(
  harness: ClusterHarness,
  name: string,
  sim: Simulator,
  records: RecordStore,
  opts: LabRuntimeOptions,
): Promise<{ rt: ClusterRuntime; log: ReturnType<typeof createMemoryLog>; dataDir: string }> {
  const { cleanups } = harness;
  const log = createMemoryLog(clock);
  const dataDir = mkdtempSync(join(tmpdir(), `overseer-crt-${name}-`));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const platform = createProxmoxPlatform(
    {
      name: 'lab',
      host: '127.0.0.1',
      port: sim.port,
      protocol: 'http',
      auth: { type: 'token', tokenId: opts.token.tokenid, secret: opts.token.secret },
      taskPollMs: 200,
      timeoutMs: 5_000,
    },
    { clock, log },
  );
  cleanups.push(() => platform.close());
  const rt = await startClusterRuntime({
    cluster: 'lab',
    platform,
    dataDir,
    core: name,
    records,
    fence: opts.fence ?? (() => {}),
    config,
    clock,
    log,
  });
  cleanups.push(() => rt.stop({ replicate: false }));
  return { rt, log, dataDir };
}
