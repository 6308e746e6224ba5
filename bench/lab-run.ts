// Helpers of the lab benchmark (bench/labs.ts): a lab file with dependency levels, a cluster big enough for it, and
// one apply run on the whole stack on one simulated clock (tests/helpers/sim-stack.ts, as bench/detection.ts uses
// it): the lab is applied as alice, approved at once by bob when the gate asks for a second person, and the clock is
// moved until the lab is ready or has failed. What it returns is read from the state-change log (each lab request's
// queued / executing / completed at its simulated time), the lab's view (each member's wave and readyAt) and the
// simulator's oplog (every clone task and its result).
import type { SimSeed, Simulator } from '../adapters/pve-sim';
import { demoSeed } from '../adapters/pve-sim';
import type { SimStack } from '../tests/helpers/sim-stack';
import { createSimStack } from '../tests/helpers/sim-stack';

/** One dependency level: `count` members `<name>-1 … <name>-<count>`, each depending on every member of the level before. */
export interface LabLevel {
  name: string;
  count: number;
}

export const TEMPLATE = 'debian-12-template';

/** The lab file (JSON, which the lab service reads like YAML): linked clones, one uplink NIC, an agent probe. */
export function labFile(name: string, levels: readonly LabLevel[], parallelism: number): string {
  return JSON.stringify({
    name,
    cluster: 'lab',
    description: `bench: ${levels.map((l) => `${l.count} ${l.name}`).join(', ')}`,
    vms: levels.map((level, i) => ({
      name: level.name,
      template: TEMPLATE,
      count: level.count,
      memory: '512M',
      networks: [{ bridge: 'vmbr0', address: 'dhcp' }],
      dependsOn: i === 0 ? [] : [levels[i - 1]?.name],
      probe: { type: 'agent' },
    })),
    policy: { parallelism, onFailure: 'keep' },
  });
}

/** The demo cluster (template 9000 'debian-12-template' on pve1, nodes pve1–pve3) with 1 TiB of memory per node. */
export function benchSeed(): SimSeed {
  const seed = demoSeed();
  return { ...seed, nodes: seed.nodes.map((n) => ({ ...n, maxmem: 1024 ** 4 })) };
}

