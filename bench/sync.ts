// State sync benchmark: ONE full sync of a fleet on 20 nodes (1k, 10k, 100k VMs) through the Proxmox adapter
// (proxmox-api over HTTP on 127.0.0.1) against the PVE simulator running in a child process (bench/sim-server.ts),
// so the CPU measured is Overseer's alone:
//   (a) first sync: every VM and host actor created and persisted;
//   (b) steady state: a sync when nothing changed (median of several cycles);
// CPU time (process.cpuUsage delta) and wall time of each, RSS per VM once the fleet is tracked, and the
// baseline measured in the same run: a raw fetch + JSON.parse of the same /cluster/resources answer.
// Run: node --expose-gc --import tsx bench/sync.ts [1000,10000[,100000]]
// SYNC_PROFILE=<dir>: also writes a CPU profile of the first sync and of the steady cycles of each size there
// (<dir>/sync-<vms>-first.cpuprofile, …-steady.cpuprofile; open in Chrome DevTools).
// SYNC_HEAP_SNAPSHOT=<dir>: writes a heap snapshot once the fleet is tracked (<dir>/sync-<vms>.heapsnapshot).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import { parseConfig } from '../actors/config';
import { Overseer } from '../actors/overseer';
import { platformsFromConfig } from '../actors/platforms';
import { SystemClock } from '../adapters/clock';
import { closePlatforms } from '../adapters/proxmox';
import { StateStore } from '../state';
import { quietLog } from './offline-runtime';
import { startSimProcess } from './sim-process';
import { reportTarget } from './targets';

const NODES = 20;
const STEADY_CYCLES = 7;
const BASELINE_RUNS = 7;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc --import tsx bench/sync.ts');
const settle = () => {
  gc();
  gc();
};

interface Sample {
  cpuMs: number;
  wallMs: number;
  /** Event-loop delay during the work (perf_hooks.monitorEventLoopDelay, 1 ms resolution): p99 and max, ms. */
  delayP99Ms: number;
  delayMaxMs: number;
}

/** Lets whatever the work left queued (deferred writes, later slices) run inside the measurement. */
const drain = () => new Promise((r) => setTimeout(r, 5));

async function measure(work: () => Promise<unknown>): Promise<Sample> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await work();
  await drain();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  delay.disable();
  return {
    cpuMs: (cpu.user + cpu.system) / 1000,
    wallMs,
    delayP99Ms: delay.percentile(99) / 1e6,
    delayMaxMs: delay.max / 1e6,
  };
}

function median(samples: Sample[]): Sample {
  const mid = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)] ?? Number.NaN;
  };
  return {
    cpuMs: mid(samples.map((s) => s.cpuMs)),
    wallMs: mid(samples.map((s) => s.wallMs)),
    delayP99Ms: mid(samples.map((s) => s.delayP99Ms)),
    delayMaxMs: mid(samples.map((s) => s.delayMaxMs)),
  };
}

const profileDir = process.env.SYNC_PROFILE;
const heapDir = process.env.SYNC_HEAP_SNAPSHOT;
const inspector = profileDir ? new Session() : undefined;
if (inspector) {
  inspector.connect();
  await inspector.post('Profiler.enable');
}

/** Profiles `work` into <SYNC_PROFILE>/<name>.cpuprofile when SYNC_PROFILE is set. */
async function profiled<T>(name: string, work: () => Promise<T>): Promise<T> {
  if (!inspector || !profileDir) return work();
  await inspector.post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = await inspector.post('Profiler.stop');
    writeFileSync(join(profileDir, `${name}.cpuprofile`), JSON.stringify(profile));
  }
}

