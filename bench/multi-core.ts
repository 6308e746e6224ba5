// Issue 15's benchmark: several cores on a NATS cluster (docs/multi-core.md), on the end-to-end setup of
// tests/e2e/multi-core.test.ts (tests/helpers/multi-core-stack.ts): three clustered nats-servers (JetStream R3), two
// simulated Proxmox clusters (220 VMs each, in this process), three cores as child processes (`serve --role all`
// with a `cores` section). Everything on 127.0.0.1.
//
// 1. Handover: SIGKILL the core owning `east`; from the kill to
//    - lease: the new owner's `overseer.evt.lease.east.taken-over|acquired` event arriving on NATS;
//    - first sync: the new owner's first `overseer.evt.loop.sync.synced` for east (the runtime's first inventory
//      read, actors/cluster-runtime.ts readInventory → Overseer.syncAll);
//    - runtime started / serving: the new owner's log lines `cluster east: runtime of core <id> started` and
//      `… owns it and serves it` (their own timestamps; one host, one clock);
//    - first decision: a probe submits a gate-denied request for east through a surviving gateway every 100 ms;
//      the answer time of the first 201 to a probe sent after the kill.
//    Each in ms and as a ratio to the lease time, for leaseSeconds 2 and 5; median over the runs.
// 2. Decision throughput: closed loop, CLIENTS concurrent HTTP requests (undici Pools, keep-alive) for SECONDS, each
//    `POST /v1/requests` a `destroy` of a production VM (tag `db`, gate `production`) without force, so the gate
//    DENIES every one and nothing executes: the decision path alone (gateway → NATS → owner → SQLite → record). Three
//    cores (clients spread over the three gateways, clusters alternating) vs one core (`serve --role all` without
//    `cores`, one nats-server, same config otherwise) measured in the same run (baseline).
//
// Run: node --expose-gc --import tsx bench/multi-core.ts [runs=3]
// Env: BENCH_LEASES=2,5 (lease times measured), BENCH_SECONDS=5, BENCH_CLIENTS=32, BENCH_LOGS=<dir> (the cores' logs
// after each handover).
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import type { LeaseEvent, MultiCoreStack, StackCore } from '../tests/helpers/multi-core-stack';
import { startMultiCoreStack, startSingleCoreStack, until } from '../tests/helpers/multi-core-stack';

