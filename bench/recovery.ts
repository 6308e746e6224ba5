// Recovery benchmark: how long the Overseer process takes to come back after a crash (SIGKILL) with a big state:
// 10,000 VMs on 20 nodes (the PVE simulator's largeSeed in a child process, bench/sim-server.ts, every task lasting
// an hour) and 1,000 requests in flight — 500 `destroy --force` of production VMs awaiting approval, 500 `snapshot`s
// approved and queued or executing (20 nodes × 2 per node executing, the rest queued).
//
// The Overseer is a real process, `node dist/server/overseer.mjs serve --role all` (what
// `npm start` runs, built first by scripts/build-server.mjs as `npm start` does), with SQLite in a temp
// data dir, meeting a real nats-server (started here on a free port, JetStream) through NATS_URL. Phase 1 (not
// measured) starts it, waits for the fleet, submits the 1,000 requests through the gateway, and kills it with
// SIGKILL. Phase 2 (measured, <restarts> times, each ended by another SIGKILL): the same command again; from spawn
// to (a) the log line `restored N VM, M host and K request actors` (every actor back: the counts are checked; the
// request actors readable, each started at once when asked for, all of them with the loops), (b) the gateway's first
// `GET /v1/status` 200 (which goes gateway → NATS → core), (c) the loops running (the root actor's `none → running`:
// the work that can wait begins a moment after the core serves, actors/core-process.ts; reported, not a target).
// Baseline in the same run: spawn → first `GET /v1/status` 200 of a bare Hono server (bench/bare-server.ts), built
// and started the same way (scripts/build-server.mjs: one bundle with its npm packages, run by its loader with V8's
// code cache, plain Node). Both get their code cache from a first start that is not measured (the baseline's warm-up
// start, the Overseer's phase 1), as a restart gets it from the process before it. Medians reported.
// Where the time goes: the same data dir is then opened in this process (modules already loaded) and the steps the
// core takes before it serves are timed one by one: SQLite open + migrations, the audit chain's verification, and
// `restore()` of every actor (VMs, hosts, the 1,000 requests).
// Run: node --import tsx bench/recovery.ts [restarts=5]
// OVERSEER_GATEWAY_THREAD=on (passed on to the Overseer): the same with the gateway on a thread of its own.
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { readAuditKey } from '../actors/audit-startup';
import { loadConfig } from '../actors/config';
import { Overseer } from '../actors/overseer';
import { SystemClock } from '../adapters/clock';
import type { NatsServerProcess } from '../adapters/nats';
import { findFreePort, spawnNatsServer } from '../adapters/nats';
import { StateStore } from '../state';
import { quietLog } from './offline-runtime';
import { reportTarget } from './targets';

const restarts = Number(process.argv[2] ?? 5);
if (!(restarts > 0)) throw new Error('usage: bench/recovery.ts [restarts]');
const VMS = 10_000;
const NODES = 20;
const AWAITING = 500;
const EXECUTING_OR_QUEUED = 500;
const TASK_MS = 3_600_000;
const TARGET_MS = 3_000;
/** Issue 14: restart to serving at most 4× a bare process start. */
const TARGET_RATIO = 4;
const LIMIT_MS = 60_000;
/** USER_HZ of /proc/<pid>/stat (100 on Linux). */
const CLOCK_TICKS = 100;
/** BENCH_CPU_PROFILE_DIR=<dir>: one more restart under --cpu-prof, stopped with SIGTERM so the profile is written. */
const PROFILE_DIR = process.env.BENCH_CPU_PROFILE_DIR;
/** BENCH_TIMELINE=1: the last restart's log lines with their time after spawn. */
const TIMELINE = process.env.BENCH_TIMELINE === '1';
const root = join(import.meta.dirname, '..');
/** What `npm start` runs (scripts/build-server.mjs), and the baseline built the same way. */
const SERVER_BUNDLE = 'dist/server/overseer.mjs';
const BARE_BUNDLE = 'dist/bench/bare-server.mjs';
/** The code cache a built command's loader writes a few seconds after it starts (scripts/build-server.mjs). */
const codeCache = (dir: string, name: string) =>
  readdirSync(join(root, dir)).find((f) => f.startsWith(`${name}-bundle.`) && f.endsWith('.v8-cache'));