async function bench(vms: number) {
  const secret = randomUUID();
  const sim = await startSimProcess(vms, NODES, secret);
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
    const first = await profiled(`sync-${vms}-first`, () => measure(() => overseer.syncAll()));
    if (overseer.vms.size !== vms) throw new Error(`first sync tracked ${overseer.vms.size} of ${vms} VMs`);
    settle();
    const mem = process.memoryUsage();
    if (heapDir) writeHeapSnapshot(join(heapDir, `sync-${vms}.heapsnapshot`));

    const steadySamples: Sample[] = [];
    await profiled(`sync-${vms}-steady`, async () => {
      for (let i = 0; i < STEADY_CYCLES; i++) {
        steadySamples.push(await measure(() => overseer.syncAll()));
        const report = overseer.lastSyncReports[0];
        if (!report?.ok || report.created !== 0 || report.changed !== 0 || report.missing !== 0) {
          throw new Error(`steady-state sync changed something: ${JSON.stringify(report)}`);
        }
      }
    });
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
    await sim.stop();
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
    `raw = median of ${BASELINE_RUNS} fetch + JSON.parse of /cluster/resources; event-loop delay = ` +
    `perf_hooks.monitorEventLoopDelay at 1 ms resolution during the work; Node ${process.version})`,
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
console.log('| VMs | event-loop delay p99 / max: raw fetch+parse | first sync | steady sync |');
console.log('|---|---|---|---|');
for (const r of results) {
  const d = (s: Sample) => `${ms(s.delayP99Ms)} / ${ms(s.delayMaxMs)} ms`;
  console.log(`| ${r.vms.toLocaleString('en')} | ${d(r.raw)} | ${d(r.first)} | ${d(r.steady)} |`);
}
console.log('');
const at = (n: number) => results.find((r) => r.vms === n);
const tenK = at(10_000);
const hundredK = at(100_000);
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
console.log('Targets (issue 14):');
console.log(
  `- event-loop delay p99 during a 10k-VM sync ≤ 20 ms: ${tenK ? `steady ${ms(tenK.steady.delayP99Ms)} ms → ${verdict(tenK.steady.delayP99Ms <= 20)}; first sync ${ms(tenK.first.delayP99Ms)} ms` : 'not measured (add 10000)'}`,
);
console.log(
  `- steady sync CPU of 100k VMs ≤ 2× raw fetch + JSON.parse: ${hundredK ? `${(hundredK.steady.cpuMs / hundredK.raw.cpuMs).toFixed(2)}× → ${verdict(hundredK.steady.cpuMs <= 2 * hundredK.raw.cpuMs)}` : 'not measured (add 100000)'}`,
);
console.log(
  `- 100k VMs tracked in ≤ 600 MiB RSS: ${hundredK ? `${(hundredK.rss / 1024 ** 2).toFixed(0)} MiB → ${verdict(hundredK.rss <= 600 * 1024 ** 2)}` : 'not measured (add 100000)'}`,
);
const command = `node --expose-gc --import tsx bench/sync.ts ${process.argv[2] ?? ''}`.trim();
if (tenK) {
  reportTarget({
    row: 'syncLoopDelay',
    value: `steady ${ms(tenK.steady.delayP99Ms)} ms, first sync ${ms(tenK.first.delayP99Ms)} ms`,
    baseline: `raw fetch + JSON.parse of the same answer ${ms(tenK.raw.delayP99Ms)} ms`,
    result: `${ms(tenK.steady.delayP99Ms)} ms steady (first sync ${ms(tenK.first.delayP99Ms)} ms)`,
    target: '≤ 20 ms',
    met: tenK.steady.delayP99Ms <= 20 && tenK.first.delayP99Ms <= 20,
    command,
  });
}
if (hundredK) {
  reportTarget({
    row: 'syncCpu',
    value: `${ms(hundredK.steady.cpuMs)} ms CPU per steady sync`,
    baseline: `raw fetch + JSON.parse ${ms(hundredK.raw.cpuMs)} ms CPU`,
    result: `${(hundredK.steady.cpuMs / hundredK.raw.cpuMs).toFixed(2)}×`,
    target: '≤ 2×',
    met: hundredK.steady.cpuMs <= 2 * hundredK.raw.cpuMs,
    command,
  });
  reportTarget({
    row: 'memory',
    value: `${(hundredK.rss / 1024 ** 2).toFixed(0)} MiB RSS`,
    baseline: '— (absolute)',
    result: `${(hundredK.rss / 1024 ** 2).toFixed(0)} MiB`,
    target: '≤ 600 MiB',
    met: hundredK.rss <= 600 * 1024 ** 2,
    command,
  });
}
