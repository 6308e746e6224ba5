// Lab benchmark (issue 12), on the whole stack on ONE simulated clock (bench/lab-run.ts; the PVE simulator over HTTP,
// the Proxmox adapter, the Overseer runtime with its loops and SQLite):
//  1. A 50-VM lab in three dependency levels (2 → 8 → 40, each level depending on the whole level before, an agent
//     probe on every member, policy.parallelism 50): the apply time (apply → `ready`, simulated) as a ratio to its
//     critical path, the sum of the simulator's task durations along the longest dependency chain: per level one
//     clone + one configure + one start + the guest agent's boot delay. Target ≤ 1.3×. Run once per value of the
//     operator setting execution.perNodeConcurrency (the default 2 first), with a breakdown by wave of where the
//     time went.
//  2. A 300-VM lab (10 → 40 → 250) with the simulator answering some calls 596 and timing out some config locks:
//     does it reach ready, and does the simulator's oplog hold exactly one successful clone per member (VMs named
//     `<lab>-<member>`, none twice)? One run per fault profile (see FAULT_PROFILES).
// Wall-clock time is reported for each run. Everything else is simulated time, deterministic up to the order in
// which concurrent HTTP answers arrive.
// Run: node --import tsx bench/labs.ts [perNodeConcurrency list=2,4,8,9,16] [fault-run perNodeConcurrency list=2,8]
// (`-` for a list skips that part)
import type { Simulator } from '../adapters/pve-sim';
import { AGENT_READY_S, DEFAULT_TASK_DURATIONS } from '../adapters/pve-sim';
import type { LabLevel, LabRun, Rule596 } from './lab-run';
import { answer596, countLockTimeouts, prng, runLab } from './lab-run';

/** A comma-separated list of numbers; `-` for none (that part is skipped). */
const list = (arg: string) => (arg === '-' ? [] : arg.split(',').map(Number));
const perNodeList = list(process.argv[2] ?? '2,4,8,9,16');
const faultPerNodeList = list(process.argv[3] ?? '2,8');
if ([...perNodeList, ...faultPerNodeList].some((n) => !(n >= 1))) {
  throw new Error('usage: bench/labs.ts [perNodeConcurrency,...] [fault-run perNodeConcurrency,...]');
}
const LEVELS_50: LabLevel[] = [
  { name: 'core', count: 2 },
  { name: 'mid', count: 8 },
  { name: 'web', count: 40 },
];
const LEVELS_300: LabLevel[] = [
  { name: 'core', count: 10 },
  { name: 'mid', count: 40 },
  { name: 'web', count: 250 },
];
const TARGET = 1.3;
/** The demo seed's /cluster/nextid before the lab: its clones get VMIDs from here on. */
const FIRST_VMID = 116;
const TEMPLATE_VMID = 9000;

const s = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
const memberNames = (lab: string, levels: LabLevel[]) =>
  levels.flatMap((l) => Array.from({ length: l.count }, (_, i) => `${lab}-${l.name}-${i + 1}`));

// ---- 1. the 50-VM lab against its critical path ------------------------------------------------------------------

/** Per level, in simulated ms: what one member's chain costs (the simulator's defaults; the sim stack sets none). */
function criticalPath(sim: { clone: number; config: number; start: number }, levels: number) {
  const agent = AGENT_READY_S * 1000;
  const perLevel = sim.clone + sim.config + sim.start + agent;
  return { ...sim, agent, perLevel, total: perLevel * levels };
}
// DEFAULT_TASK_DURATIONS (adapters/pve-sim/tasks.ts): the sim stack passes no taskDurations.
const cp = criticalPath(
  {
    clone: DEFAULT_TASK_DURATIONS.qmclone,
    config: DEFAULT_TASK_DURATIONS.qmconfig,
    start: DEFAULT_TASK_DURATIONS.qmstart,
  },
  LEVELS_50.length,
);

const warningText = (run: LabRun) => [...run.warnings].map(([kind, n]) => `${n}× ${kind}`).join('; ') || 'none';
const phaseAt = (run: LabRun, status: string) => run.phases.find(([p]) => p === status)?.[1];

/** Max number of steps executing at once. */
function maxAtOnce(steps: { executing?: number | undefined; ended?: number | undefined }[]): number {
  const edges = steps.flatMap((x) =>
    x.executing === undefined ? [] : [[x.executing, 1] as const, [x.ended ?? Number.POSITIVE_INFINITY, -1] as const],
  );
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let max = 0;
  for (const [, d] of edges) {
    now += d;
    max = Math.max(max, now);
  }
  return max;
}

