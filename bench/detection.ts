// Detection and remediation benchmark, on ONE simulated clock (tests/helpers/sim-stack.ts: the PVE simulator over
// HTTP on 127.0.0.1, the Proxmox adapter, the Overseer runtime with its loops, SQLite): deterministic and fast.
// For each sync interval (default 10 s, also 5 s and 30 s), <crashes> running non-production VMs crash one after
// the other, each at a random moment (seeded PRNG; uniform over a whole sync interval after the previous incident
// was resolved, so crashes fall at every phase of the sync loop). Per crash, in simulated time:
//   detection   = crash → the incident actor is opened (`incident:<id>: state changed from 'none' to 'open'`);
//   remediation = crash → the VM actor is `running` again (the restart request went through gate and executor);
//   resolved    = crash → the incident is resolved.
// Baseline: the sync interval itself; ratio = latency ÷ interval. Each VM crashes once (the restart policy allows
// 3 restarts per VM per 10 min and 3 stops make a crash loop: reusing a VM would measure those policies instead).
// Run: node --import tsx bench/detection.ts [crashes=200] [intervals=10,5,30] [seed=1]
import { largeSeed } from '../adapters/pve-sim';
import { createSimStack } from '../tests/helpers/sim-stack';

const crashes = Number(process.argv[2] ?? 200);
const intervals = (process.argv[3] ?? '10,5,30').split(',').map(Number);
const seedArg = Number(process.argv[4] ?? 1);
if (!(crashes > 0) || intervals.some((s) => !(s > 0))) {
  throw new Error('usage: bench/detection.ts [crashes] [interval seconds,...] [seed]');
}
const NODES = 4;
/** Enough VMs that `crashes` distinct ones are running (largeSeed: two thirds running, none production or HA). */
const VMS = Math.ceil((crashes * 3) / 2) + 30;
/** Simulated time a crash may take before the bench gives up on it. */
const GIVE_UP_MS = 600_000;

