// What one change of every VM costs the runtime, without NATS or the network: <vms> VM actors (bench/fleet.ts) whose
// status flips all running ↔ all stopped through `overseer.observe()` (the sync's own path: the VM actors, their
// snapshots in one group commit per slice, an `unexpected-stop` issue and its audit row per running → stopped), events
// to a sink that counts them. Per flip: CPU time (process.cpuUsage) and the pages written to SQLite's WAL (checkpoints
// off during the flips, so the WAL file grows by exactly what the flips write). Medians by direction, since a flip to
// stopped does more (the issues) than one back to running. The CPU varies run to run on a shared machine; the pages
// do not: they are the figure to compare between two trees (bench/README.md, session 7).
// Run: node --import tsx bench/vm-flips.ts [vms=10000] [flips=20]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Inventory } from '../adapters/platform/types';
import { StateStore } from '../state';
import { largeInventory } from './fleet';
import { offlineOverseer } from './offline-runtime';

const vms = Number(process.argv[2] ?? 10_000);
const flips = Number(process.argv[3] ?? 20);
if (!(vms > 0) || !(flips >= 2)) throw new Error('usage: bench/vm-flips.ts [vms] [flips ≥ 2]');
const dir = mkdtempSync(join(tmpdir(), 'overseer-bench-vm-flips-'));
const store = StateStore.open(join(dir, 'overseer.db'));
let events = 0;
const overseer = offlineOverseer(store, () => void events++);
const base = largeInventory(vms, 20, Date.now());
const inventory = (status: 'running' | 'stopped'): Inventory => ({
  ...base,
  fetchedAt: Date.now(),
  vms: base.vms.map((vm) => ({ ...vm, status, uptime: status === 'running' ? 1000 : 0 })),
});
const walBytes = () => {
  try {
    return statSync(join(dir, 'overseer.db-wal')).size;
  } catch {
    return 0;
  }
};

try {
  // Warm-up (not measured): the actors are created, then one flip each way.
  for (const status of ['running', 'stopped', 'running'] as const) overseer.observe(inventory(status));
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  store.db.pragma('wal_autocheckpoint = 0');
  const pageSize = Number(store.db.pragma('page_size', { simple: true }));
  const toStopped: number[] = [];
  const toRunning: number[] = [];
  const walStart = walBytes();
  events = 0;
  for (let i = 0; i < flips; i++) {
    const next = inventory(i % 2 === 0 ? 'stopped' : 'running');
    const c0 = process.cpuUsage();
    overseer.observe(next);
    const c = process.cpuUsage(c0);
    (i % 2 === 0 ? toStopped : toRunning).push((c.user + c.system) / 1000);
  }
  // A WAL frame is a 24-byte header and one page.
  const pages = (walBytes() - walStart) / (pageSize + 24) / flips;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  console.log(`Command: node --import tsx bench/vm-flips.ts ${vms} ${flips}`);
  console.log(
    `(${vms.toLocaleString('en')} VM actors, ${flips} flips after a warm-up, ${events} events; Node ${process.version})`,
  );
  console.log('');
  console.log('| per flip | running → stopped | stopped → running |');
  console.log('|---|---:|---:|');
  console.log(`| CPU, median (ms) | ${median(toStopped).toFixed(0)} | ${median(toRunning).toFixed(0)} |`);
  console.log(`| WAL pages, all flips' mean | ${pages.toFixed(0)} | |`);
} finally {
  overseer.stop();
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
