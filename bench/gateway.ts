// Gateway benchmark: decisions per second and latency through `POST /v1/requests` on the real stack — the gateway
// and the core in this process (`serve --role all`), meeting over a REAL nats-server started here on a free port,
// SQLite in a temp dir — against a fleet of 10,000 VMs on 20 nodes served by the PVE simulator in a child process
// (bench/sim-server.ts, so its CPU is not counted here). The per-token rate limit is off (OVERSEER_RATE_LIMIT=off).
//
// Baseline measured in the same run: a bare Hono JSON endpoint (`app.post('/x', (c) => c.json({ ok: true }))`
// on @hono/node-server), driven by the same client.
//
// Load: undici Pool with 50 keep-alive connections.
//   closed loop — 50 requests always in flight for <seconds> (default 10) per endpoint: req/s, p50, p99;
//   open loop   — 1,000 requests/s paced on a schedule for <seconds>; latency from each request's scheduled
//                 time (no coordinated omission): p99 against the 10 ms target. Also at 100 requests/s (below
//                 saturation), run first: the latency of a decision when nothing queues.
// Mix (Overseer): half `destroy` of a production VM without force (denied by the production check), half
// `snapshot` of a VM, round-robin over the 8,000 non-production VMs (approved, or denied by the conflicts check
// when the VM's earlier snapshot is still queued or running; approved ones execute in the background).
// BENCH_MIX=denied: every request is the denied `destroy` (decisions alone: nothing executes in the background).
// BENCH_MIX=approved: every request is an approved `snapshot` (what an approval costs beside a denial).
// BENCH_TOPOLOGY=split: the core in a process of its own (`overseer serve --role core`, as deploy/ runs it) and the
// gateway in this one (`serve --role gateway`), meeting over the same nats-server; the core's CPU is counted beside
// the nats-server's and the simulator's. BENCH_TOPOLOGY=thread: `serve --role all` with OVERSEER_GATEWAY_THREAD=on
// (the gateway on a worker thread of this process). Default: `serve --role all` in this process (`npm start`).
// The Overseer's log (one line per actor state change) goes to a file in the temp dir, as a daemon's to journald.
//
// Run: node --expose-gc --import tsx bench/gateway.ts [seconds]
// CPU per request: for each phase, the CPU time (user + system) this process used (the bench client, the gateway and
// the core share it) and, for the Overseer, that of the nats-server and simulator processes (/proc/<pid>/stat),
// divided by the requests answered. Unlike req/s it hardly moves when other work shares the 2 cores.
// BENCH_CPU_PROFILE=<file.cpuprofile>: a CPU profile (node:inspector) of this process's main thread during the
// Overseer's closed-loop phase — the bench client, the gateway (not with BENCH_TOPOLOGY=thread) and the core (not with
// BENCH_TOPOLOGY=split); the simulator's process is not in it.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { Pool } from 'undici';
import { serve } from '../actors/main';
import { findFreePort, spawnNatsServer } from '../adapters/nats';
import { reportTarget } from './targets';

const CONNECTIONS = 50;
const OPEN_LOOP_RATE = 1_000;
/** An open-loop rate well below saturation: the latency of one decision when nothing queues. */
const LIGHT_RATE = 100;
const TARGET_P99_MS = 10;
const VMS = 10_000;
const NODES = 20;
const WARMUP_SECONDS = 2;

const seconds = Number(process.argv[2] ?? 10);
const requestMix = process.env.BENCH_MIX ?? '';
if (!['', 'denied', 'approved'].includes(requestMix)) throw new Error("BENCH_MIX must be 'denied' or 'approved'");
const deniedOnly = requestMix === 'denied';
const approvedOnly = requestMix === 'approved';
const topology = process.env.BENCH_TOPOLOGY ?? '';
if (!['', 'split', 'thread'].includes(topology)) throw new Error("BENCH_TOPOLOGY must be 'split' or 'thread'");
const split = topology === 'split';
const thread = topology === 'thread';
if (!(seconds > 0)) throw new Error('usage: bench/gateway.ts [seconds]');
const exposedGc = (globalThis as { gc?: () => void }).gc;
if (!exposedGc) throw new Error('run with node --expose-gc --import tsx bench/gateway.ts');
const gc: () => void = exposedGc;

