// State sync benchmark: ONE full sync of a fleet on 20 nodes (1k, 10k, 100k VMs) through the Proxmox adapter
// (proxmox-api over HTTP on 127.0.0.1) against the PVE simulator running in a child process (bench/sim-server.ts),
// so the CPU measured is Overseer's alone:
//   (a) first sync: every VM and host actor created and persisted;
//   (b) steady state: a sync when nothing changed (median of several cycles);
// CPU time (process.cpuUsage delta) and wall time of each, RSS per VM once the fleet is tracked, and the
// baseline measured in the same run: a raw fetch + JSON.parse of the same /cluster/resources answer.
// Run: node --expose-gc --import tsx bench/sync.ts [1000,10000[,100000]]
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseConfig } from '../actors/config';
import { Overseer } from '../actors/overseer';
import { platformsFromConfig } from '../actors/platforms';
import { SystemClock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import { closePlatforms } from '../adapters/proxmox';
import { StateStore } from '../state';

const NODES = 20;
const STEADY_CYCLES = 7;
const BASELINE_RUNS = 7;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc --import tsx bench/sync.ts');
const settle = () => {
  gc();
  gc();
};
const quietLog: Log = { stateChange() {}, info() {}, warn() {}, error() {} };

interface Sample {
  cpuMs: number;
  wallMs: number;
}

async function measure(work: () => Promise<unknown>): Promise<Sample> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await work();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { cpuMs: (cpu.user + cpu.system) / 1000, wallMs };
}

function median(samples: Sample[]): Sample {
  const mid = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)] ?? Number.NaN;
  };
  return { cpuMs: mid(samples.map((s) => s.cpuMs)), wallMs: mid(samples.map((s) => s.wallMs)) };
}

async function startSimProcess(
  vms: number,
  secret: string,
): Promise<{ proc: ChildProcess; port: number; tokenId: string }> {
  const proc = spawn(
    process.execPath,
    [
      '--max-old-space-size=8192',
      '--import',
      'tsx',
      join(import.meta.dirname, 'sim-server.ts'),
      String(vms),
      String(NODES),
      secret,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const ready = await new Promise<{ port: number; tokenId: string }>((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout! });
    lines.on('line', (line) => {
      if (line.startsWith('READY ')) resolve(JSON.parse(line.slice('READY '.length)));
    });
    proc.once('exit', (code) => reject(new Error(`sim-server exited with ${code}`)));
  });
  return { proc, ...ready };
}

async function bench(vms: number) {
  const secret = randomUUID();
  const sim = await startSimProcess(vms, secret);
  const dir = mkdtempSync(join(tmpdir(), 'overseer-bench-sync-'));
  try {
    // Baseline: what the answer alone costs to fetch and parse.
    const url = `http://127.0.0.1:${sim.port}/api2/json/cluster/resources`;
    const headers = { Authorization: `PVEAPIToken=${sim.tokenId}=${secret}` };
    const rawFetch = async () => {
      const res = await fetch(url, { headers });
      const body = (await res.json()) as { data: unknown[] };
      if (!Array.isArray(body.data) || body.data.length < vms) throw new Error('unexpected /cluster/resources answer');
      return body.data.length;
    };
    await rawFetch();
    const baseline: Sample[] = [];
    for (let i = 0; i < BASELINE_RUNS; i++) baseline.push(await measure(rawFetch));
    const raw = median(baseline);

    const clock = new SystemClock();
    const config = parseConfig({
      clusters: [
        {
          name: 'bench',
          host: '127.0.0.1',
          port: sim.port,
          protocol: 'http',
          auth: { type: 'token', tokenId: sim.tokenId, secret },
          timeoutMs: 300_000,
        },
      ],
    });
    const platforms = platformsFromConfig(config.clusters, { clock, log: quietLog });
    // Warm the adapter's code paths and its connection with a small call before anything is measured.
    await platforms.get('bench')?.nextId();
    settle();
    const rssBefore = process.memoryUsage().rss;
    const heapBefore = process.memoryUsage().heapUsed;

    const store = StateStore.open(join(dir, 'overseer.db'));
    const overseer = new Overseer({ clock, log: quietLog, config, store, platforms });
    const first = await measure(() => overseer.syncAll());
    if (overseer.vms.size !== vms) throw new Error(`first sync tracked ${overseer.vms.size} of ${vms} VMs`);
    settle();
    const mem = process.memoryUsage();

    const steadySamples: Sample[] = [];
    for (let i = 0; i < STEADY_CYCLES; i++) {
      steadySamples.push(await measure(() => overseer.syncAll()));
      const report = overseer.lastSyncReports[0];
      if (!report?.ok || report.created !== 0 || report.changed !== 0 || report.missing !== 0) {
        throw new Error(`steady-state sync changed something: ${JSON.stringify(report)}`);
      }
    }
    const steady = median(steadySamples);
    overseer.stop();
    store.close();
    await closePlatforms(platforms.values());
    return {
      vms,
      raw,
      first,
      steady,
      rssPerVm: (mem.rss - rssBefore) / vms,
      heapPerVm: (mem.heapUsed - heapBefore) / vms,
      rss: mem.rss,
    };
  } finally {
    sim.proc.stdin?.end();
    await new Promise((r) => sim.proc.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

const sizes = (process.argv[2] ?? '1000,10000').split(',').map(Number);
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const results: Awaited<ReturnType<typeof bench>>[] = [];
for (const n of sizes) results.push(await bench(n));

console.log(`Command: node --expose-gc --import tsx bench/sync.ts ${sizes.join(',')}`);
console.log(
  `(${NODES} nodes; simulator in a child process over HTTP on 127.0.0.1; steady state = median of ${STEADY_CYCLES} cycles, ` +
    `raw = median of ${BASELINE_RUNS} fetch + JSON.parse of /cluster/resources; Node ${process.version})`,
);
console.log('');
console.log(
  '| VMs | raw fetch+parse CPU / wall | first sync CPU / wall | steady sync CPU / wall | steady ÷ raw (CPU / wall) | RSS per VM (heap) | RSS total |',
);
console.log('|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(
    `| ${r.vms.toLocaleString('en')} | ${ms(r.raw.cpuMs)} / ${ms(r.raw.wallMs)} ms | ${ms(r.first.cpuMs)} / ${ms(r.first.wallMs)} ms | ` +
      `${ms(r.steady.cpuMs)} / ${ms(r.steady.wallMs)} ms | ${(r.steady.cpuMs / r.raw.cpuMs).toFixed(1)}× / ${(r.steady.wallMs / r.raw.wallMs).toFixed(1)}× | ` +
      `${(r.rssPerVm / 1024).toFixed(1)} KiB (${(r.heapPerVm / 1024).toFixed(1)} KiB) | ${(r.rss / 1024 ** 2).toFixed(0)} MiB |`,
  );
}
console.log('');
const at = (n: number) => results.find((r) => r.vms === n);
const tenK = at(10_000);
const hundredK = at(100_000);
console.log('Targets (issue 6):');
console.log(
  `- 10k VMs under 100 ms CPU per steady-state cycle: ${tenK ? `${ms(tenK.steady.cpuMs)} ms → ${tenK.steady.cpuMs < 100 ? 'met' : 'NOT met'}` : 'not measured (add 10000)'}`,
);
console.log(
  `- 100k VMs tracked in under 1.5 GB RSS: ${hundredK ? `${(hundredK.rss / 1024 ** 3).toFixed(2)} GiB → ${hundredK.rss < 1.5 * 1024 ** 3 ? 'met' : 'NOT met'}` : 'not measured (add 100000)'}`,
);