const STATE_LINE = /^\S+ (\S+): state changed from '([^']*)' to '([^']*)'$/;
const ENDED = new Set(['ready', 'failed', 'rolled_back', 'denied', 'expired', 'cancelled']);

/** One step of one member, as its lab request went: when it was made, began executing, and ended. */
export interface StepTimes {
  step: string;
  member: string;
  created: number;
  executing?: number;
  ended?: number;
  status?: string;
}

export interface LabRun {
  status: string;
  failure?: string | undefined;
  /** Simulated ms from the apply call to the lab's `ready` (or to where the run stopped). */
  applyMs: number;
  wallMs: number;
  /** Lab status → simulated ms after apply when it was entered. */
  phases: [string, number][];
  steps: StepTimes[];
  /** Member → its wave and readyAt (ms after apply). */
  members: Map<string, { wave: number; readyMs?: number | undefined }>;
  clones: { started: number; ok: number; failed: Map<string, number>; names: string[] };
  /** Guests on the simulator whose name begins with `<lab>-`. */
  guestNames: string[];
  /** How often the lab actor's snapshot was written (LabService.persist, each with the whole lab's context). */
  labSnapshots: number;
  /** Guests named `<lab>-*` on the simulator that the lab does not list as created (after a failure: 2 min later). */
  orphans: string[];
  /** Warnings of the run by kind (VMID races, failed polls, lock-timeout re-issues, ...). */
  warnings: Map<string, number>;
}

/** A warning line's kind: its text with request ids, numbers and UPIDs taken out. */
const WARNING_KINDS: [RegExp, string][] = [
  [/was taken by another clone/, 'clone POST re-issued: VMID taken'],
  [/VMID \d+ was taken; cloning again/, 'clone task re-issued: VMID taken'],
  [/failed on a lock timeout/, 'task re-issued after a lock timeout'],
  [/polling \S+ failed/, 'task poll failed, polled again'],
  [/locked .*retry/, 'API call retried: locked'],
];

export interface RunOptions {
  name: string;
  levels: readonly LabLevel[];
  parallelism: number;
  /** Overseer config overrides (an operator's settings). */
  config: Record<string, unknown>;
  /** How long (simulated) the lab may take before the run gives up. */
  limitMs: number;
  /** Arms faults on the simulator before the apply. */
  faults?: ((sim: Simulator, stack: SimStack) => void) | undefined;
}

export async function runLab(o: RunOptions): Promise<LabRun> {
  const steps = new Map<string, StepTimes>();
  const phases: [string, number][] = [];
  let at = () => 0;
  const warnings = new Map<string, number>();
  // A lab step's request id: `lab-<cluster>-<name>.<submitted, base 36>-<generation>-<step>-<member>` (labRequestId).
  const stepOf = new RegExp(`^req:lab-lab-${o.name}\\.[0-9a-z]+-0-(.+)$`);
  const labActor = `lab:lab/${o.name}`;
  const stack = await createSimStack({
    seed: benchSeed(),
    config: o.config,
    logLevel: 'warn',
    write: (line) => {
      if (line.includes(' warn: ')) {
        const other = `other: ${line
          .replace(/^\S+ warn: /, '')
          .replace(/\d+/g, 'N')
          .slice(0, 100)}`;
        const kind = WARNING_KINDS.find(([re]) => re.test(line))?.[1] ?? other;
        warnings.set(kind, (warnings.get(kind) ?? 0) + 1);
      }
      const m = STATE_LINE.exec(line);
      if (!m) return;
      const [, actor = '', , to = ''] = m;
      if (actor === labActor) phases.push([to, at()]);
      const id = stepOf.exec(actor)?.[1];
      if (id === undefined) return;
      const dash = id.indexOf('-');
      const s = steps.get(id) ?? { step: id.slice(0, dash), member: id.slice(dash + 1), created: at() };
      if (to === 'executing') s.executing ??= at();
      if (['completed', 'failed', 'denied', 'cancelled', 'nothing_to_do'].includes(to)) {
        s.ended = at();
        s.status = to;
      }
      steps.set(id, s);
    },
  });
  const { clock, overseer, sim } = stack;
  try {
    overseer.start();
    await stack.settle();
    await stack.advance(5_000);
    o.faults?.(sim, stack);
    let labSnapshots = 0;
    const snapshots = stack.store.snapshots;
    const save = snapshots.save.bind(snapshots);
    snapshots.save = (actorId, kind, snapshot, when) => {
      if (actorId === labActor) labSnapshots++;
      save(actorId, kind, snapshot, when);
    };
    const t0 = clock.now();
    at = () => clock.now() - t0;
    const wall0 = performance.now();
    const labs = overseer.labService;
    const answer = await labs.apply(labFile(o.name, o.levels, o.parallelism), `${o.name}.json`, {
      id: 'alice',
      role: 'admin',
    });
    if (answer.status === 'awaiting_approval') labs.approve({ name: o.name }, { id: 'bob', role: 'admin' });
    // The lab's record (written with its actor's snapshot): cheaper than building its view at every step.
    const status = () => stack.store.labs.get('lab', o.name)?.status ?? 'unknown';
    await stack.advanceUntil(() => ENDED.has(status()), o.limitMs);
    const wallMs = performance.now() - wall0;
    // A failed lab may leave tasks running on PVE: give them time to end before looking for guests it lost.
    if (status() !== 'ready') await stack.advance(120_000);
    const view = labs.get({ name: o.name });
    const made = new Set(view?.created.filter((c) => c.kind === 'vm').map((c) => Number(c.id)));
    const guests = [...sim.state.vms.values()].filter((v) => v.name.startsWith(`${o.name}-`));
    const end = phases.find(([s]) => ENDED.has(s))?.[1] ?? at();
    const members = new Map(
      (view?.members ?? []).map((m) => [
        m.name,
        { wave: m.wave, readyMs: m.readyAt === undefined ? undefined : m.readyAt - t0 },
      ]),
    );
    const cloneOps = sim.oplog.filter((e) => e.op === 'clone');
    const failed = new Map<string, number>();
    for (const e of cloneOps) {
      if (e.result === 'started' || e.result === 'OK') continue;
      const why = e.result.replace(/\d+/g, 'N');
      failed.set(why, (failed.get(why) ?? 0) + 1);
    }
    return {
      status: status(),
      failure: view?.failure ? `${view.failure.step} ${view.failure.member ?? ''}: ${view.failure.error}` : undefined,
      applyMs: end,
      wallMs,
      phases,
      steps: [...steps.values()],
      members,
      clones: {
        started: cloneOps.filter((e) => e.result === 'started').length,
        ok: cloneOps.filter((e) => e.result === 'OK').length,
        failed,
        names: cloneOps.filter((e) => e.result === 'OK').map((e) => String(e.detail?.name ?? '')),
      },
      guestNames: guests.map((v) => v.name),
      labSnapshots,
      orphans: guests.filter((v) => !made.has(v.vmid)).map((v) => `${v.name} (${v.vmid})`),
      warnings,
    };
  } finally {
    await stack.cleanup();
  }
}

/** API calls matching `method` and `path` that `hit()` picks are answered 596 (before PVE's handler runs: no effect). */
export interface Rule596 {
  label: string;
  method: string;
  path: RegExp;
  /** Called with the number of matching calls so far (1-based): whether this one is answered 596. */
  hit: (seen: number) => boolean;
  seen: number;
  injected: number;
}

/** mulberry32: a small seeded PRNG, so a run injects at the same calls each time. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function answer596(sim: Simulator, rules: Rule596[]): void {
  const faults = sim.faults;
  const next = faults.takeHttpError.bind(faults);
  faults.takeHttpError = (method, path) => {
    for (const r of rules) {
      if (r.method !== method || !r.path.test(path)) continue;
      if (!r.hit(++r.seen)) continue;
      r.injected++;
      return { path: r.path.source, method, remaining: 0, status: 596, message: 'Connection timed out' };
    }
    return next(method, path);
  };
}

/** Counts the config-lock attempts the simulator made time out (armed with `faults.lockTimeout`). */
export function countLockTimeouts(sim: Simulator): { served: number } {
  const counter = { served: 0 };
  const faults = sim.faults;
  const take = faults.takeLockTimeout.bind(faults);
  faults.takeLockTimeout = (vmid) => {
    const hit = take(vmid);
    if (hit) counter.served++;
    return hit;
  };
  return counter;
}