// The bench prints through `print`; everything else written to stdout (the Overseer's log) goes to a file.
const stdoutWrite = process.stdout.write.bind(process.stdout);
const print = (text: string) => stdoutWrite(`${text}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Call {
  path: string;
  body: string;
}

interface Result {
  requests: number;
  /** CPU µs per request: this process, and [nats-server, simulator] for the Overseer. */
  cpuUs?: number;
  otherCpuUs?: number[];
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
  statuses: Map<string, number>;
}

/** CPU time (ms) of another process so far, from /proc/<pid>/stat (utime + stime); NaN when unreadable. */
function processCpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[11], fields[12] = utime, stime (fields 14 and 15 of stat) in clock ticks (100 Hz on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Runs a phase and adds the CPU it cost per request answered: this process, and the processes `others`. */
async function withCpu(others: (number | undefined)[], phase: () => Promise<Result>): Promise<Result> {
  const before = process.cpuUsage();
  const othersBefore = others.map(processCpuMs);
  const r = await phase();
  const used = process.cpuUsage(before);
  return {
    ...r,
    cpuUs: (used.user + used.system) / r.requests,
    otherCpuUs: others.map((pid, i) => ((processCpuMs(pid) - (othersBefore[i] ?? 0)) * 1000) / r.requests),
  };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function summarize(latencies: number[], wallMs: number, errors: number, statuses: Map<string, number>): Result {
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: latencies.length,
    seconds: wallMs / 1000,
    perSecond: latencies.length / (wallMs / 1000),
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    errors,
    statuses,
  };
}

/** One request; returns the answer's label (decision or status) — an error label when it is not `expected`. */
async function send(pool: Pool, headers: Record<string, string>, call: Call, expected: number): Promise<string> {
  const res = await pool.request({ method: 'POST', path: call.path, headers, body: call.body });
  const text = await res.body.text();
  if (res.statusCode !== expected) return `error ${res.statusCode}`;
  const answer = JSON.parse(text) as { decision?: string; reasons?: string[] };
  if (!answer.decision) return 'ok';
  const reason = answer.reasons?.[0] ?? '';
  const why = /production/.test(reason) ? ' (production)' : /active request/.test(reason) ? ' (conflict)' : '';
  return `${answer.decision}${why}`;
}

function count(statuses: Map<string, number>, label: string): void {
  statuses.set(label, (statuses.get(label) ?? 0) + 1);
}

/** CONNECTIONS requests always in flight for `forSeconds`. */
async function closedLoop(
  pool: Pool,
  headers: Record<string, string>,
  next: () => Call,
  expected: number,
  forSeconds: number,
): Promise<Result> {
  const latencies: number[] = [];
  const statuses = new Map<string, number>();
  let errors = 0;
  const start = performance.now();
  const end = start + forSeconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      let label: string;
      try {
        label = await send(pool, headers, next(), expected);
      } catch (error) {
        label = `error ${(error as Error).name}`;
      }
      latencies.push(performance.now() - t0);
      if (label.startsWith('error')) errors++;
      count(statuses, label);
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  return summarize(latencies, performance.now() - start, errors, statuses);
}

/** `rate` requests per second on a fixed schedule; latency counted from each request's scheduled time. */
async function openLoop(
  pool: Pool,
  headers: Record<string, string>,
  next: () => Call,
  expected: number,
  rate: number,
  forSeconds: number,
): Promise<Result> {
  const latencies: number[] = [];
  const statuses = new Map<string, number>();
  let errors = 0;
  const total = Math.round(rate * forSeconds);
  const inflight = new Set<Promise<void>>();
  const start = performance.now();
  let sent = 0;
  const fire = (scheduled: number) => {
    const p = send(pool, headers, next(), expected)
      .catch((error: Error) => `error ${error.name}`)
      .then((label) => {
        latencies.push(performance.now() - scheduled);
        if (label.startsWith('error')) errors++;
        count(statuses, label);
        inflight.delete(p);
      });
    inflight.add(p);
  };
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
    for (; sent < due; sent++) fire(start + (sent * 1000) / rate);
    // Asleep until the next one is due: a 1 ms poll would cost this process 100-200 ms of CPU a second on this
    // machine, most of the CPU counted per decision at 100 requests/s.
    await sleep(Math.max(1, start + (sent * 1000) / rate - performance.now()));
  }
  await Promise.all(inflight);
  return summarize(latencies, performance.now() - start, errors, statuses);
}

async function startSimProcess(secret: string): Promise<{ proc: ChildProcess; port: number; tokenId: string }> {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'sim-server.ts'), String(VMS), String(NODES), secret],
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

/** `overseer serve --role core` in a process of its own, its log into `log`; resolves once it wrote the admin token. */
async function startCoreProcess(env: Record<string, string>, log: NodeJS.WritableStream): Promise<ChildProcess> {
  const proc = spawn(process.execPath, [join(import.meta.dirname, '..', 'cli', 'bin.js'), 'serve', '--role', 'core'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  proc.stdout?.pipe(log, { end: false });
  const tokenFile = join(env.OVERSEER_DATA_DIR as string, 'admin.token');
  for (let waited = 0; !existsSync(tokenFile); waited += 100) {
    const failure =
      proc.exitCode !== null
        ? `the core exited with ${proc.exitCode}`
        : waited > 60_000
          ? 'the core wrote no admin token in 60 s'
          : undefined;
    if (failure) {
      proc.kill('SIGKILL');
      throw new Error(failure);
    }
    await sleep(100);
  }
  return proc;
}

async function startBaseline(): Promise<{ url: string; close(): Promise<void> }> {
  const app = new Hono();
  app.post('/x', (c) => c.json({ ok: true }));
  const server = createAdaptorServer({ fetch: app.fetch, hostname: '127.0.0.1' }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Runs `phase` under the inspector's CPU profiler when BENCH_CPU_PROFILE names a file, and writes the profile. */
async function profiled<T>(phase: () => Promise<T>): Promise<T> {
  const file = process.env.BENCH_CPU_PROFILE;
  if (!file) return phase();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  try {
    return await phase();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  }
}

const f = (n: number, d = 1) => n.toFixed(d);

function row(what: string, mode: string, r: Result, extra = ''): string {
  return `| ${what} | ${mode} | ${r.requests} | ${f(r.perSecond, 0)} | ${f(r.p50, 2)} | ${f(r.p99, 2)} | ${r.errors} | ${extra} |`;
}

function mix(r: Result): string {
  return [...r.statuses]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'overseer-bench-gw-'));
  const logFile = createWriteStream(join(dir, 'overseer.log'));
  let sim: ChildProcess | undefined;
  let core: ChildProcess | undefined;
  let stopOverseer: (() => Promise<void>) | undefined;
  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    // --- baseline: bare Hono -------------------------------------------------------------------------------
    const bare = await startBaseline();
    cleanups.push(() => bare.close());
    const barePool = new Pool(bare.url, { connections: CONNECTIONS, pipelining: 1 });
    cleanups.push(() => barePool.close());
    const bareHeaders = { 'content-type': 'application/json', authorization: 'Bearer x' };
    const bareCall = (): Call => ({ path: '/x', body: '{"action":"snapshot","target":"bench/100"}' });
    await closedLoop(barePool, bareHeaders, bareCall, 200, WARMUP_SECONDS);
    gc();
    const bareClosed = await withCpu([], () => closedLoop(barePool, bareHeaders, bareCall, 200, seconds));
    gc();
    const bareOpen = await openLoop(barePool, bareHeaders, bareCall, 200, OPEN_LOOP_RATE, seconds);

    // --- Overseer: the real stack over a real nats-server --------------------------------------------------
    const nats = await spawnNatsServer({ port: await findFreePort(), storeDir: join(dir, 'nats') });
    cleanups.push(() => nats.stop());
    const secret = randomUUID();
    const started = await startSimProcess(secret);
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
          },
        ],
        // largeSeed has no production tag: its 'db' VMs (every fifth) are the production ones here.
        gate: { production: { tags: ['db'] } },
      }),
    );
    const port = await findFreePort();
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) =>
      logFile.write(chunk, ...rest)) as typeof process.stdout.write;
    const env = {
      OVERSEER_DATA_DIR: join(dir, 'data'),
      OVERSEER_CONFIG: configPath,
      NATS_URL: nats.url,
      OVERSEER_PORT: String(port),
      OVERSEER_RATE_LIMIT: 'off',
    };
    if (split) {
      core = await startCoreProcess(env, logFile);
      stopOverseer = await serve(['--role', 'gateway'], env);
    } else {
      stopOverseer = await serve(['--role', 'all'], { ...env, ...(thread ? { OVERSEER_GATEWAY_THREAD: 'on' } : {}) });
    }
    const token = readFileSync(join(dir, 'data', 'admin.token'), 'utf8').trim();
    const url = `http://127.0.0.1:${port}`;
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    const pool = new Pool(url, { connections: CONNECTIONS, pipelining: 1 });
    cleanups.push(() => pool.close());
    // Ready once the first sync has put the whole fleet in the core's view.
    for (let waited = 0; ; waited += 200) {
      const res = await fetch(`${url}/v1/vms?limit=1`, { headers }).catch(() => undefined);
      const total = res?.ok ? ((await res.json()) as { total: number }).total : 0;
      if (total >= VMS) break;
      if (waited > 120_000) throw new Error(`the fleet never appeared (${total} of ${VMS} VMs)`);
      await sleep(200);
    }

    // largeSeed: VM 100+i carries the 'db' tag when i % 5 === 1.
    const production = Array.from({ length: VMS / 5 }, (_, k) => 100 + 5 * k + 1);
    const others = Array.from({ length: VMS }, (_, i) => 100 + i).filter((vmid) => (vmid - 100) % 5 !== 1);
    let n = 0;
    const overseerCall = (): Call => {
      const i = n++;
      const denied = deniedOnly || (!approvedOnly && i % 2 === 0);
      const body = denied
        ? { action: 'destroy', target: `bench/${production[(i >> 1) % production.length]}` }
        : {
            action: 'snapshot',
            target: `bench/${others[(approvedOnly ? i : i >> 1) % others.length]}`,
            params: { snapname: `b${i}` },
          };
      return { path: '/v1/requests', body: JSON.stringify(body) };
    };
    // Lightest load first: each phase leaves approved snapshots queued behind it (executed in the background).
    await closedLoop(pool, headers, overseerCall, 201, WARMUP_SECONDS);
    gc();
    const processes = core ? [nats.pid, sim.pid, core.pid] : [nats.pid, sim.pid];
    const light = await withCpu(processes, () => openLoop(pool, headers, overseerCall, 201, LIGHT_RATE, seconds));
    gc();
    const closed = await withCpu(processes, () =>
      profiled(() => closedLoop(pool, headers, overseerCall, 201, seconds)),
    );
    gc();
    const open = await withCpu(processes, () => openLoop(pool, headers, overseerCall, 201, OPEN_LOOP_RATE, seconds));

    // --- report ------------------------------------------------------------------------------------------
    const command = `${requestMix ? `BENCH_MIX=${requestMix} ` : ''}${topology ? `BENCH_TOPOLOGY=${topology} ` : ''}node --expose-gc --import tsx bench/gateway.ts ${seconds}`;
    print(`Command: ${command}`);
    print(
      `Node ${process.version}; ${CONNECTIONS} keep-alive connections (undici Pool); fleet ${VMS} VMs on ${NODES} nodes; ` +
        `nats-server ${nats.url}; rate limit off; ${core ? 'the core in a process of its own (serve --role core), the gateway in this one' : thread ? 'serve --role all in this process, the gateway on a thread of its own (OVERSEER_GATEWAY_THREAD=on)' : 'serve --role all in this process'}.\n`,
    );
    print('| endpoint | load | requests | req/s | p50 ms | p99 ms | errors | |');
    print('|---|---|---:|---:|---:|---:|---:|---|');
    print(row('bare Hono `POST /x`', `closed, ${CONNECTIONS} in flight`, bareClosed, 'baseline'));
    print(row('bare Hono `POST /x`', `open, ${OPEN_LOOP_RATE} req/s`, bareOpen));
    print(row('Overseer `POST /v1/requests`', `open, ${LIGHT_RATE} req/s`, light, 'below saturation'));
    print(
      row(
        'Overseer `POST /v1/requests`',
        `closed, ${CONNECTIONS} in flight`,
        closed,
        `${((closed.perSecond / bareClosed.perSecond) * 100).toFixed(1)}% of baseline req/s`,
      ),
    );
    print(
      row(
        'Overseer `POST /v1/requests`',
        `open, ${OPEN_LOOP_RATE} req/s`,
        open,
        `p99 ${open.p99 <= TARGET_P99_MS ? 'within' : 'OVER'} the ${TARGET_P99_MS} ms target`,
      ),
    );
    print('');
    const cpu = (r: Result) =>
      `${r.cpuUs?.toFixed(0)} µs this process` +
      (r.otherCpuUs?.length
        ? ` + ${r.otherCpuUs.map((u) => u.toFixed(0)).join(' + ')} µs nats-server + simulator${core ? ' + core' : ''}`
        : '');
    print(`CPU per request, bare Hono closed loop: ${cpu(bareClosed)}`);
    print(`CPU per decision, open loop ${LIGHT_RATE} req/s: ${cpu(light)}`);
    // The Overseer's own CPU: this process, and the core's when it runs apart.
    const overseerUs = (closed.cpuUs ?? 0) + (core ? (closed.otherCpuUs?.[2] ?? 0) : 0);
    print(
      `CPU per decision, closed loop: ${cpu(closed)} (${core ? 'this process + core' : 'this process'}: ${(overseerUs / (bareClosed.cpuUs ?? 1)).toFixed(1)}× bare Hono's per request)`,
    );
    print(`CPU per decision, open loop ${OPEN_LOOP_RATE} req/s: ${cpu(open)}`);
    print(`Decisions (open loop, ${LIGHT_RATE} req/s): ${mix(light)}`);
    print(`Decisions (closed loop): ${mix(closed)}`);
    print(`Decisions (open loop, ${OPEN_LOOP_RATE} req/s): ${mix(open)}`);
    // An answer that is an error is not a decision: a run with any gives no figure (bench/run.ts marks it failed).
    const phases = [light, closed, open];
    const failures = phases.reduce((n, r) => n + r.errors, 0);
    if (failures > 0) {
      const requests = phases.reduce((n, r) => n + r.requests, 0);
      throw new Error(`the Overseer answered ${failures} of ${requests} requests with an error: no decision figures`);
    }
    reportTarget(
      {
        row: 'decisions',
        value: `${f(closed.perSecond, 0)} decisions/s (p50 ${f(closed.p50, 1)} ms)`,
        baseline: `bare Hono ${f(bareClosed.perSecond, 0)} req/s, same client`,
        result: `${(closed.perSecond / bareClosed.perSecond).toFixed(3)}×`,
        target: '≥ 0.25×',
        met: closed.perSecond >= 0.25 * bareClosed.perSecond,
        command,
      },
      print,
    );
    reportTarget(
      {
        row: 'decisionP99At1k',
        value: `p99 ${f(open.p99, 1)} ms (${f(open.perSecond, 0)} of ${OPEN_LOOP_RATE} req/s served)`,
        baseline: `bare Hono at ${OPEN_LOOP_RATE} req/s: p99 ${f(bareOpen.p99, 2)} ms`,
        result: `${f(open.p99, 1)} ms (${(open.p99 / bareOpen.p99).toFixed(0)}× bare)`,
        target: `≤ ${TARGET_P99_MS} ms`,
        met: open.p99 <= TARGET_P99_MS,
        command,
      },
      print,
    );
  } finally {
    process.stdout.write = stdoutWrite;
    await stopOverseer?.();
    for (const cleanup of cleanups.reverse()) await cleanup();
    if (core && core.exitCode === null) {
      const exited = new Promise((r) => core?.once('exit', r));
      core.kill('SIGTERM');
      await exited;
    }
    sim?.stdin?.end();
    sim?.kill('SIGTERM');
    logFile.end();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