/** Waits (up to 15 s) until the code cache of a built command is written. */
async function waitForCodeCache(dir: string, name: string): Promise<string> {
  const limit = performance.now() + 15_000;
  for (;;) {
    const file = codeCache(dir, name);
    if (file) return file;
    if (performance.now() > limit) throw new Error(`no code cache in ${dir} for ${name}`);
    await sleep(100);
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Child {
  proc: ChildProcess;
  lines: string[];
  /** performance.now() when each line arrived. */
  times: number[];
  /** performance.now() when a line matching the pattern was first seen. */
  seen(pattern: RegExp): { at: number; line: string } | undefined;
}

function start(command: string, args: string[], env: NodeJS.ProcessEnv): Child {
  const proc = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const times: number[] = [];
  const collect = (input: NodeJS.ReadableStream) =>
    createInterface({ input }).on('line', (line) => {
      lines.push(line);
      times.push(performance.now());
    });
  collect(proc.stdout!);
  collect(proc.stderr!);
  return {
    proc,
    lines,
    times,
    seen(pattern) {
      const i = lines.findIndex((l) => pattern.test(l));
      return i < 0 ? undefined : { at: times[i] ?? 0, line: lines[i] ?? '' };
    },
  };
}

async function kill(child: Child, signal: NodeJS.Signals): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  const exited = new Promise((r) => child.proc.once('exit', r));
  child.proc.kill(signal);
  await exited;
}

/** CPU time (user + system) a process has used so far, from /proc/<pid>/stat, in ms. */
function cpuMs(pid: number | undefined): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** Polls `url` until it answers 200; returns performance.now() of that answer. */
/** Waits (up to LIMIT_MS) for a line of the child's log matching `pattern`. */
async function lineSeen(child: Child, pattern: RegExp): Promise<{ at: number; line: string }> {
  const limit = performance.now() + LIMIT_MS;
  for (;;) {
    const seen = child.seen(pattern);
    if (seen) return seen;
    if (child.proc.exitCode !== null) throw new Error(`the process exited:\n${child.lines.slice(-20).join('\n')}`);
    if (performance.now() > limit) throw new Error(`no line ${pattern}:\n${child.lines.slice(-20).join('\n')}`);
    await sleep(5);
  }
}

async function firstOk(url: string, headers: Record<string, string>, child: Child): Promise<number> {
  const limit = performance.now() + LIMIT_MS;
  for (;;) {
    const res = await fetch(url, { headers }).catch(() => undefined);
    if (res) await res.body?.cancel();
    if (res?.status === 200) return performance.now();
    if (child.proc.exitCode !== null) throw new Error(`the process exited:\n${child.lines.slice(-20).join('\n')}`);
    if (performance.now() > limit) throw new Error(`${url} never answered 200:\n${child.lines.slice(-20).join('\n')}`);
    await sleep(5);
  }
}

async function startSim(secret: string): Promise<{ proc: ChildProcess; port: number; tokenId: string }> {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(import.meta.dirname, 'sim-server.ts'),
      String(VMS),
      String(NODES),
      secret,
      String(TASK_MS),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const ready = await new Promise<{ port: number; tokenId: string }>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      if (line.startsWith('READY ')) resolve(JSON.parse(line.slice('READY '.length)));
    });
    proc.once('exit', (code) => reject(new Error(`sim-server exited with ${code}`)));
  });
  return { proc, ...ready };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'overseer-bench-recovery-'));
  let nats: NatsServerProcess | undefined;
  let sim: ChildProcess | undefined;
  const children: Child[] = [];
  try {
    execFileSync(process.execPath, ['scripts/build-server.mjs'], { cwd: root, stdio: 'inherit' });
    execFileSync(process.execPath, ['scripts/build-server.mjs', 'bench/bare-server.ts', 'dist/bench', 'bare-server'], {
      cwd: root,
      stdio: 'inherit',
    });
    // --- baseline: a bare Hono server, spawn → first answer ------------------------------------------------
    const bare: number[] = [];
    const bareCpu: number[] = [];
    for (let i = 0; i <= restarts; i++) {
      const port = await findFreePort();
      const t0 = performance.now();
      const child = start(process.execPath, [BARE_BUNDLE, String(port)], process.env);
      children.push(child);
      const at = await firstOk(`http://127.0.0.1:${port}/v1/status`, {}, child);
      const cpu = cpuMs(child.proc.pid);
      // The first start warms the OS file cache and writes the code cache (as phase 1 does for the Overseer): not
      // counted.
      if (i === 0) await waitForCodeCache('dist/bench', 'bare-server');
      if (i > 0) {
        bare.push(at - t0);
        bareCpu.push(cpu);
      }
      await kill(child, 'SIGKILL');
    }

    // --- phase 1: a data dir with 10k VMs and 1k requests in flight ------------------------------------------
    nats = await spawnNatsServer({ port: await findFreePort(), jetstream: true, storeDir: join(dir, 'nats') });
    const secret = randomUUID();
    const started = await startSim(secret);
    sim = started.proc;
    const configPath = join(dir, 'overseer.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        clusters: [
          {
            name: 'bench',
            host: '127.0.0.1',
            port: started.port,
            protocol: 'http',
            auth: { type: 'token', tokenId: started.tokenId, secret },
            timeoutMs: 60_000,
          },
        ],
        // largeSeed has no production tag: its 'db' VMs (every fifth) are the production ones here.
        gate: { production: { tags: ['db'] } },
        execution: { taskTimeoutSeconds: 7200 },
      }),
    );
    const port = await findFreePort();
    const env = {
      ...process.env,
      OVERSEER_DATA_DIR: join(dir, 'data'),
      OVERSEER_CONFIG: configPath,
      NATS_URL: nats.url,
      OVERSEER_PORT: String(port),
      OVERSEER_RATE_LIMIT: 'off',
    };
    const serveArgs = [SERVER_BUNDLE, 'serve', '--role', 'all'];
    const url = `http://127.0.0.1:${port}`;
    const first = start(process.execPath, serveArgs, env);
    children.push(first);
    const token = await (async () => {
      const limit = performance.now() + LIMIT_MS;
      for (;;) {
        try {
          return readFileSync(join(dir, 'data', 'admin.token'), 'utf8').trim();
        } catch {
          if (performance.now() > limit || first.proc.exitCode !== null) {
            throw new Error(`no admin token:\n${first.lines.slice(-20).join('\n')}`);
          }
          await sleep(50);
        }
      }
    })();
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    await firstOk(`${url}/v1/status`, headers, first);
    for (let waited = 0; ; waited += 200) {
      const res = await fetch(`${url}/v1/vms?limit=1`, { headers }).catch(() => undefined);
      const total = res?.ok ? ((await res.json()) as { total: number }).total : 0;
      if (total >= VMS) break;
      if (waited > LIMIT_MS) throw new Error(`the fleet never appeared (${total} of ${VMS} VMs)`);
      await sleep(200);
    }
    // largeSeed: VM 100+i carries the 'db' tag when i % 5 === 1.
    const production = Array.from({ length: AWAITING }, (_, k) => 100 + 5 * k + 1);
    const others = Array.from({ length: VMS }, (_, i) => 100 + i)
      .filter((vmid) => (vmid - 100) % 5 !== 1)
      .slice(0, EXECUTING_OR_QUEUED);
    const bodies = [
      ...production.map((vmid) => ({ action: 'destroy', target: `bench/${vmid}`, force: true })),
      ...others.map((vmid) => ({ action: 'snapshot', target: `bench/${vmid}`, params: { snapname: `b${vmid}` } })),
    ];
    const decisions = new Map<string, number>();
    let next = 0;
    const submitter = async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        const res = await fetch(`${url}/v1/requests`, { method: 'POST', headers, body: JSON.stringify(body) });
        const answer = (await res.json()) as { decision?: string };
        const label = res.status === 201 ? (answer.decision ?? '?') : `error ${res.status}`;
        decisions.set(label, (decisions.get(label) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 20 }, submitter));
    const summaryOf = async () => {
      const res = await fetch(`${url}/v1/summary`, { headers });
      return (await res.json()) as { requests?: Record<string, number> };
    };
    const before = (await summaryOf()).requests ?? {};
    const overseerCache = await waitForCodeCache('dist/server', 'overseer');
    // OVERSEER_GATEWAY_THREAD=on: the gateway's thread loads a bundle of its own, with its own cache.
    if (process.env.OVERSEER_GATEWAY_THREAD === 'on') await waitForCodeCache('dist/server', 'gateway-thread-entry');
    await kill(first, 'SIGKILL');

    // --- phase 2: restart after a crash, measured ------------------------------------------------------------
    const RESTORED = /restored (\d+) VM, (\d+) host and (\d+) request actors/;
    const LOOPS_RUNNING = /overseer: state changed from 'none' to 'running'/;
    const samples: {
      restoredMs: number;
      statusMs: number;
      loopsMs: number;
      cpuMs: number;
      vms: number;
      hosts: number;
      requests: number;
    }[] = [];
    let after: Record<string, number> = {};
    for (let i = 0; i < restarts; i++) {
      const t0 = performance.now();
      const child = start(process.execPath, serveArgs, env);
      children.push(child);
      const statusAt = await firstOk(`${url}/v1/status`, headers, child);
      const cpu = cpuMs(child.proc.pid);
      const restored = child.seen(RESTORED);
      if (!restored) throw new Error(`no 'restored' line:\n${child.lines.slice(-20).join('\n')}`);
      const [, v = '0', h = '0', r = '0'] = RESTORED.exec(restored.line) ?? [];
      const loops = await lineSeen(child, LOOPS_RUNNING);
      samples.push({
        restoredMs: restored.at - t0,
        statusMs: statusAt - t0,
        loopsMs: loops.at - t0,
        cpuMs: cpu,
        vms: Number(v),
        hosts: Number(h),
        requests: Number(r),
      });
      after = (await summaryOf()).requests ?? {};
      if (TIMELINE && i === restarts - 1) {
        // The restart's own log, each line with its arrival after spawn (BENCH_TIMELINE=1).
        for (const [k, l] of child.lines.slice(0, 40).entries()) {
          console.log(`${((child.times[k] ?? 0) - t0).toFixed(0)} ms  ${l}`);
        }
        console.log(`${(statusAt - t0).toFixed(0)} ms  (first GET /v1/status 200)`);
      }
      await kill(child, 'SIGKILL');
    }
    if (PROFILE_DIR) {
      const child = start(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, ...serveArgs], env);
      children.push(child);
      await firstOk(`${url}/v1/status`, headers, child);
      await kill(child, 'SIGTERM');
    }

    // --- where the time goes (in this process, on the same data dir) -------------------------------------------
    const config = loadConfig(configPath);
    let t = performance.now();
    const store = StateStore.open(join(dir, 'data', 'overseer.db'), {
      synchronous: config.state.synchronous,
      auditKey: readAuditKey(join(dir, 'data', 'audit.key')),
    });
    const openMs = performance.now() - t;
    t = performance.now();
    const audit = store.audit.verify();
    const verifyMs = performance.now() - t;
    const auditRows = store.db.prepare('SELECT count(*) AS n FROM audit').get() as { n: number } | undefined;
    const overseer = new Overseer({ clock: new SystemClock(), log: quietLog, config, store, platforms: new Map() });
    // With BENCH_CPU_PROFILE_DIR, restore() is profiled too (restore.cpuprofile: the sources' own names).
    const profiler = PROFILE_DIR ? new Session() : undefined;
    if (profiler) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.setSamplingInterval', { interval: 100 });
      await profiler.post('Profiler.start');
    }
    t = performance.now();
    const restored = overseer.restore();
    const restoreMs = performance.now() - t;
    if (profiler && PROFILE_DIR) {
      const { profile } = await profiler.post('Profiler.stop');
      writeFileSync(join(PROFILE_DIR, 'restore.cpuprofile'), JSON.stringify(profile));
      profiler.disconnect();
    }
    overseer.stop();
    store.close();

    // --- report --------------------------------------------------------------------------------------------
    const bareMs = median(bare);
    const restoredMs = median(samples.map((s) => s.restoredMs));
    const statusMs = median(samples.map((s) => s.statusMs));
    const last = samples[samples.length - 1]!;
    const complete = samples.every((s) => s.vms === VMS && s.hosts === NODES && s.requests === bodies.length);
    const f = (ms: number) => `${Math.round(ms).toLocaleString('en')} ms`;
    const counts = (c: Record<string, number>) =>
      Object.entries(c)
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ');
    console.log(`Command: node --import tsx bench/recovery.ts ${restarts}`);
    console.log(
      `(${VMS.toLocaleString('en')} VMs on ${NODES} nodes; requests submitted: ${[...decisions].map(([k, n]) => `${k} ${n}`).join(', ')}; ` +
        `requests by status before the kill: ${counts(before)}; after the last restart: ${counts(after)}; ` +
        `restarts after SIGKILL: ${restarts}, medians; Overseer: node ${SERVER_BUNDLE} serve ` +
        `--role all (npm start), NATS_URL = a nats-server started here; baseline: node ${BARE_BUNDLE} ` +
        `(bench/bare-server.ts built the same way); both with the V8 code cache their unmeasured first start wrote ` +
        `(${overseerCache}); Node ${process.version})`,
    );
    console.log(
      `In-process on the same data dir: SQLite open ${f(openMs)}, audit chain verify ${f(verifyMs)} ` +
        `(${auditRows?.n ?? '?'} rows, ${audit.ok ? 'ok' : 'damaged'}), restore() ${f(restoreMs)} ` +
        `(${restored.vms} VM, ${restored.hosts} host, ${restored.requests} request actors).`,
    );
    console.log('');
    console.log('| measured from spawn | median | all runs | ratio to baseline | target | |');
    console.log('|---|---:|---|---:|---:|---|');
    console.log(
      `| bare Hono server: first \`GET /v1/status\` 200 (baseline) | ${f(bareMs)} | ${bare.map(f).join(', ')} | 1.00 | | |`,
    );
    console.log(
      `| Overseer: every actor restored (${last.vms} VM, ${last.hosts} host, ${last.requests} request actors) | ${f(restoredMs)} | ` +
        `${samples.map((s) => f(s.restoredMs)).join(', ')} | ${(restoredMs / bareMs).toFixed(1)}× | | ${complete ? 'all counts complete' : 'COUNTS INCOMPLETE'} |`,
    );
    const bareCpuMs = median(bareCpu);
    const serveCpuMs = median(samples.map((s) => s.cpuMs));
    console.log(
      `| bare Hono server: CPU time (user + system) until its first 200 (baseline) | ${f(bareCpuMs)} | ` +
        `${bareCpu.map(f).join(', ')} | 1.00 | | |`,
    );
    console.log(
      `| Overseer: CPU time (user + system) until the gateway's first 200 | ${f(serveCpuMs)} | ` +
        `${samples.map((s) => f(s.cpuMs)).join(', ')} | ${(serveCpuMs / bareCpuMs).toFixed(1)}× | | |`,
    );
    const loopsMs = median(samples.map((s) => s.loopsMs));
    console.log(
      `| Overseer: the loops running (root actor \`none → running\`) | ${f(loopsMs)} | ` +
        `${samples.map((s) => f(s.loopsMs)).join(', ')} | ${(loopsMs / bareMs).toFixed(1)}× | | |`,
    );
    console.log(
      `| Overseer: gateway's first \`GET /v1/status\` 200 | ${f(statusMs)} | ${samples.map((s) => f(s.statusMs)).join(', ')} | ` +
        `${(statusMs / bareMs).toFixed(1)}× | ≤ ${TARGET_RATIO}× and < ${f(TARGET_MS)} | ` +
        `${statusMs / bareMs <= TARGET_RATIO && statusMs < TARGET_MS && complete ? 'met' : 'NOT met'} |`,
    );
    reportTarget({
      row: 'restart',
      value: `${f(statusMs)} to the first \`GET /v1/status\` 200 (CPU ${f(serveCpuMs)})`,
      baseline: `${f(bareMs)} (CPU ${f(bareCpuMs)}), bare Hono built the same way`,
      result: `${(statusMs / bareMs).toFixed(1)}× (CPU ${(serveCpuMs / bareCpuMs).toFixed(1)}×)`,
      target: `≤ ${TARGET_RATIO}×`,
      met: statusMs / bareMs <= TARGET_RATIO && complete,
      command: `node --import tsx bench/recovery.ts ${restarts}`,
    });
  } finally {
    for (const child of children) await kill(child, 'SIGKILL');
    sim?.stdin?.end();
    sim?.kill('SIGTERM');
    await nats?.stop();
    // BENCH_KEEP=1 keeps the data dir (to look at, or to profile a restore of it).
    if (process.env.BENCH_KEEP === '1') console.log(`kept ${join(dir, 'data')}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
