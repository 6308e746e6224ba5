// Event fan-out benchmark: how many events per second the runtime publishes to NATS when VMs change state.
// A real nats-server (started here on a free port on 127.0.0.1, JetStream on, the OVERSEER_EVENTS stream ensured,
// so every event is also stored) and the Overseer runtime (SQLite in a temp dir, `events` = a NatsBus). Each cycle
// hands `overseer.observe()` an inventory of <vms> VMs whose status flips (all running ↔ all stopped), so every VM
// actor changes state once per cycle: a state event each, plus an `issue` event for each running → stopped (no
// request explains the stop). A subscriber on its own connection counts `overseer.evt.>` until every published
// event has arrived; the rate is published events ÷ (first observe → last event received).
// Baseline in the same run, through the same server: raw `nc.publish` of the same subjects with JSON payloads of
// the same sizes (as many as the Overseer published), counted by the same subscriber the same way.
// Repeated <reps> times (baseline, then Overseer); medians reported. The stream is purged before each run, so it
// stays below its limit (100k messages): nats-server 2.9 (Debian's 2.9.10 here) ingests a stream that is AT its
// max_msgs limit with discard-old and thousands of distinct subjects ~100× slower (nats-io/nats-server#4043).
// That regime is measured too, once each, with a smaller flip (<full-flip> VMs), after filling the stream.
// Run: node --import tsx bench/events.ts [vms=10000] [cycles=2] [reps=3] [full-flip=2000] (full-flip 0: that regime is
// skipped). Besides wall time, each run's CPU time in this process (publisher, client, subscriber: process.cpuUsage)
// is read, and events per CPU second compared the same way.
// BENCH_CPU_PROFILE=<file.cpuprofile>: a CPU profile (node:inspector, 100 µs sampling) of the Overseer's first run
// below the limit (measured under the profiler); summarise it with `node --import tsx bench/lab-profile.ts <file>`.
// Stream probe (which stream settings keep nats-server 2.9 fast once the stream is full):
//   node --import tsx bench/events.ts probe [subjects=10000] [max_msgs=100000] [publishes=20000]
// fills a stream of each candidate configuration to its limit with <subjects> distinct subjects, then times raw
// publishes of the same subjects (counted by a subscriber) against the same publishes into no stream at all.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { connect } from '@nats-io/transport-node';
import { parseConfig } from '../actors/config';
import type { EventSink } from '../actors/overseer';
import { Overseer } from '../actors/overseer';
import { SystemClock } from '../adapters/clock';
import type { NatsBus, NatsServerProcess } from '../adapters/nats';
import { connectBus, EVENT_STREAM, ensureEventStream, findFreePort, spawnNatsServer } from '../adapters/nats';
import type { Inventory } from '../adapters/platform/types';
import { StateStore } from '../state';
import { largeInventory } from './fleet';
import { quietLog } from './offline-runtime';
import { reportTarget } from './targets';

