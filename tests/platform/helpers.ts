// The real stack in one process, for the platform acceptance tests: the PVE simulator over HTTPS with a pinned,
// freshly generated CA; a StateStore on a temp file; the Proxmox platforms built from the cluster config (the
// adapter talks to the simulator through proxmox-api); and the Overseer runtime with its loops, on a SystemClock.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../actors/config';
import type { Submission, SubmitResult } from '../../actors/overseer';
import { Overseer } from '../../actors/overseer';
import { platformsFromConfig } from '../../actors/platforms';
import type { ClusterSyncReport } from '../../actors/sync';
import { SystemClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import type { ProxmoxPlatform } from '../../adapters/proxmox';
import { closePlatforms } from '../../adapters/proxmox';
import type { SimSeed, Simulator, TestCertificates } from '../../adapters/pve-sim';
import { generateTestCertificates, startSimulator } from '../../adapters/pve-sim';
import { TERMINAL_REQUEST_STATUSES } from '../../machines/types';
import type { RequestRecord } from '../../state';
import { StateStore } from '../../state';

export const SIM_TOKEN = { tokenid: 'root@pam!overseer', secret: '0b7e3f52-3c1d-4b8e-9f2a-6d4c8e1a7b39' };
export const ADMIN = { id: 'alice', role: 'admin' as const };

/** Certificates are generated once per test file (openssl is slow) and shared by its simulators. */
let certs: { dir: string; certs: TestCertificates } | undefined;
function testCertificates(): TestCertificates {
  if (!certs) {
    const dir = mkdtempSync(join(tmpdir(), 'overseer-platform-ca-'));
    certs = { dir, certs: generateTestCertificates(dir) };
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return certs.certs;
}

export interface PlatformSim {
  sim: Simulator;
  /** An entry of the config file's `clusters` list that reaches the simulator with the pinned CA. */
  clusterConfig: Record<string, unknown>;
  stop(): Promise<void>;
}

export interface SimOptions {
  seed?: SimSeed | undefined;
  /** Clock ms per task type; short by default so tests stay fast. */
  taskDurations?: Partial<Record<string, number>> | undefined;
  /** How long a task worker waits for a config lock before "got timeout" (PVE: 10 s). */
  lockWaitMs?: number | undefined;
}

/** Every task 100-300 ms unless told otherwise. */
export const SHORT_TASKS: Partial<Record<string, number>> = {
  qmstart: 200,
  qmstop: 150,
  qmshutdown: 250,
  qmreboot: 300,
  qmclone: 300,
  qmsnapshot: 200,
  qmdestroy: 200,
};

export async function startPlatformSim(options: SimOptions = {}): Promise<PlatformSim> {
  const { cert, key, caCertPath } = testCertificates();
  const sim = await startSimulator({
    clock: new SystemClock(),
    tls: { cert, key },
    tokens: [SIM_TOKEN],
    seed: options.seed,
    taskDurations: { ...SHORT_TASKS, ...options.taskDurations },
    lockWaitMs: options.lockWaitMs ?? 200,
  });
  return {
    sim,
    clusterConfig: {
      name: 'lab',
      host: '127.0.0.1',
      port: sim.port,
      auth: { type: 'token', tokenId: SIM_TOKEN.tokenid, secret: SIM_TOKEN.secret },
      tls: { caFile: caCertPath },
      taskPollMs: 100,
      timeoutMs: 5_000,
    },
    stop: () => sim.stop(),
  };
}

/** The config of a runtime under test: the simulated cluster, a 1 s sync, the rest as given. */
export function stackConfig(clusterConfig: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    clusters: [clusterConfig],
    loops: { syncIntervalSeconds: 1, monitorIntervalSeconds: 1, healthIntervalSeconds: 30 },
    execution: { perNodeConcurrency: 2, taskTimeoutSeconds: 30 },
    ...extra,
  };
}

export interface Stack extends PlatformSim {
  dir: string;
  dbPath: string;
  log: ReturnType<typeof createMemoryLog>;
  store: StateStore;
  platforms: Map<string, ProxmoxPlatform>;
  overseer: Overseer;
  submit(submission: Omit<Submission, 'requester'> & { requester?: Submission['requester'] }): Promise<SubmitResult>;
  /** Polls the store until the request ended (bounded); returns its record. */
  settled(id: string, timeoutMs?: number): Promise<RequestRecord>;
  /** One sync of every cluster, as the sync loop runs it; a failed sync comes back as its reports. */
  sync(): Promise<readonly ClusterSyncReport[]>;
  /** VM actor key → state name. */
  vmStates(): Record<string, string>;
  /** How many times the simulator accepted `op` on `vmid` (oplog entries with result 'started'). */
  started(op: string, vmid: number): number;
  stop(): Promise<void>;
}

export interface StackOptions extends SimOptions {
  /** Extra top-level config keys (gate, execution, ...). */
  config?: Record<string, unknown> | undefined;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const platformSim = await startPlatformSim(options);
  const dir = mkdtempSync(join(tmpdir(), 'overseer-platform-'));
  const dbPath = join(dir, 'overseer.db');
  const clock = new SystemClock();
  const log = createMemoryLog(clock);
  const config = parseConfig(stackConfig(platformSim.clusterConfig, options.config));
  const store = StateStore.open(dbPath);
  const platforms = platformsFromConfig(config.clusters, { clock, log });
  const overseer = new Overseer({ clock, log, config, store, platforms });
  overseer.start();
  const { sim } = platformSim;

  const stack: Stack = {
    ...platformSim,
    dir,
    dbPath,
    log,
    store,
    platforms,
    overseer,
    submit: (s) => overseer.submit({ requester: ADMIN, ...s }),
    async settled(id, timeoutMs = 15_000) {
      let record: RequestRecord | undefined;
      await until(
        () => {
          record = store.requests.get(id);
          return record !== undefined && TERMINAL_REQUEST_STATUSES.has(record.status);
        },
        timeoutMs,
        () => `request ${id} to end (it is ${record?.status ?? 'not recorded'})`,
      );
      return record!;
    },
    async sync() {
      try {
        await overseer.syncAll();
      } catch {
        // the reports say what failed
      }
      return overseer.lastSyncReports;
    },
    vmStates: () => Object.fromEntries([...overseer.vms.entries()].map(([k, a]) => [k, String(a.getSnapshot().value)])),
    started: (op, vmid) => sim.oplog.filter((e) => e.op === op && e.vmid === vmid && e.result === 'started').length,
    async stop() {
      overseer.stop();
      store.close();
      await closePlatforms(platforms.values());
      await platformSim.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // The first sync cycle runs at start; wait until it brought the VM actors in.
  await until(
    () => overseer.vms.size >= sim.state.vms.size,
    10_000,
    () => 'the first sync',
  );
  return stack;
}

/** Polls `done` every 20 ms until it holds; throws naming what was awaited after `timeoutMs`. */
export async function until(done: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Writes the config file a child Overseer process reads. */
export function writeConfig(dir: string, clusterConfig: Record<string, unknown>): string {
  const path = join(dir, 'overseer.json');
  writeFileSync(path, JSON.stringify(stackConfig(clusterConfig)));
  return path;
}