/** Per wave: each step's window (first request made → last ended), the longest queue wait and run, readiness lag. */
function waveRows(run: LabRun): string[] {
  const rows: string[] = [];
  const waves = [...new Set([...run.members.values()].map((m) => m.wave))].sort((a, b) => a - b);
  for (const wave of waves) {
    const names = new Set([...run.members].filter(([, m]) => m.wave === wave).map(([n]) => n));
    const of = (step: string) => run.steps.filter((x) => x.step === step && names.has(x.member));
    const win = (xs: typeof run.steps) => {
      if (xs.length === 0) return '—';
      const a = Math.min(...xs.map((x) => x.created));
      const b = Math.max(...xs.map((x) => x.ended ?? Number.NaN));
      return `${s(a)} → ${s(b)} (${s(b - a)})`;
    };
    const waitMax = (xs: typeof run.steps) => Math.max(0, ...xs.map((x) => (x.executing ?? x.created) - x.created));
    const runMax = (xs: typeof run.steps) => Math.max(0, ...xs.map((x) => (x.ended ?? 0) - (x.executing ?? 0)));
    const clones = of('clone');
    const starts = of('start');
    const lastStart = Math.max(...starts.map((x) => x.ended ?? Number.NaN));
    const lag = starts.map((x) => (run.members.get(x.member)?.readyMs ?? Number.NaN) - (x.ended ?? Number.NaN));
    const lastReady = Math.max(...[...names].map((n) => run.members.get(n)?.readyMs ?? Number.NaN));
    rows.push(
      `| ${wave} | ${names.size} | ${win(clones)} | ${s(waitMax(clones))} / ${s(runMax(clones))} | ${maxAtOnce(clones)} | ` +
        `${win(of('configure'))} | ${win(starts)} | ${s(waitMax(starts))} | ` +
        `${s(Math.min(...lag))} – ${s(Math.max(...lag))} | ${s(lastReady)} (+${s(lastReady - lastStart)}) |`,
    );
  }
  return rows;
}

console.log(`Command: node --import tsx bench/labs.ts ${perNodeList.join(',')} ${faultPerNodeList.join(',')}`);
console.log(
  `(Node ${process.version}; the demo cluster (3 nodes, template 9000 on pve1) with 1 TiB per node; task poll 1 s; ` +
    `sync every 10 s (default); lab probe interval 1 s (actors/lab-service.ts); the gate asks a second person for a ` +
    `lab of more than 10 guests: bob approves at the same simulated instant)`,
);
console.log('');
console.log(
  `### 1. 50-VM lab (${LEVELS_50.map((l) => `${l.count} ${l.name}`).join(' → ')}), policy.parallelism 50\n\n` +
    `Critical path: ${LEVELS_50.length} levels × (qmclone ${s(cp.clone)} + qmconfig ${s(cp.config)} + qmstart ` +
    `${s(cp.start)} + guest agent up ${s(cp.agent)} after the start) = ${LEVELS_50.length} × ${s(cp.perLevel)} = ` +
    `**${s(cp.total)}**\n`,
);
console.log(
  '| execution.perNodeConcurrency | outcome | apply → ready (simulated) | ÷ critical path | ≤ 1.3×? | cloning | configuring | starting → ready | clone tasks started / OK | retries (warnings) | lab snapshot writes | wall |',
);
console.log('|---|---|---:|---:|---|---:|---:|---:|---|---|---:|---:|');
const breakdowns: string[] = [];
for (const perNode of perNodeList) {
  const run = await runLab({
    name: `bench${perNode}`,
    levels: LEVELS_50,
    parallelism: 50,
    config: { execution: { perNodeConcurrency: perNode } },
    limitMs: 2 * 3600_000,
  });
  const cloning = phaseAt(run, 'cloning');
  const configuring = phaseAt(run, 'configuring');
  const starting = phaseAt(run, 'starting');
  const ready = run.status === 'ready' ? run.applyMs : undefined;
  const span = (a?: number, b?: number) => (a !== undefined && b !== undefined ? s(b - a) : '—');
  const ratio = ready !== undefined ? ready / cp.total : undefined;
  const outcome = run.status === 'ready' ? 'ready' : `**${run.status}** (${run.failure ?? 'no failure recorded'})`;
  console.log(
    `| ${perNode}${perNode === 2 ? ' (default)' : ''} | ${outcome} | ${ready !== undefined ? s(ready) : `— (stopped at ${s(run.applyMs)})`} | ` +
      `${ratio !== undefined ? `${ratio.toFixed(2)}×` : '—'} | ${ratio === undefined ? '—' : ratio <= TARGET ? 'met' : 'not met'} | ` +
      `${span(cloning, configuring)} | ${span(configuring, starting)} | ${span(starting, ready)} | ` +
      `${run.clones.started} / ${run.clones.ok} | ${warningText(run)} | ${run.labSnapshots} | ${s(run.wallMs)} |`,
  );
  if (run.status === 'ready') {
    breakdowns.push(
      `\nperNodeConcurrency ${perNode}, by wave (times after apply; queue wait = request queued → executing, ` +
        `run = executing → completed, incl. VMID-race re-issues; ready lag = start completed → agent probe answered):\n`,
      '| wave | members | clone: first request → last done | clone: max queue wait / max run | clones at once (max) | configure: first → last | start: first → last | start: max queue wait | ready lag (min – max) | last ready (+ after last start) |',
      '|---|---:|---|---|---:|---|---|---:|---|---|',
      ...waveRows(run),
    );
  }
  const failures = [...run.clones.failed].map(([why, n]) => `${n}× ${why}`).join('; ');
  if (failures) breakdowns.push(`\nperNodeConcurrency ${perNode}: clone tasks that failed: ${failures}`);
}
for (const line of breakdowns) console.log(line);

