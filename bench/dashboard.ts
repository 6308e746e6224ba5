// Dashboard benchmark: the fleet view of a 10,000-VM fleet in Debian's Chromium (/usr/bin/chromium, driven by
// playwright-core), served by the real Overseer — `node cli/bin.js serve --role all` (what `npm start` runs) with
// SQLite in a temp dir, a real nats-server started here (JetStream) and the PVE simulator's largeSeed in a child
// process (bench/sim-server.ts, cluster 'bench', 20 nodes).
//
// 1. Time to first meaningful paint of the fleet view: navigation start → the first frame painted with VM rows in
//    the table (a MutationObserver sees the first `vm-row-…` element; the time is taken after the next frame, in a
//    task queued from requestAnimationFrame, i.e. once that frame is painted). Baseline in the same run, on the same
//    server and the same way: the dashboard's empty page, the sign-in form (same HTML and bundle, no data), to its
//    first painted `signin-submit`. Also shown: first-contentful-paint of GET /healthz (a bare JSON answer of the
//    same gateway). Each page is loaded once unmeasured (warm HTTP cache, as a returning user), then `runs` times;
//    medians.
// 2. Main-thread busy time while `rate` VM state events per second arrive for `seconds`: published on NATS here
//    (`overseer.bench.evt.vm.bench.<vmid>.state`, the core's payload), relayed by the gateway's GET /v1/events to
//    the page's EventSource. Busy time is the renderer's main-thread task time (DevTools protocol
//    Performance.getMetrics `TaskDuration`, before and after), per second of wall time; long tasks (> 50 ms)
//    counted by a PerformanceObserver. Baselines in the same run: the same fleet page with no events (idle), and a
//    bare EventSource on the same stream that does nothing with the events (the cost of receiving them at all).
//
// Run: node --import tsx bench/dashboard.ts [vms=10000] [seconds=10] [rate=1000] [runs=5]
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { connect } from '@nats-io/transport-node';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { NatsServerProcess } from '../adapters/nats';
import { findFreePort, spawnNatsServer, toNamespace } from '../adapters/nats';
import { subjects } from '../protocol';
import { launchChromium } from '../tests/browser/chromium';
import { ensurePrerequisites } from '../tests/setup/prerequisites';

const [vmsArg = '10000', secondsArg = '10', rateArg = '1000', runsArg = '5'] = process.argv.slice(2);
const VMS = Number(vmsArg);
const SECONDS = Number(secondsArg);
const RATE = Number(rateArg);
const RUNS = Number(runsArg);
if (![VMS, SECONDS, RATE, RUNS].every((n) => Number.isInteger(n) && n > 0)) {
  throw new Error('usage: bench/dashboard.ts [vms] [seconds] [rate] [runs]');
}
const NODES = 20;
const NAMESPACE = 'bench';
const root = join(import.meta.dirname, '..');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const LIMIT_MS = 120_000;
const print = (text: string) => process.stdout.write(`${text}\n`);

/** Installed in every page before its own scripts (DevTools protocol, so the page's CSP does not apply). */
const PROBE = `(() => {
  const probe = { paintedAt: null, longTasks: 0, longTaskMs: 0, messages: 0 };
  Object.defineProperty(window, '__bench', { value: probe });
  const SELECTOR = '[data-testid^="vm-row-"], [data-testid="signin-submit"]';
  const painted = () => requestAnimationFrame(() => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => { probe.paintedAt = performance.now(); };
    channel.port2.postMessage(0);
  });
  new MutationObserver((_, observer) => {
    if (!document.querySelector(SELECTOR)) return;
    observer.disconnect();
    painted();
  }).observe(document, { childList: true, subtree: true });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) { probe.longTasks++; probe.longTaskMs += e.duration; }
  }).observe({ type: 'longtask', buffered: true });
  const Native = window.EventSource;
  window.EventSource = class extends Native {
    constructor(url, init) { super(url, init); this.addEventListener('message', () => { probe.messages++; }); }
  };
})();`;

interface Probe {
  paintedAt: number | null;
  longTasks: number;
  longTaskMs: number;
  messages: number;
}

const readProbe = (page: Page) => page.evaluate(() => (globalThis as unknown as { __bench: Probe }).__bench);