const CLUSTERS = ['east', 'west'] as const;
const VMS = 220;
const WARMUP_SECONDS = 1;
const runs = Number(process.argv[2] ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const clients = Number(process.env.BENCH_CLIENTS ?? 32);
const leases = (process.env.BENCH_LEASES ?? '2,5').split(',').map(Number);
if (!(runs >= 1 && seconds > 0 && clients >= 1 && leases.every((l) => l >= 1)))
  throw new Error('usage: bench/multi-core.ts [runs=3]; BENCH_SECONDS>0, BENCH_CLIENTS>=1, BENCH_LEASES=2,5');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc --import tsx bench/multi-core.ts');
const COMMAND = `node --expose-gc --import tsx bench/multi-core.ts ${runs}`;
const STACK = { clusters: CLUSTERS, vms: VMS, extraConfig: { gate: { production: { tags: ['db'] } } } };
// largeSeed: VM 100+i carries the 'db' tag when i % 5 === 1.
const PRODUCTION = Array.from({ length: VMS / 5 }, (_, k) => 100 + 5 * k + 1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const print = (text: string) => process.stdout.write(`${text}\n`);

interface Throughput {
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
  labels: Map<string, number>;
}

interface Handover {
  leaseMs: number;
  victim: string;
  owner: string;
  lease: number;
  sync: number;
  started: number;
  serving: number;
  decision: number;
  /** The first sync's own duration (its report's durationMs): the rest of lease → started is the import. */
  syncDuration: number;
  /** What the new owner imported from the record (its log line). */
  imported: string;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const median = (xs: number[]) => percentile(Float64Array.from(xs).sort(), 50);

function deniedDestroy(i: number): string {
  const cluster = CLUSTERS[i % CLUSTERS.length];
  const vmid = PRODUCTION[Math.floor(i / CLUSTERS.length) % PRODUCTION.length];
  return JSON.stringify({ action: 'destroy', target: `${cluster}/${vmid}` });
}

/** CLIENTS requests always in flight for `forSeconds`, worker k through gateway k mod urls.length. */
async function closedLoop(urls: string[], token: string, forSeconds: number): Promise<Throughput> {
  const perPool = Math.ceil(clients / urls.length);
  const pools = urls.map((url) => new Pool(url, { connections: perPool, pipelining: 1 }));
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  const latencies: number[] = [];
  const labels = new Map<string, number>();
  let errors = 0;
  let n = 0;
  const start = performance.now();
  const end = start + forSeconds * 1000;
  const worker = async (k: number) => {
    const pool = pools[k % pools.length] as Pool;
    while (performance.now() < end) {
      const t0 = performance.now();
      let label: string;
      try {
        const res = await pool.request({ method: 'POST', path: '/v1/requests', headers, body: deniedDestroy(n++) });
        const answer = (await res.body.json().catch(() => ({}))) as { decision?: string };
        label = res.statusCode === 201 ? (answer.decision ?? 'no decision') : `error ${res.statusCode}`;
      } catch (error) {
        label = `error ${(error as Error).name}`;
      }
      latencies.push(performance.now() - t0);
      if (label.startsWith('error')) errors++;
      labels.set(label, (labels.get(label) ?? 0) + 1);
    }
  };
  try {
    await Promise.all(Array.from({ length: clients }, (_, k) => worker(k)));
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
  const wall = performance.now() - start;
  const sorted = Float64Array.from(latencies).sort();
  const ok = latencies.length - errors;
  return {
    requests: ok,
    perSecond: ok / (wall / 1000),
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    errors,
    labels,
  };
}

async function throughput(urls: string[], token: string): Promise<Throughput> {
  await closedLoop(urls, token, WARMUP_SECONDS);
  gc?.();
  return closedLoop(urls, token, seconds);
}

/** The timestamp of the first line of `core`'s log matching `re` written at or after `after` (ms). */
function logLineAt(core: StackCore, re: RegExp, after: number): number | undefined {
  for (const line of core.child.stdout()) {
    if (!re.test(line)) continue;
    const at = Date.parse(line.slice(0, 24));
    if (Number.isFinite(at) && at >= after) return at;
  }
  return undefined;
}

function importedLine(core: StackCore, cluster: string, after: number): string {
  const re = new RegExp(`cluster ${cluster}: (\\d+ entities and \\d+ audit rows)`);
  for (const line of core.child.stdout()) {
    const m = re.exec(line);
    if (m && Date.parse(line.slice(0, 24)) >= after) return m[1] ?? '';
  }
  return '?';
}

/** SIGKILLs east's owner and times the handover (see the header). */
async function handover(stack: MultiCoreStack, leaseSeconds: number): Promise<Handover> {
  const cluster = 'east';
  // Steady state first: every core watches the cluster's lease (a core's READY comes before its lease actors), and
  // then two lease times pass, so presence and renewals are settled when the owner dies.
  await until(`every core watching ${cluster}'s lease`, 60_000, async () =>
    stack.cores.every((c) => c.child.stdout().some((l) => l.includes(`lease:${cluster}: state changed from 'none'`)))
      ? true
      : undefined,
  );
  await sleep(2 * leaseSeconds * 1000);
  // Bounded: a status answered in the middle of a lease renewal may name no owner for a moment.
  const victimId = await until(`${cluster} owned before the kill`, 30_000, async () => (await stack.owners())[cluster]);
  const victim = stack.cores.find((c) => c.id === victimId);
  if (!victim) throw new Error(`no owner of ${cluster} before the kill`);
  const survivor = stack.cores.find((c) => c !== victim && c.alive) as StackCore;
  const synced: LeaseEvent[] = [];
  const unsubscribe = stack.watcher.subscribe('overseer.evt.loop.sync.synced', (subject, payload) => {
    if ((payload as { cluster?: string }).cluster === cluster) synced.push({ subject, at: Date.now(), payload });
  });
  // The probe: a denied request for the cluster every 100 ms through a survivor, each bounded by 5 s.
  let probing = true;
  let answered: number | undefined;
  const probes: Promise<void>[] = [];
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${stack.token}` };
  const body = JSON.stringify({ action: 'destroy', target: `${cluster}/${PRODUCTION[0]}` });
  const killedAt = Date.now();
  victim.child.proc.kill('SIGKILL');
  victim.alive = false;
  const probeLoop = (async () => {
    while (probing) {
      probes.push(
        fetch(`${survivor.url}/v1/requests`, { method: 'POST', headers, body, signal: AbortSignal.timeout(5_000) })
          .then((res) => {
            if (res.status === 201 && answered === undefined) answered = Date.now();
            return res.body?.cancel();
          })
          .catch(() => undefined),
      );
      await sleep(100);
    }
  })();
  try {
    await victim.child.exited;
    const bound = leaseSeconds * 6_000 + 30_000;
    const lease = await until(`${cluster} leased again`, bound, async () =>
      stack.leaseEvents.find(
        (e) =>
          e.at >= killedAt &&
          new RegExp(`^overseer\\.evt\\.lease\\.${cluster}\\.(taken-over|acquired)$`).test(e.subject),
      ),
    );
    const owner = (lease.payload as { core?: string }).core ?? '?';
    const ownerCore = stack.cores.find((c) => c.id === owner);
    if (!ownerCore) throw new Error(`the new owner ${owner} is not one of the cores`);
    const firstSync = await until(`${cluster}'s first sync by ${owner}`, bound, async () =>
      synced.find((e) => e.at >= lease.at),
    );
    const sync = firstSync.at;
    const started = await until(`${owner}: runtime started`, bound, async () =>
      logLineAt(ownerCore, new RegExp(`cluster ${cluster}: runtime of core ${owner} started`), killedAt),
    );
    const serving = await until(`${owner}: serving`, bound, async () =>
      logLineAt(ownerCore, new RegExp(`cluster ${cluster}: this core \\(${owner}\\) owns it and serves it`), killedAt),
    );
    const decision = await until(`a decision for ${cluster} after the kill`, bound, async () => answered);
    const rel = (t: number) => t - killedAt;
    return {
      leaseMs: leaseSeconds * 1000,
      victim: victim.id,
      owner,
      lease: rel(lease.at),
      sync: rel(sync),
      started: rel(started),
      serving: rel(serving),
      decision: rel(decision),
      imported: importedLine(ownerCore, cluster, killedAt),
      syncDuration: (firstSync.payload as { durationMs?: number }).durationMs ?? Number.NaN,
    };
  } finally {
    probing = false;
    await probeLoop;
    await Promise.all(probes);
    unsubscribe();
    if (process.env.BENCH_LOGS) {
      mkdirSync(process.env.BENCH_LOGS, { recursive: true });
      for (const core of stack.cores)
        writeFileSync(
          join(process.env.BENCH_LOGS, `lease${leaseSeconds}-${killedAt}-${core.id}.log`),
          `${core.child.stdout().join('\n')}\n${core.child.stderr()}`,
        );
    }
  }
}

const fmtMs = (ms: number, leaseMs: number) => `${Math.round(ms)} ms (${(ms / leaseMs).toFixed(2)}×)`;
const fmtT = (t: Throughput) =>
  `${t.perSecond.toFixed(0)}/s, p50 ${t.p50.toFixed(1)} / p99 ${t.p99.toFixed(1)} ms, ${t.errors} errors, ` +
  [...t.labels].map(([k, v]) => `${k} ${v}`).join(', ');

/** Starts a stack, uses it, stops it (also on failure or SIGINT, through `stops`). */
async function withStack<S extends { stop(): Promise<void> }>(
  stops: Set<() => Promise<void>>,
  start: () => Promise<S>,
  use: (stack: S) => Promise<void>,
): Promise<void> {
  const starting = start();
  // Interrupted while it starts: wait for the start (bounded by the helper), then stop it.
  const stopWhenStarted = () => starting.then((s) => s.stop()).catch(() => undefined);
  stops.add(stopWhenStarted);
  const stack = await starting.finally(() => stops.delete(stopWhenStarted));
  const stop = () => stack.stop();
  stops.add(stop);
  try {
    await use(stack);
  } finally {
    await stop();
    stops.delete(stop);
  }
}

async function main(): Promise<void> {
  const stops = new Set<() => Promise<void>>();
  const interrupted = async () => {
    for (const stop of stops) await stop();
    process.exit(130);
  };
  process.once('SIGINT', () => void interrupted());
  process.once('SIGTERM', () => void interrupted());
  const handovers: Handover[] = [];
  const pairs: { multi: Throughput; single: Throughput }[] = [];
  const loads: string[] = [];
  print(`Command: ${COMMAND}`);
  print(`Node ${process.version}; ${clients} clients, ${seconds} s closed loop; leases ${leases.join(', ')} s`);
  for (let run = 1; run <= runs; run++) {
    loads.push(
      loadavg()
        .map((l) => l.toFixed(2))
        .join(' '),
    );
    let multi: Throughput | undefined;
    let single: Throughput | undefined;
    const measureSingle = () =>
      withStack(
        stops,
        () => startSingleCoreStack(STACK),
        async (stack) => {
          await until('the fleet in the single core', 60_000, async () => {
            const res = await fetch(`${stack.cores[0]?.url}/v1/vms?limit=1`, {
              headers: { authorization: `Bearer ${stack.token}` },
            });
            return res.ok && ((await res.json()) as { total: number }).total >= VMS * CLUSTERS.length
              ? true
              : undefined;
          });
          single = await throughput([stack.cores[0]?.url ?? ''], stack.token);
          print(`run ${run} one core: ${fmtT(single)}`);
        },
      );
    // Its own stack: the handovers below start on a fresh record (the import is part of a handover).
    const measureMulti = () =>
      withStack(
        stops,
        () => startMultiCoreStack({ ...STACK, leaseSeconds: leases[0] ?? 2 }),
        async (stack) => {
          multi = await throughput(
            stack.cores.map((c) => c.url),
            stack.token,
          );
          print(`run ${run} three cores: ${fmtT(multi)}`);
        },
      );
    // Alternate which goes first: the machine's load drifts.
    for (const measure of run % 2 === 1 ? [measureMulti, measureSingle] : [measureSingle, measureMulti])
      await measure();
    for (const leaseSeconds of leases) {
      await withStack(
        stops,
        () => startMultiCoreStack({ ...STACK, leaseSeconds }),
        async (stack) => {
          const h = await handover(stack, leaseSeconds);
          handovers.push(h);
          print(
            `run ${run} handover, lease ${leaseSeconds} s, ${h.victim} killed, ${h.owner} took east: lease ${fmtMs(h.lease, h.leaseMs)}, ` +
              `first sync ${fmtMs(h.sync, h.leaseMs)}, runtime started ${fmtMs(h.started, h.leaseMs)}, serving ${fmtMs(h.serving, h.leaseMs)}, ` +
              `first decision ${fmtMs(h.decision, h.leaseMs)}; the first sync itself took ${Math.round(h.syncDuration)} ms; imported ${h.imported}`,
          );
        },
      );
    }
    if (multi && single) pairs.push({ multi, single });
  }

  print('');
  print(`## Results (${runs} runs; load average 1/5/15 min at each run's start: ${loads.join('; ')})`);
  print('');
  print(`Command: \`${COMMAND}\``);
  print('');
  print('| what | median | ratio | every run |');
  print('|---|---:|---:|---|');
  for (const leaseSeconds of leases) {
    const hs = handovers.filter((h) => h.leaseMs === leaseSeconds * 1000);
    const leaseMs = leaseSeconds * 1000;
    const keys: [keyof Handover, string][] = [
      ['lease', 'lease event on NATS'],
      ['sync', 'first sync of east (`evt.loop.sync.synced`)'],
      ['started', 'log `runtime of core … started`'],
      ['serving', 'log `owns it and serves it`'],
      ['decision', 'first decision answered through a survivor'],
      ['syncDuration', 'the first sync alone (its durationMs)'],
    ];
    for (const [key, what] of keys) {
      const xs = hs.map((h) => h[key] as number);
      print(
        `| handover, lease ${leaseSeconds} s: ${key === 'syncDuration' ? '' : 'kill → '}${what} | ${Math.round(median(xs))} ms | ${(median(xs) / leaseMs).toFixed(2)}× lease | ${xs.map((x) => Math.round(x)).join(', ')} ms |`,
      );
    }
  }
  const m = (f: (p: { multi: Throughput; single: Throughput }) => number) => median(pairs.map(f));
  print(
    `| decisions/s, one core (baseline), ${clients} clients | ${m((p) => p.single.perSecond).toFixed(0)}/s | 1× | ${pairs.map((p) => p.single.perSecond.toFixed(0)).join(', ')} |`,
  );
  print(
    `| decisions/s, three cores, ${clients} clients over 3 gateways | ${m((p) => p.multi.perSecond).toFixed(0)}/s | ${m((p) => p.multi.perSecond / p.single.perSecond).toFixed(2)}× one core | ${pairs.map((p) => `${p.multi.perSecond.toFixed(0)} (${(p.multi.perSecond / p.single.perSecond).toFixed(2)}×)`).join(', ')} |`,
  );
  print(
    `| decision p50 / p99, one core | ${m((p) => p.single.p50).toFixed(1)} / ${m((p) => p.single.p99).toFixed(1)} ms | | ${pairs.map((p) => `${p.single.p50.toFixed(0)}/${p.single.p99.toFixed(0)}`).join(', ')} ms |`,
  );
  print(
    `| decision p50 / p99, three cores | ${m((p) => p.multi.p50).toFixed(1)} / ${m((p) => p.multi.p99).toFixed(1)} ms | ${m((p) => p.multi.p99 / p.single.p99).toFixed(2)}× one core's p99 | ${pairs.map((p) => `${p.multi.p50.toFixed(0)}/${p.multi.p99.toFixed(0)}`).join(', ')} ms |`,
  );
}

await main();