/** mulberry32: a small seeded PRNG, so every run crashes at the same moments. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

interface Dist {
  p50: number;
  p90: number;
  max: number;
  mean: number;
}

function dist(ms: number[]): Dist {
  const s = [...ms].sort((a, b) => a - b);
  return {
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    max: s[s.length - 1] ?? Number.NaN,
    mean: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length),
  };
}

const STATE_LINE = /^\S+ (\S+): state changed from '([^']*)' to '([^']*)'$/;

async function run(intervalSeconds: number) {
  const random = prng(seedArg * 7919 + intervalSeconds);
  const interval = intervalSeconds * 1000;
  // State changes, as the one log hook writes them, at their simulated time.
  const opened: { id: string; at: number }[] = [];
  const running = new Map<string, number>();
  const resolved = new Map<string, number>();
  let clockNow = () => 0;
  const stack = await createSimStack({
    seed: largeSeed({ vms: VMS, nodes: NODES, cluster: 'lab' }),
    config: { loops: { syncIntervalSeconds: intervalSeconds } },
    start: Date.UTC(2026, 0, 1),
    write: (line) => {
      const m = STATE_LINE.exec(line);
      if (!m) return;
      const [, actor = '', from, to] = m;
      if (actor.startsWith('incident:') && from === 'none' && to === 'open')
        opened.push({ id: actor.slice('incident:'.length), at: clockNow() });
      else if (actor.startsWith('incident:') && to === 'resolved') resolved.set(actor, clockNow());
      else if (actor.startsWith('vm:') && to === 'running') running.set(actor, clockNow());
    },
  });
  const { clock, overseer, sim, store } = stack;
  clockNow = () => clock.now();
  const wall0 = performance.now();
  try {
    overseer.start();
    await stack.settle();
    // The first sync applies the fleet in slices between event-loop turns: its report says it is done.
    for (let turns = 0; overseer.lastSyncReports.length === 0; turns++) {
      if (turns > 10_000) throw new Error('the first sync never finished');
      await new Promise((r) => setImmediate(r));
      await stack.settle();
    }
    const victims = [...overseer.view.vms.values()]
      .filter((vm) => vm.status === 'running' && !vm.tags.includes('production') && !vm.haManaged)
      .map((vm) => vm.vmid)
      .sort((a, b) => a - b)
      .slice(0, crashes);
    if (victims.length < crashes) throw new Error(`only ${victims.length} running VMs to crash`);

    const detection: number[] = [];
    const remediation: number[] = [];
    const resolution: number[] = [];
    for (const vmid of victims) {
      // A random moment: any phase of the sync loop.
      await stack.advance(Math.floor(random() * interval));
      const vmActor = `vm:${stack.cluster}/${vmid}`;
      const crashAt = clock.now();
      running.delete(vmActor);
      const before = opened.length;
      sim.faults.crashVm(vmid);
      const mine = () => opened.slice(before).find((o) => store.incidents.get(o.id)?.subject === vmActor);
      if (!(await stack.advanceUntil(() => mine() !== undefined, GIVE_UP_MS)))
        throw new Error(`no incident for ${vmActor} within ${GIVE_UP_MS / 1000} s`);
      const incident = mine()!;
      if (!(await stack.advanceUntil(() => running.has(vmActor), GIVE_UP_MS)))
        throw new Error(`${vmActor} not running again within ${GIVE_UP_MS / 1000} s`);
      const incidentActor = `incident:${incident.id}`;
      if (!(await stack.advanceUntil(() => resolved.has(incidentActor), GIVE_UP_MS)))
        throw new Error(`${incidentActor} not resolved within ${GIVE_UP_MS / 1000} s`);
      detection.push(incident.at - crashAt);
      remediation.push((running.get(vmActor) ?? Number.NaN) - crashAt);
      resolution.push((resolved.get(incidentActor) ?? Number.NaN) - crashAt);
    }
    return {
      intervalSeconds,
      detection: dist(detection),
      remediation: dist(remediation),
      resolution: dist(resolution),
      simSeconds: (clock.now() - Date.UTC(2026, 0, 1)) / 1000,
      wallSeconds: (performance.now() - wall0) / 1000,
    };
  } finally {
    await stack.cleanup();
  }
}

const results: Awaited<ReturnType<typeof run>>[] = [];
for (const s of intervals) results.push(await run(s));

const sec = (ms: number) => (ms / 1000).toFixed(1);
const ratio = (ms: number, intervalSeconds: number) => (ms / (intervalSeconds * 1000)).toFixed(2);
console.log(`Command: node --import tsx bench/detection.ts ${crashes} ${intervals.join(',')} ${seedArg}`);
console.log(
  `(${crashes} crashes per interval, each VM once, at random moments (mulberry32 seed ${seedArg}); fleet ${VMS} VMs on ` +
    `${NODES} nodes; simulator over HTTP on one simulated clock; monitor interval 5 s (default), task poll 1 s, ` +
    `qmstart task 2 s (simulator default); Node ${process.version})`,
);
console.log('');
console.log(
  '| sync interval (baseline) | detection p50 / p90 / max | ÷ interval | remediation (VM running) p50 / p90 / max | ÷ interval | incident resolved p50 / p90 / max | simulated / wall |',
);
console.log('|---|---|---|---|---|---|---|');
for (const r of results) {
  const d = r.detection;
  const m = r.remediation;
  const z = r.resolution;
  const i = r.intervalSeconds;
  console.log(
    `| ${i} s | ${sec(d.p50)} / ${sec(d.p90)} / ${sec(d.max)} s | ${ratio(d.p50, i)} / ${ratio(d.p90, i)} / ${ratio(d.max, i)} | ` +
      `${sec(m.p50)} / ${sec(m.p90)} / ${sec(m.max)} s | ${ratio(m.p50, i)} / ${ratio(m.p90, i)} / ${ratio(m.max, i)} | ` +
      `${sec(z.p50)} / ${sec(z.p90)} / ${sec(z.max)} s | ${r.simSeconds.toFixed(0)} s / ${r.wallSeconds.toFixed(1)} s |`,
  );
}
