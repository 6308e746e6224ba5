// Actor runtime benchmark: how fast the runtime creates VM actors (from a sync), restores them from SQLite,
// and how much heap one VM actor costs — for 10k and 100k VMs. Baseline in the same run: bare XState actors of
// a one-state machine (createActor + start, no persistence).
// Run: node --expose-gc --import tsx bench/actors.ts [10000,100000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createActor, createMachine } from 'xstate';
import { parseConfig } from '../actors/config';
import { Overseer } from '../actors/overseer';
import { SystemClock } from '../adapters/clock';
import { StateStore } from '../state';
import { largeInventory } from './fleet';
import { quietLog } from './offline-runtime';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

function baseline(n: number) {
  const machine = createMachine({ id: 'bare', initial: 'on', states: { on: {} } });
  const before = heap();
  const t0 = performance.now();
  const actors = Array.from({ length: n }, () => createActor(machine).start());
  const ms = performance.now() - t0;
  const bytes = (heap() - before) / n;
  for (const a of actors) a.stop();
  return { perSecond: n / (ms / 1000), bytes };
}

function runtime(n: number) {
  const dir = mkdtempSync(join(tmpdir(), 'overseer-bench-'));
  const dbPath = join(dir, 'bench.db');
  const deps = { clock: new SystemClock(), log: quietLog, config: parseConfig({}), platforms: new Map() };
  const inventory = largeInventory(n, 20, Date.now());
  let store = StateStore.open(dbPath);
  let overseer = new Overseer({ ...deps, store });
  const before = heap();
  let t0 = performance.now();
  overseer.observe(inventory);
  const createMs = performance.now() - t0;
  const bytes = (heap() - before) / n;
  overseer.stop();
  store.close();

  store = StateStore.open(dbPath);
  overseer = new Overseer({ ...deps, store });
  t0 = performance.now();
  const restored = overseer.restore();
  const restoreMs = performance.now() - t0;
  if (restored.vms !== n) throw new Error(`restored ${restored.vms} of ${n}`);
  overseer.stop();
  store.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    createPerSecond: n / (createMs / 1000),
    restorePerSecond: n / (restoreMs / 1000),
    bytes,
    createMs,
    restoreMs,
  };
}

const sizes = (process.argv[2] ?? '10000,100000').split(',').map(Number);
const rows: string[] = [];
for (const n of sizes) {
  const base = baseline(n);
  const rt = runtime(n);
  rows.push(
    `| ${n.toLocaleString('en')} | ${Math.round(rt.createPerSecond).toLocaleString('en')}/s (${(rt.createPerSecond / base.perSecond).toFixed(3)}× bare) | ` +
      `${Math.round(rt.restorePerSecond).toLocaleString('en')}/s (${(rt.restorePerSecond / base.perSecond).toFixed(3)}× bare) | ` +
      `${(rt.bytes / 1024).toFixed(1)} KiB (${(rt.bytes / base.bytes).toFixed(1)}× bare ${(base.bytes / 1024).toFixed(1)} KiB) |`,
  );
}
console.log('| VM actors | created (sync, persisted) | restored from SQLite | heap per VM actor |');
console.log('|---|---|---|---|');
for (const r of rows) console.log(r);