// ---- 2. the 300-VM lab under faults ------------------------------------------------------------------------------

interface FaultProfile {
  label: string;
  rules: () => Rule596[];
}
const every10 = (seen: number) => seen % 10 === 0;
const rule = (label: string, method: string, path: RegExp, hit: (seen: number) => boolean): Rule596 => ({
  label,
  method,
  path,
  hit,
  seen: 0,
  injected: 0,
});
const TASK_STATUS = /^\/nodes\/[^/]+\/tasks\/[^/]+\/status$/;
const AGENT_PING = /^\/nodes\/[^/]+\/qemu\/\d+\/agent\/ping$/;
const CLONE = /^\/nodes\/[^/]+\/qemu\/\d+\/clone$/;
/** Status reads every 10th, status reads 10 % at random (seeded), status reads and clone POSTs every 10th. */
const FAULT_PROFILES: FaultProfile[] = [
  {
    label: 'task status GET, agent ping: every 10th',
    rules: () => [rule('task status', 'GET', TASK_STATUS, every10), rule('agent ping', 'POST', AGENT_PING, every10)],
  },
  {
    label: 'task status GET, agent ping: 10 % at random (seed 1)',
    rules: () => {
      const random = prng(1);
      const p10 = () => random() < 0.1;
      return [rule('task status', 'GET', TASK_STATUS, p10), rule('agent ping', 'POST', AGENT_PING, p10)];
    },
  },
  {
    label: 'task status GET, agent ping, clone POST: every 10th',
    rules: () => [
      rule('task status', 'GET', TASK_STATUS, every10),
      rule('agent ping', 'POST', AGENT_PING, every10),
      rule('clone', 'POST', CLONE, every10),
    ],
  },
];
const expected = memberNames('chaos', LEVELS_300);
console.log(
  `\n### 2. 300-VM lab (${LEVELS_300.map((l) => `${l.count} ${l.name}`).join(' → ')}), policy.parallelism 64, ` +
    `under faults\n\nLock timeouts in every run: the first config-lock attempt on every 10th VMID from ${FIRST_VMID} ` +
    `on (the clone worker's lock on its new VMID) and the next 5 on the template ${TEMPLATE_VMID} time out. 596: the ` +
    `calls picked are answered \`596 Connection timed out\` before PVE's handler runs (nothing done).\n`,
);
console.log(
  '| 596 on | perNodeConcurrency | outcome | apply → ready (simulated) | wall | lab snapshot writes | 596 served | lock timeouts served | clone tasks started / OK | failed clone tasks | retries (warnings) | guests `chaos-*` (distinct) | members cloned twice | guests the lab does not list | all 300 members, once each |',
);
console.log('|---|---:|---|---:|---:|---:|---|---:|---|---|---|---|---:|---|---|');
for (const profile of FAULT_PROFILES) {
  for (const perNode of faultPerNodeList) {
    const rules = profile.rules();
    let locks = { served: 0 };
    const run = await runLab({
      name: 'chaos',
      levels: LEVELS_300,
      parallelism: 64,
      config: { execution: { perNodeConcurrency: perNode } },
      limitMs: 6 * 3600_000,
      faults: (sim: Simulator) => {
        answer596(sim, rules);
        locks = countLockTimeouts(sim);
        for (let vmid = FIRST_VMID; vmid < FIRST_VMID + 2 * expected.length; vmid += 10)
          sim.faults.lockTimeout(vmid, 1);
        sim.faults.lockTimeout(TEMPLATE_VMID, 5);
      },
    });
    const counts = new Map<string, number>();
    for (const n of run.clones.names) counts.set(n, (counts.get(n) ?? 0) + 1);
    const twice = [...counts].filter(([, n]) => n > 1).map(([name]) => name);
    const distinct = new Set(run.guestNames);
    const exact =
      run.status === 'ready' &&
      run.clones.ok === expected.length &&
      twice.length === 0 &&
      distinct.size === run.guestNames.length &&
      expected.every((n) => distinct.has(n) && counts.get(n) === 1);
    const outcome = run.status === 'ready' ? 'ready' : `**${run.status}** (${run.failure ?? 'no failure recorded'})`;
    const failures = [...run.clones.failed].map(([why, n]) => `${n}× ${why}`).join('; ') || 'none';
    console.log(
      `| ${profile.label} | ${perNode} | ${outcome} | ${run.status === 'ready' ? s(run.applyMs) : `— (stopped at ${s(run.applyMs)})`} | ` +
        `${s(run.wallMs)} | ${run.labSnapshots} | ${rules.map((r) => `${r.label} ${r.injected} of ${r.seen}`).join(', ')} | ${locks.served} | ` +
        `${run.clones.started} / ${run.clones.ok} | ${failures} | ${warningText(run)} | ${run.guestNames.length} (${distinct.size}) | ` +
        `${twice.length ? twice.slice(0, 5).join(', ') : 'none'} | ${run.orphans.join(', ') || 'none'} | ${exact ? 'yes' : 'NO'} |`,
    );
  }
}