const probing = process.argv[2] === 'probe';
const vms = probing ? 1 : Number(process.argv[2] ?? 10_000);
const cycles = Number(process.argv[3] ?? 2);
const reps = Number(process.argv[4] ?? 3);
const fullFlip = Math.min(vms, Number(process.argv[5] ?? 2000));
const profileFile = process.env.BENCH_CPU_PROFILE;
if (!(vms > 0) || !(cycles > 0) || !(reps > 0)) throw new Error('usage: bench/events.ts [vms] [cycles] [reps]');
const NODES = 20;
const WAIT_LIMIT_MS = 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Counts what arrives on overseer.evt.> (its own connection, as any consumer's). */
class Counter {
  received = 0;
  lastAt = 0;
  /** The subject and size of each message as it arrived: the shape of what was published. */
  shape: { subject: string; size: number }[] = [];
  constructor(readonly nc: NatsConnection) {
    nc.subscribe('overseer.evt.>', {
      callback: (_, msg) => {
        this.received++;
        this.lastAt = performance.now();
        this.shape.push({ subject: msg.subject, size: msg.data.length });
      },
    });
  }
  reset(): void {
    this.received = 0;
    this.lastAt = 0;
    this.shape = [];
  }
  async waitFor(n: number): Promise<number> {
    const limit = performance.now() + WAIT_LIMIT_MS;
    while (this.received < n) {
      if (performance.now() > limit) throw new Error(`only ${this.received} of ${n} events arrived`);
      await sleep(1);
    }
    return this.lastAt;
  }
}

interface Sample {
  events: number;
  stateEvents: number;
  ms: number;
  perSecond: number;
  /** Of `ms`, the time spent inside observe() (actors, SQLite, JSON encoding, handing bytes to the client). */
  observeMs?: number;
  /** CPU time (user + system) of this process over the run. */
  cpuMs: number;
}

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** A CPU profiler for the Overseer's first run (BENCH_CPU_PROFILE; that run is measured under it). */
class RunProfiler {
  private session: Session | undefined;
  private profiles: unknown[] = [];
  async start(): Promise<void> {
    if (!profileFile) return;
    if (!this.session) {
      this.session = new Session();
      this.session.connect();
      await this.session.post('Profiler.enable');
      await this.session.post('Profiler.setSamplingInterval', { interval: 100 });
    }
    await this.session.post('Profiler.start');
  }
  async pause(): Promise<void> {
    if (!this.session) return;
    const { profile } = await this.session.post('Profiler.stop');
    this.profiles.push(profile);
  }
  /** Writes the first run's profile (one run is what the summary reads). */
  write(): void {
    if (!profileFile || this.profiles.length === 0) return;
    writeFileSync(profileFile, JSON.stringify(this.profiles[0]));
    this.session?.disconnect();
  }
}

/** The fleet with the first `count` VMs (default all) in `status`, the others running. */
function inventoryWith(base: Inventory, status: 'running' | 'stopped', count = base.vms.length): Inventory {
  return {
    ...base,
    fetchedAt: Date.now(),
    vms: base.vms.map((vm, i) => {
      const s = i < count ? status : 'running';
      return { ...vm, status: s, uptime: s === 'running' ? 1000 : 0 };
    }),
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'overseer-bench-events-'));
  let server: NatsServerProcess | undefined;
  let bus: NatsBus | undefined;
  let raw: NatsConnection | undefined;
  let sub: NatsConnection | undefined;
  let store: StateStore | undefined;
  let overseer: Overseer | undefined;
  try {
    server = await spawnNatsServer({ port: await findFreePort(), jetstream: true, storeDir: join(dir, 'nats') });
    bus = await connectBus({ servers: server.url, name: 'bench-overseer', log: quietLog });
    await ensureEventStream(await bus.jetstreamManager());
    raw = await connect({ servers: server.url, name: 'bench-raw' });
    sub = await connect({ servers: server.url, name: 'bench-counter' });
    const counter = new Counter(sub);
    await sub.flush();

    // The Overseer's events go to the bus; the wrapper counts them. Their subjects and sizes (the baseline's shape) are
    // what the counter saw arrive: encoding each payload again here would count the bench's own work.
    let recording: { subject: string; size: number }[] = [];
    let published = 0;
    const natsBus = bus;
    const events: EventSink = {
      publish(subject, payload) {
        published++;
        natsBus.publish(subject, payload);
      },
    };
    store = StateStore.open(join(dir, 'overseer.db'));
    overseer = new Overseer({
      clock: new SystemClock(),
      log: quietLog,
      config: parseConfig({}),
      store,
      platforms: new Map(),
      events,
    });
    const base = largeInventory(vms, NODES, Date.now());
    const jsm = await natsBus.jetstreamManager();
    const purge = async () => {
      await jsm.streams.purge(EVENT_STREAM);
    };
    let next: 'running' | 'stopped' = 'stopped';

    // Warm-up (not measured): the actors are created, then one full flip each way.
    const o = overseer;
    o.observe(inventoryWith(base, 'running'));
    for (const inv of [inventoryWith(base, 'stopped'), inventoryWith(base, 'running')]) o.observe(inv);
    await counter.waitFor(published);

    const profiler = new RunProfiler();
    const overseerRun = async (runCycles: number, count = vms, profile = false): Promise<Sample> => {
      counter.reset();
      published = 0;
      const inventories = Array.from({ length: runCycles }, (_, c) =>
        inventoryWith(base, (c % 2 === 0) === (next === 'stopped') ? 'stopped' : 'running', count),
      );
      let observeMs = 0;
      if (profile) await profiler.start();
      const c0 = cpuNow();
      const t0 = performance.now();
      for (const inventory of inventories) {
        const o0 = performance.now();
        o.observe(inventory);
        observeMs += performance.now() - o0;
        next = next === 'stopped' ? 'running' : 'stopped';
        // Let the socket drain between cycles, as between two syncs.
        await new Promise((r) => setImmediate(r));
      }
      const last = await counter.waitFor(published);
      const cpuMs = cpuNow() - c0;
      if (profile) await profiler.pause();
      const ms = last - t0;
      recording = counter.shape;
      const stateEvents = recording.filter((r) => r.subject.endsWith('.state')).length;
      return { events: published, stateEvents, ms, perSecond: published / (ms / 1000), observeMs, cpuMs };
    };

    const baselineRun = async (shape: { subject: string; size: number }[]): Promise<Sample> => {
      // Payloads built before the clock starts: one JSON object per size, padded to that length.
      const payloads = new Map<number, Uint8Array>();
      const encoder = new TextEncoder();
      for (const { size } of shape) {
        if (payloads.has(size)) continue;
        const fill = Math.max(0, size - '{"p":""}'.length);
        payloads.set(size, encoder.encode(JSON.stringify({ p: 'x'.repeat(fill) })));
      }
      const conn = raw!;
      counter.reset();
      const c0 = cpuNow();
      const t0 = performance.now();
      let i = 0;
      for (const { subject, size } of shape) {
        conn.publish(subject, payloads.get(size));
        if (++i % vms === 0) await new Promise((r) => setImmediate(r));
      }
      const last = await counter.waitFor(shape.length);
      const cpuMs = cpuNow() - c0;
      const ms = last - t0;
      return { events: shape.length, stateEvents: shape.length, ms, perSecond: shape.length / (ms / 1000), cpuMs };
    };

    // Regime 1, the stream below its limit (purged before each run). The first Overseer run gives the baseline
    // its shape (subjects and sizes); then baseline and Overseer alternate.
    await purge();
    const overseerSamples: Sample[] = [await overseerRun(cycles, vms, true)];
    let shape = recording;
    const baselineSamples: Sample[] = [];
    for (let r = 0; r < reps; r++) {
      await purge();
      baselineSamples.push(await baselineRun(shape));
      if (r > 0) {
        await purge();
        overseerSamples.push(await overseerRun(cycles));
        shape = recording;
      }
    }

    profiler.write();

    // Regime 2, the stream at its max_msgs limit: filled with the same subjects first (not measured).
    const limit = (await jsm.streams.info(EVENT_STREAM)).config.max_msgs;
    const fill = async () => {
      await purge();
      await baselineRun(Array.from({ length: limit }, (_, k) => shape[k % shape.length]!));
      counter.reset();
    };
    let fullOverseer: Sample | undefined;
    let fullBaseline: Sample | undefined;
    if (fullFlip > 0) {
      await fill();
      fullOverseer = await overseerRun(2, fullFlip);
      const fullShape = recording;
      await fill();
      fullBaseline = await baselineRun(fullShape);
    }
    const kept = (await jsm.streams.info(EVENT_STREAM)).state.messages;

    const median = (xs: Sample[]) => [...xs].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(xs.length / 2)]!;
    const ov = median(overseerSamples);
    const bl = median(baselineSamples);
    const avgSize = shape.reduce((a, b) => a + b.size, 0) / Math.max(1, shape.length);
    const f = (n: number) => Math.round(n).toLocaleString('en');
    const ratio = (x: Sample, y: Sample) => `${(x.perSecond / y.perSecond).toFixed(3)}×`;
    const perCpu = (x: Sample) => x.events / (x.cpuMs / 1000);
    const cpuRatio = (x: Sample, y: Sample) => `${(perCpu(x) / perCpu(y)).toFixed(3)}×`;
    console.log(`Command: node --import tsx bench/events.ts ${vms} ${cycles} ${reps} ${fullFlip}`);
    console.log(
      `(nats-server ${server.url} with JetStream, stream ${EVENT_STREAM} on file storage, max_msgs ${f(limit)} ` +
        `(${f(kept)} kept at the end); ${vms.toLocaleString('en')} VM actors; ${cycles} observe() cycles per run ` +
        `(${f(ov.stateEvents)} state events + ${f(ov.events - ov.stateEvents)} issue events), payload ${avgSize.toFixed(0)} B ` +
        `on average; median of ${reps} runs each; publisher and subscriber in this process; Node ${process.version})`,
    );
    console.log('');
    console.log(
      '| stream | publisher | events per run | time (first publish → last received) | events/s | ratio | CPU ms | events per CPU s | ratio |',
    );
    console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
    const cpuCells = (x: Sample, y: Sample) => `${f(x.cpuMs)} | ${f(perCpu(x))} | ${cpuRatio(x, y)}`;
    console.log(
      `| below its limit | raw \`nc.publish\`, same subjects and sizes (baseline) | ${f(bl.events)} | ${f(bl.ms)} ms | ${f(bl.perSecond)} | 1.00 | ${cpuCells(bl, bl)} |`,
    );
    console.log(
      `| below its limit | Overseer runtime (\`observe()\` → VM actors → NatsBus) | ${f(ov.events)} | ${f(ov.ms)} ms | ${f(ov.perSecond)} | ${ratio(ov, bl)} | ${cpuCells(ov, bl)} |`,
    );
    console.log(
      `| below its limit | Overseer, state-change events alone | ${f(ov.stateEvents)} | ${f(ov.ms)} ms | ${f(ov.stateEvents / (ov.ms / 1000))} | | | | |`,
    );
    if (fullOverseer && fullBaseline) {
      console.log(
        `| at max_msgs (discard old) | raw \`nc.publish\` (baseline) | ${f(fullBaseline.events)} | ${f(fullBaseline.ms)} ms | ${f(fullBaseline.perSecond)} | 1.00 | | | |`,
      );
      console.log(
        `| at max_msgs (discard old) | Overseer runtime, ${f(fullFlip)} VMs flipping | ${f(fullOverseer.events)} | ${f(fullOverseer.ms)} ms | ${f(fullOverseer.perSecond)} | ${ratio(fullOverseer, fullBaseline)} | | | |`,
      );
    }
    console.log('');
    console.log(
      `Of the Overseer's ${f(ov.ms)} ms below the limit, ${f(ov.observeMs ?? 0)} ms are spent inside observe() ` +
        '(VM actor transitions, SQLite writes, the audit rows of the issues, JSON encoding, handing bytes to the client).',
    );
    console.log(
      `All runs below the limit (events/s): baseline ${baselineSamples.map((s) => f(s.perSecond)).join(', ')}; ` +
        `Overseer ${overseerSamples.map((s) => f(s.perSecond)).join(', ')}`,
    );
    console.log(
      `CPU ms per run: baseline ${baselineSamples.map((s) => f(s.cpuMs)).join(', ')}; ` +
        `Overseer ${overseerSamples.map((s) => f(s.cpuMs)).join(', ')}`,
    );
    if (profileFile) console.log(`CPU profile of the first Overseer run below the limit: ${profileFile}`);
    const result = ov.perSecond / bl.perSecond;
    reportTarget({
      row: 'events',
      value: `${f(ov.perSecond)} events/s (${f(perCpu(ov))} per CPU s)`,
      baseline: `raw nc.publish ${f(bl.perSecond)}/s (${f(perCpu(bl))} per CPU s)`,
      result: `${result.toFixed(3)}× (by CPU ${cpuRatio(ov, bl)})`,
      target: '≥ 0.5×',
      met: result >= 0.5,
      command: `node --import tsx bench/events.ts ${vms} ${cycles} ${reps} ${fullFlip}`,
    });
  } finally {
    overseer?.stop();
    store?.close();
    await sub?.close();
    await raw?.close();
    await bus?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One candidate configuration of the events stream for the probe. */
interface ProbeConfig {
  label: string;
  config: Partial<Parameters<Awaited<ReturnType<NatsBus['jetstreamManager']>>['streams']['add']>[0]>;
}

async function probe(): Promise<void> {
  const subjectsN = Number(process.argv[3] ?? 10_000);
  const maxMsgs = Number(process.argv[4] ?? 100_000);
  const publishes = Number(process.argv[5] ?? 20_000);
  const { DiscardPolicy, RetentionPolicy, StorageType } = await import('@nats-io/jetstream');
  const { nanos } = await import('@nats-io/transport-node');
  const perSubject = Number(process.env.PROBE_PER_SUBJECT ?? 1);
  const candidates: ProbeConfig[] = [
    { label: `file, max_msgs ${maxMsgs}, discard old (before)`, config: { max_msgs: maxMsgs } },
    {
      label: `file, max_msgs ${maxMsgs} + max_msgs_per_subject ${perSubject}`,
      config: { max_msgs: maxMsgs, max_msgs_per_subject: perSubject },
    },
    { label: `memory, max_msgs ${maxMsgs}, discard old`, config: { max_msgs: maxMsgs, storage: StorageType.Memory } },
    {
      label: 'file, max_age 2 s, no max_msgs (age-bounded)',
      config: { max_msgs: -1, max_age: nanos(2_000) },
    },
  ];
  const dir = mkdtempSync(join(tmpdir(), 'overseer-bench-stream-probe-'));
  const server = await spawnNatsServer({ port: await findFreePort(), jetstream: true, storeDir: join(dir, 'nats') });
  const pub = await connect({ servers: server.url, name: 'probe-pub' });
  const subc = await connect({ servers: server.url, name: 'probe-sub' });
  const counter = new Counter(subc);
  await subc.flush();
  const bus = await connectBus({ servers: server.url, name: 'probe-admin', log: quietLog });
  const jsm = await bus.jetstreamManager();
  const payload = new TextEncoder().encode(
    JSON.stringify({ id: 'vm:big/1000', from: 'running', to: 'stopped', at: 0 }),
  );
  const subjectOf = (k: number) => `overseer.evt.vm.big.${1000 + (k % subjectsN)}.state`;
  const timed = async (n: number, offset: number): Promise<number> => {
    counter.reset();
    const t0 = performance.now();
    for (let k = 0; k < n; k++) {
      pub.publish(subjectOf(offset + k), payload);
      if (k % 5000 === 4999) await new Promise((r) => setImmediate(r));
    }
    const last = await counter.waitFor(n);
    return n / ((last - t0) / 1000);
  };
  try {
    const bare = await timed(publishes, 0);
    console.log(`Command: node --import tsx bench/events.ts probe ${subjectsN} ${maxMsgs} ${publishes}`);
    console.log(
      `(nats-server ${server.url}; ${subjectsN.toLocaleString('en')} distinct subjects; each stream filled to its ` +
        `limit first; ${publishes.toLocaleString('en')} raw publishes timed, first publish → last received)`,
    );
    console.log('');
    console.log('| stream | messages kept | publishes/s once full | ÷ no stream |');
    console.log('|---|---:|---:|---:|');
    console.log(`| no stream (baseline) | 0 | ${Math.round(bare).toLocaleString('en')} | 1.00 |`);
    for (const { label, config } of candidates) {
      await jsm.streams.add({
        name: 'PROBE',
        subjects: ['overseer.evt.>'],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        num_replicas: 1,
        ...config,
      });
      // Fill to the limit (an age-bounded stream: as many as the others hold, then let the age pass once).
      await timed(maxMsgs, 0);
      if (config.max_age) await sleep(2_100);
      const rate = await timed(publishes, maxMsgs);
      const kept = (await jsm.streams.info('PROBE')).state.messages;
      console.log(
        `| ${label} | ${kept.toLocaleString('en')} | ${Math.round(rate).toLocaleString('en')} | ${(rate / bare).toFixed(2)} |`,
      );
      await jsm.streams.delete('PROBE');
    }
  } finally {
    await pub.close();
    await subc.close();
    await bus.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (probing) await probe();
else await main();
