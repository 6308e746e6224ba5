// The monitor's cycle over a large fleet: its CPU, and the longest stretch it keeps the event loop from anything else
// (a chain of immediates, each noting the gap since the one before, runs beside the cycle). The runtime on SQLite in a
// temp dir with no platform (bench/offline-runtime.ts): the fleet comes from two `observe()` of the same inventory,
// then `cycles` monitor cycles run one after another (the first, which makes every VM's entry, is reported apart).
// Run: node --import tsx bench/monitor-cycle.ts [vms=100000] [cycles=8]   (not in `npm run bench`: no target of its own)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateStore } from '../state';
import { largeInventory } from './fleet';
import { offlineOverseer } from './offline-runtime';

const vms = Number(process.argv[2] ?? 100_000);
const cycles = Number(process.argv[3] ?? 8);
if (!(vms > 0) || !(cycles > 1)) throw new Error('usage: bench/monitor-cycle.ts [vms] [cycles > 1]');

/** Runs `work` with a chain of immediates beside it: the longest gap between two of them, ms. */
async function longestBlock(work: () => Promise<void>): Promise<number> {
  let longest = 0;
  let last = performance.now();
  let running = true;
  const tick = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  try {
    await work();
  } finally {
    running = false;
  }
  return longest;
}

const dir = mkdtempSync(join(tmpdir(), 'overseer-bench-monitor-'));
const store = StateStore.open(join(dir, 'overseer.db'));
try {
  const overseer = offlineOverseer(store, () => {});
  const inventory = largeInventory(vms, 20, Date.now());
  overseer.observe(inventory);
  overseer.observe({ ...inventory, fetchedAt: Date.now() });
  const rows: { block: number; cpu: number }[] = [];
  for (let c = 0; c < cycles; c++) {
    const cpu = process.cpuUsage();
    const block = await longestBlock(() => overseer.monitor.cycle());
    const used = process.cpuUsage(cpu);
    rows.push({ block, cpu: (used.user + used.system) / 1000 });
    await new Promise((r) => setTimeout(r, 300));
  }
  overseer.stop();
  const [first, ...steady] = rows;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  const f = (n: number | undefined) => (n ?? Number.NaN).toFixed(1);
  console.log(`Command: node --import tsx bench/monitor-cycle.ts ${vms} ${cycles}`);
  console.log(`(${vms.toLocaleString('en')} VMs on 20 nodes, no platform; Node ${process.version})\n`);
  console.log('| cycle | longest block ms | CPU ms |');
  console.log('|---|---:|---:|');
  console.log(`| first | ${f(first?.block)} | ${f(first?.cpu)} |`);
  console.log(
    `| steady (median of ${steady.length}) | ${f(median(steady.map((r) => r.block)))} | ${f(median(steady.map((r) => r.cpu)))} |`,
  );
  console.log(`\nsteady cycles, longest block ms: ${steady.map((r) => f(r.block)).join(' ')}`);
} finally {
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