/** Polls the page (bounded) until `ok` holds of its probe. */
async function probeUntil(page: Page, what: string, ok: (p: Probe) => boolean, ms = 60_000): Promise<Probe> {
  const deadline = Date.now() + ms;
  for (;;) {
    const probe = await readProbe(page);
    if (ok(probe)) return probe;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms (${JSON.stringify(probe)})`);
    await sleep(20);
  }
}

interface Paint {
  ms: number;
  fcp: number;
  rowsInDom: number;
}

/** Loads `path` in a new page of `context`: navigation start → the first painted row (or sign-in button). */
async function paintOf(context: BrowserContext, url: string, path: string): Promise<Paint> {
  const page = await context.newPage();
  try {
    await page.goto(`${url}${path}`, { waitUntil: 'commit' });
    const probe = await probeUntil(page, `first paint of ${path}`, (p) => p.paintedAt !== null);
    return page.evaluate((paintedAt) => {
      const g = globalThis as unknown as {
        performance: { getEntriesByName(n: string): { startTime: number }[] };
        document: { querySelectorAll(s: string): { length: number } };
      };
      return {
        ms: paintedAt,
        fcp: g.performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN,
        rowsInDom: g.document.querySelectorAll('[data-testid^="vm-row-"]').length,
      };
    }, probe.paintedAt!);
  } finally {
    await page.close();
  }
}

/** First-contentful-paint of a page that is not the dashboard (GET /healthz). */
async function fcpOf(context: BrowserContext, url: string): Promise<number> {
  const page = await context.newPage();
  try {
    await page.goto(url, { waitUntil: 'load' });
    for (let i = 0; i < 100; i++) {
      const fcp = await page.evaluate(
        () =>
          (
            globalThis as unknown as { performance: { getEntriesByName(n: string): { startTime: number }[] } }
          ).performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
      );
      if (fcp !== undefined) return fcp;
      await sleep(20);
    }
    return Number.NaN;
  } finally {
    await page.close();
  }
}

/** What the fleet view waits for before its first row: every guest, in pages of 1,000 (the first, then the rest). */
async function allGuestsMs(url: string, token: string): Promise<number> {
  const headers = { authorization: `Bearer ${token}` };
  const page = async (offset: number) => {
    const res = await fetch(`${url}/v1/vms?limit=1000&offset=${offset}`, { headers });
    return (await res.json()) as { items: unknown[]; total: number };
  };
  const t0 = performance.now();
  const first = await page(0);
  const offsets = Array.from({ length: Math.ceil(first.total / 1000) - 1 }, (_, i) => (i + 1) * 1000);
  const rest = await Promise.all(offsets.map(page));
  const got = first.items.length + rest.reduce((n, p) => n + p.items.length, 0);
  if (got !== first.total) throw new Error(`GET /v1/vms gave ${got} of ${first.total} guests`);
  return performance.now() - t0;
}

interface Busy {
  /** Main-thread task time per second of wall time (ms/s). */
  perSecond: number;
  longTasks: number;
  longTaskMs: number;
  messages: number;
}

/** The page's main-thread busy time over `seconds` while `during` runs (events published, or nothing). */
async function busyOf(page: Page, during: () => Promise<void>): Promise<Busy> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const task = async () =>
    (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0;
  const before = { task: await task(), probe: await readProbe(page), at: performance.now() };
  await during();
  const after = { task: await task(), probe: await readProbe(page), at: performance.now() };
  await cdp.detach();
  return {
    perSecond: ((after.task - before.task) * 1000) / ((after.at - before.at) / 1000),
    longTasks: after.probe.longTasks - before.probe.longTasks,
    longTaskMs: after.probe.longTaskMs - before.probe.longTaskMs,
    messages: after.probe.messages - before.probe.messages,
  };
}

/** `RATE` VM state events per second for `SECONDS` on NATS, paced on a schedule; then a flush. */
async function publishEvents(natsUrl: string): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  try {
    const total = RATE * SECONDS;
    const start = performance.now();
    let sent = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * RATE) + 1);
      for (; sent < due; sent++) {
        // A stride through the fleet: every VM's row changes once in 10,000 events, in no table order.
        const vmid = 100 + ((sent * 7919) % VMS);
        const up = Math.floor(sent / VMS) % 2 === 0;
        const payload = {
          id: `vm:bench/${vmid}`,
          from: up ? 'running' : 'stopped',
          to: up ? 'stopped' : 'running',
          at: Date.now(),
        };
        nc.publish(toNamespace(subjects.evtVm('bench', vmid, 'state'), NAMESPACE), JSON.stringify(payload));
      }
      await sleep(5);
    }
    await nc.flush();
  } finally {
    await nc.close();
  }
}

function spawnLogged(args: string[], env: NodeJS.ProcessEnv, log: NodeJS.WritableStream): ChildProcess {
  const proc = spawn(process.execPath, args, { cwd: root, env, stdio: ['pipe', 'pipe', 'pipe'] });
  proc.stdout!.pipe(log, { end: false });
  proc.stderr!.pipe(log, { end: false });
  return proc;
}

async function readyLine<T>(proc: ChildProcess): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      if (line.startsWith('READY ')) resolve(JSON.parse(line.slice('READY '.length)) as T);
    });
    proc.once('exit', (code) => reject(new Error(`${proc.spawnargs.join(' ')} exited with ${code}`)));
  });
}

const f0 = (n: number) => n.toFixed(0);
const f2 = (n: number) => n.toFixed(2);

async function main(): Promise<void> {
  // A fresh checkout has no chromium and no built dashboard (`npm start` builds it): as the tests' setup does.
  ensurePrerequisites('bench/dashboard.ts');
  const dir = mkdtempSync(join(tmpdir(), 'overseer-bench-dashboard-'));
  const log = createWriteStream(join(dir, 'processes.log'));
  let nats: NatsServerProcess | undefined;
  let sim: ChildProcess | undefined;
  let overseer: ChildProcess | undefined;
  let browser: Browser | undefined;
  try {
    nats = await spawnNatsServer({ port: await findFreePort(), jetstream: true, storeDir: join(dir, 'nats') });
    const secret = randomUUID();
    sim = spawnLogged(['--import', 'tsx', 'bench/sim-server.ts', String(VMS), String(NODES), secret], process.env, log);
    const { port: simPort, tokenId } = await readyLine<{ port: number; tokenId: string }>(sim);
    const configPath = join(dir, 'overseer.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        clusters: [
          {
            name: 'bench',
            host: '127.0.0.1',
            port: simPort,
            protocol: 'http',
            auth: { type: 'token', tokenId, secret },
          },
        ],
      }),
    );
    const port = await findFreePort();
    const url = `http://127.0.0.1:${port}`;
    overseer = spawnLogged(
      ['cli/bin.js', 'serve', '--role', 'all'],
      {
        ...process.env,
        OVERSEER_DATA_DIR: join(dir, 'data'),
        OVERSEER_CONFIG: configPath,
        NATS_URL: nats.url,
        OVERSEER_NAMESPACE: NAMESPACE,
        OVERSEER_PORT: String(port),
        OVERSEER_RATE_LIMIT: 'off',
        OVERSEER_INSPECT: '',
      },
      log,
    );
    // Ready once the first sync has put the whole fleet in the core's view.
    const limit = Date.now() + LIMIT_MS;
    let token = '';
    for (;;) {
      const tokenFile = join(dir, 'data', 'admin.token');
      if (!token && existsSync(tokenFile)) token = readFileSync(tokenFile, 'utf8').trim();
      const res = token
        ? await fetch(`${url}/v1/vms?limit=1`, { headers: { authorization: `Bearer ${token}` } }).catch(() => undefined)
        : undefined;
      const total = res?.ok ? ((await res.json()) as { total: number }).total : 0;
      if (total >= VMS) break;
      if (overseer.exitCode !== null || Date.now() > limit) {
        throw new Error(`the fleet never appeared (${total} of ${VMS}); see ${join(dir, 'processes.log')}`);
      }
      await sleep(200);
    }

    browser = await launchChromium();
    const viewport = { width: 1280, height: 800 };
    const visitor = await browser.newContext({ viewport });
    const user = await browser.newContext({ viewport });
    for (const context of [visitor, user]) await context.addInitScript(PROBE);
    const signedIn = await user.request.post(`${url}/v1/session`, { data: { token } });
    if (signedIn.status() !== 200) throw new Error(`POST /v1/session answered ${signedIn.status()}`);

    // --- 1. first meaningful paint ---------------------------------------------------------------------------
    const healthz: number[] = [];
    const empty: Paint[] = [];
    const fleet: Paint[] = [];
    const apiMs: number[] = [];
    for (let i = 0; i <= RUNS; i++) {
      const h = await fcpOf(visitor, `${url}/healthz`);
      const e = await paintOf(visitor, url, '/');
      const f = await paintOf(user, url, '/#/fleet');
      const a = await allGuestsMs(url, token);
      // The first load of each warms its context's HTTP cache: not counted.
      if (i === 0) continue;
      healthz.push(h);
      empty.push(e);
      fleet.push(f);
      apiMs.push(a);
    }

    // --- 2. main-thread busy time under events ---------------------------------------------------------------
    const page = await user.newPage();
    await page.goto(`${url}/#/fleet`, { waitUntil: 'commit' });
    await probeUntil(page, 'the fleet view', (p) => p.paintedAt !== null);
    await sleep(2_000);
    const idle = await busyOf(page, () => sleep(SECONDS * 1000));
    const loaded = await busyOf(page, () => publishEvents(nats!.url).then(() => sleep(500)));
    await page.close();
    // The baseline stream: an EventSource on a page of the same origin (the session's cookie) that only counts.
    const bare = await user.newPage();
    await bare.goto(`${url}/healthz`);
    await bare.evaluate(() => {
      const g = globalThis as unknown as { EventSource: new (u: string) => unknown };
      new g.EventSource('/v1/events?filter=overseer.evt.>');
    });
    await sleep(1_000);
    const raw = await busyOf(bare, () => publishEvents(nats!.url).then(() => sleep(500)));
    await bare.close();

    // --- report ----------------------------------------------------------------------------------------------
    const m = (xs: Paint[], k: keyof Paint) => median(xs.map((x) => x[k]));
    const events = RATE * SECONDS;
    print(`Command: node --import tsx bench/dashboard.ts ${VMS} ${SECONDS} ${RATE} ${RUNS}`);
    print(
      `Node ${process.version}; Chromium ${browser.version()} headless (${viewport.width}×${viewport.height}); ` +
        `fleet ${VMS} VMs on ${NODES} nodes; nats-server ${nats.url}; medians of ${RUNS} loads after a warm-up.\n`,
    );
    print(
      '| page | first meaningful paint (median) | all runs | first-contentful-paint | VM rows in the DOM | ratio |',
    );
    print('|---|---:|---|---:|---:|---:|');
    print(`| GET /healthz (bare JSON, same gateway) | — | — | ${f0(median(healthz))} ms | — | |`);
    print(
      `| dashboard, sign-in form (empty page, baseline) | ${f0(m(empty, 'ms'))} ms | ${empty.map((x) => f0(x.ms)).join(', ')} | ` +
        `${f0(m(empty, 'fcp'))} ms | 0 | 1.00 |`,
    );
    print(
      `| **dashboard, fleet view, ${VMS} VMs** | **${f0(m(fleet, 'ms'))} ms** | ${fleet.map((x) => f0(x.ms)).join(', ')} | ` +
        `${f0(m(fleet, 'fcp'))} ms | ${m(fleet, 'rowsInDom')} | **${f2(m(fleet, 'ms') / m(empty, 'ms'))}×** |`,
    );
    print(
      `| where the fleet view's time goes: GET /v1/vms, all ${VMS} guests in pages of 1,000 (Node's fetch, no ` +
        `browser) | ${f0(median(apiMs))} ms | ${apiMs.map(f0).join(', ')} | | | |`,
    );
    print('');
    print(`| page, ${SECONDS} s | events received | main-thread busy | long tasks (> 50 ms) | ratio |`);
    print('|---|---:|---:|---:|---:|');
    const busyRow = (what: string, b: Busy, ratio: string) =>
      `| ${what} | ${b.messages} | ${f0(b.perSecond)} ms/s (${f0(b.perSecond / 10)} %) | ${b.longTasks} (${f0(b.longTaskMs)} ms) | ${ratio} |`;
    print(busyRow('fleet view, no events (idle)', idle, ''));
    print(busyRow(`bare EventSource, ${RATE} events/s (baseline)`, raw, '1.00'));
    print(
      busyRow(`**fleet view, ${RATE} events/s**`, loaded, `**${f2(loaded.perSecond / Math.max(raw.perSecond, 1))}×**`),
    );
    print(`\n${events} events published per phase.`);
  } finally {
    await browser?.close().catch(() => {});
    if (overseer && overseer.exitCode === null) {
      const exited = new Promise((r) => overseer!.once('exit', r));
      overseer.kill('SIGTERM');
      if ((await Promise.race([exited, sleep(10_000).then(() => 'late')])) === 'late') overseer.kill('SIGKILL');
    }
    sim?.stdin?.end();
    sim?.kill('SIGTERM');
    await nats?.stop().catch(() => {});
    log.end();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
