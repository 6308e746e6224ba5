// What waiting for the record costs a decision (issue 15). A submission's answer leaves once its request is in the
// record: the decision's commit, then the shipper's compare-and-set put on a three-server NATS cluster (R3) and the
// audit batch. Measured with overseer.submit() (no gateway, no NATS request hop), a request the gate denies
// (`start` of a VMID the cluster does not have: no platform call), against the PVE simulator's demo cluster.
//   baseline — the single-core Overseer on its own SQLite file (no record);
//   runtime  — a cluster runtime (actors/cluster-runtime.ts): same Overseer, its record shipped to the cluster.
// Each phase: `n` submissions one after the other (latency p50/p99), then `n` with 32 in flight (throughput; the
// shipper's rounds coalesce the waiting answers).
// Run: node --import tsx bench/cluster-runtime.ts [n=400] [runs=3]
// CRT_PROFILE=<dir>: a CPU profile of the runtime phases of the first run (<dir>/cluster-runtime.cpuprofile).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { startClusterRuntime } from '../actors/cluster-runtime';
import { parseConfig } from '../actors/config';
import { Overseer } from '../actors/overseer';
import { exportToken, recordRows } from '../actors/record-entities';
import { SystemClock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import { JetStreamRecordStore } from '../adapters/nats/record-store';
import { createProxmoxPlatform } from '../adapters/proxmox';
import { demoSeed, startSimulator } from '../adapters/pve-sim';
import type { Requester } from '../machines/types';
import { StateStore } from '../state';
import { startNatsCluster } from '../tests/helpers/nats-cluster';

const TOKEN = { tokenid: 'root@pam!bench', secret: '7b1e3f0a-7b2c-4c9e-9a51-0f6e2b8d4c33' };
const IN_FLIGHT = 32;
const quiet: Log = { stateChange() {}, info() {}, warn() {}, error() {} };
const clock = new SystemClock();
const config = parseConfig({
  loops: { syncIntervalSeconds: 3600, monitorIntervalSeconds: 3600, healthIntervalSeconds: 3600 },
});
const bench: Requester = { id: 'bench', role: 'admin' };

const n = Number(process.argv[2] ?? 400);
const runs = Number(process.argv[3] ?? 3);
const profileDir = process.env.CRT_PROFILE;

type Submit = () => Promise<unknown>;
interface Figures {
  p50: number;
  p99: number;
  perSecond: number;
}

interface Run {
  base: Figures;
  rt: Figures;
  /** One bare compare-and-set put of the record (a token value), one after the other: what R3 costs at least. */
  put: { p50: number; p99: number };
}

const quantile = (sorted: number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function probe(submit: Submit): Promise<Figures> {
  for (let i = 0; i < 20; i++) await submit();
  const latencies: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await submit();
    latencies.push(performance.now() - t0);
  }
  latencies.sort((a, b) => a - b);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next++ < n) await submit();
    }),
  );
  const perSecond = n / ((performance.now() - t0) / 1000);
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), perSecond };
}

const denied = (overseer: Overseer): Submit => {
  let vmid = 5000;
  return () => overseer.submit({ action: 'start', target: { cluster: 'lab', vmid: vmid++ }, requester: bench });
};

async function once(first: boolean, nats: Awaited<ReturnType<typeof startNatsCluster>>, ns: string): Promise<Run> {
  const sim = await startSimulator({ clock, seed: demoSeed(), tls: false, tokens: [TOKEN] });
  const dir = mkdtempSync(join(tmpdir(), 'overseer-bench-crt-'));
  const platform = () =>
    createProxmoxPlatform(
      {
        name: 'lab',
        host: '127.0.0.1',
        port: sim.port,
        protocol: 'http',
        auth: { type: 'token', tokenId: TOKEN.tokenid, secret: TOKEN.secret },
      },
      { clock, log: quiet },
    );
  const nc = await connect({ servers: nats.urls });
  try {
    // Baseline: the single core.
    const store = StateStore.open(join(dir, 'overseer.db'));
    const basePlatform = platform();
    const overseer = new Overseer({ clock, log: quiet, config, store, platforms: new Map([['lab', basePlatform]]) });
    await overseer.syncAll();
    overseer.start();
    const base = await probe(denied(overseer));
    overseer.stop();
    store.close();
    await basePlatform.close();

    // The cluster runtime, its record on the three servers.
    const records = await JetStreamRecordStore.open(nc, { namespace: ns, replicas: 3 });
    const rtPlatform = platform();
    const runtime = await startClusterRuntime({
      cluster: 'lab',
      platform: rtPlatform,
      dataDir: dir,
      core: 'bench',
      records,
      fence: () => {},
      config,
      clock,
      log: quiet,
    });
    const session = first && profileDir ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    const rt = await probe(denied(runtime.overseer));
    if (session && profileDir) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(join(profileDir, 'cluster-runtime.cpuprofile'), JSON.stringify(profile));
      session.disconnect();
    }
    const shipped = runtime.shipping();
    if (shipped.pendingEntities > 0 || shipped.failures > 0) throw new Error(`shipper: ${JSON.stringify(shipped)}`);
    // The bare put, on a token of the runtime's store (exported as the shipper does).
    const { record: token } = runtime.store.tokens.create('bench', 'operator', 'bench', clock.now());
    await runtime.replicate();
    const exp = exportToken(runtime.store, token.id);
    let revision = recordRows(runtime.store).mark(exp.key)?.revision ?? 0;
    const puts: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      revision = await records.put(exp.key, { ...exp.value, version: exp.value.version + i + 1 }, revision);
      puts.push(performance.now() - t0);
    }
    puts.sort((a, b) => a - b);
    await runtime.stop({ replicate: false });
    await rtPlatform.close();
    return { base, rt, put: { p50: quantile(puts, 0.5), p99: quantile(puts, 0.99) } };
  } finally {
    await nc.close();
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const nats = await startNatsCluster();
  const results: Run[] = [];
  try {
    for (let r = 0; r < runs; r++) results.push(await once(r === 0, nats, `bench${r}`));
  } finally {
    await nats.stopAll();
  }
  const med = (pick: (f: Run) => number) => median(results.map(pick));
  const row = (what: string, base: number, rt: number, unit: string) =>
    console.log(
      `${what.padEnd(30)} ${base.toFixed(2).padStart(9)} ${rt.toFixed(2).padStart(9)} ${unit.padEnd(6)} ${(rt / base).toFixed(2)}×`,
    );
  console.log(`node --import tsx bench/cluster-runtime.ts ${n} ${runs}   (medians of ${runs} runs)`);
  console.log(`${''.padEnd(30)} ${'single'.padStart(9)} ${'runtime'.padStart(9)}        runtime/single`);
  row(
    'decision p50 (one at a time)',
    med((f) => f.base.p50),
    med((f) => f.rt.p50),
    'ms',
  );
  row(
    'decision p99 (one at a time)',
    med((f) => f.base.p99),
    med((f) => f.rt.p99),
    'ms',
  );
  row(
    `decisions/s (${IN_FLIGHT} in flight)`,
    med((f) => f.base.perSecond),
    med((f) => f.rt.perSecond),
    '/s',
  );
  console.log(
    `bare record put (R3): p50 ${med((f) => f.put.p50).toFixed(2)} ms, p99 ${med((f) => f.put.p99).toFixed(2)} ms`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
