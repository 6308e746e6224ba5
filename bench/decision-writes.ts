// What a gated decision writes to SQLite, without the gateway, NATS or the network: the Overseer runtime on SQLite
// with a 10k-VM fleet observed (bench/fleet.ts), denied `destroy` decisions of its production VMs through
// `overseer.submit()` — one at a time (each its own group commit) and in bursts of <burst> submitted together (one
// commit for the burst, as under load). Per decision: CPU time (process.cpuUsage, user and system) and the pages
// written to the WAL (checkpoints off while measured, so the WAL grows by exactly what the commits write). Then one
// denied decision alone, its WAL frames named by the b-tree (table or index) each page belongs to (SQLite's
// dbstat), which is what a commit costs: every page is a frame of its own, written with two pwrite() calls. The pages do not vary run to run; the CPU does on a shared machine.
// Run: node --import tsx bench/decision-writes.ts [decisions=2000] [burst=10]
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Requester } from '../machines/types';
import { StateStore } from '../state';
import { largeInventory } from './fleet';
import { offlineOverseer } from './offline-runtime';

const decisions = Number(process.argv[2] ?? 2000);
const burst = Number(process.argv[3] ?? 10);
if (!(decisions > 0) || !(burst >= 1)) throw new Error('usage: bench/decision-writes.ts [decisions] [burst ≥ 1]');
const bench: Requester = { id: 'bench', role: 'admin' };
const FRAME_HEADER = 24;
const WAL_HEADER = 32;

const dir = mkdtempSync(join(tmpdir(), 'overseer-bench-decision-writes-'));
const walFile = join(dir, 'overseer.db-wal');
const store = StateStore.open(join(dir, 'overseer.db'));
const overseer = offlineOverseer(store, () => {});
const fleet = largeInventory(10_000, 20, Date.now());
overseer.observe(fleet);
const production = fleet.vms.filter((vm) => vm.tags.includes('production')).map((vm) => vm.vmid);
const pageSize = Number(store.db.pragma('page_size', { simple: true }));
const walBytes = () => {
  try {
    return statSync(walFile).size;
  } catch {
    return 0;
  }
};
/** Empties the WAL into the database and stops automatic checkpoints: what follows grows the WAL by its writes. */
const freshWal = () => {
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  store.db.pragma('wal_autocheckpoint = 0');
};

let n = 0;
const deny = async () => {
  const vmid = production[n++ % production.length] as number;
  const result = await overseer.submit({ action: 'destroy', target: { cluster: 'big', vmid }, requester: bench });
  if (result.decision !== 'denied') throw new Error(`destroy of big/${vmid} was ${result.decision}`);
};

async function measure(size: number): Promise<{ cpuUs: number; pages: number }> {
  freshWal();
  const w0 = walBytes();
  const c0 = process.cpuUsage();
  for (let i = 0; i < decisions; i += size) await Promise.all(Array.from({ length: size }, deny));
  const c = process.cpuUsage(c0);
  return { cpuUs: (c.user + c.system) / decisions, pages: (walBytes() - w0) / (pageSize + FRAME_HEADER) / decisions };
}

/** The WAL frames one decision's commit wrote, counted by the b-tree their page belongs to. */
async function framesOf(decide: () => Promise<unknown>): Promise<string> {
  const owner = new Map<number, string>();
  for (const row of store.db.prepare('SELECT name, pageno FROM dbstat').all() as { name: string; pageno: number }[]) {
    owner.set(row.pageno, row.name);
  }
  freshWal();
  await decide();
  const wal = readFileSync(walFile);
  const counts = new Map<string, number>();
  for (let at = WAL_HEADER; at + FRAME_HEADER <= wal.length; at += FRAME_HEADER + pageSize) {
    const page = wal.readUInt32BE(at);
    const name = page === 1 ? 'page 1 (header, sqlite_schema)' : (owner.get(page) ?? 'new page');
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return `${total} pages: ${[...counts]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([name, count]) => `${name} ${count}`)
    .join(', ')}`;
}

try {
  // Warm-up (not measured).
  for (let i = 0; i < 500; i++) await deny();
  const rows: string[] = [];
  for (const size of [1, burst, 1, burst]) {
    const { cpuUs, pages } = await measure(size);
    rows.push(`| ${size === 1 ? 'one at a time' : `bursts of ${size}`} | ${cpuUs.toFixed(0)} | ${pages.toFixed(2)} |`);
  }
  const denied = await framesOf(deny);
  console.log(`Command: node --import tsx bench/decision-writes.ts ${decisions} ${burst}`);
  console.log(
    `(${decisions} denied decisions per row, 10,000 VMs observed, ${pageSize}-byte pages; Node ${process.version})`,
  );
  console.log('');
  console.log('| decisions | CPU µs per decision | WAL pages per decision |');
  console.log('|---|---:|---:|');
  for (const row of rows) console.log(row);
  console.log('');
  console.log(`One denied decision's commit: ${denied}`);
} finally {
  overseer.stop();
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
