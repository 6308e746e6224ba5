// Decision floor (issue 14): what the parts the design card fixes cost per request before any Overseer logic, each
// rung measured side by side with the same client in one run, against the bare Hono endpoint gateway.ts compares with.
// Every rung is a Hono app on @hono/node-server in this process, driven by an undici Pool with 50 keep-alive
// connections in a closed loop (the client shares the process, as in gateway.ts):
//   1. bare    — `POST /x` answers {"ok":true} (gateway.ts's baseline);
//   2. nats    — the body is parsed and sent as a NATS request to a responder on a second connection of this process
//                (as `serve --role all`: the gateway and the core are two NATS users of a real nats-server) that
//                answers at once; the gateway answers with the reply;
//   3. actor   — the responder creates an XState actor per request (received → decided, a final state) and answers
//                when it is done;
//   4. commit  — and the decision is on disk before the answer: one request row and one HMAC-chained audit row per
//                request, the requests of one event-loop turn sharing one SQLite commit (WAL, synchronous NORMAL).
// Each rung is the one before plus one part, so the differences are what each part costs; nothing here gates,
// checks, logs or publishes events. Printed: req/s and CPU µs per request (this process; the nats-server's from
// /proc beside it), each as a ratio to the bare rung of the same round; rounds alternate the rungs.
// Run: node --import tsx bench/decision-floor.ts [seconds per rung = 3] [rounds = 2]
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import type { NatsConnection } from '@nats-io/transport-node';
import { connect } from '@nats-io/transport-node';
import Database from 'better-sqlite3';
import { Hono } from 'hono';
import { Pool } from 'undici';
import { createActor, setup } from 'xstate';
import { findFreePort, spawnNatsServer } from '../adapters/nats';

const CONNECTIONS = 50;
const seconds = Number(process.argv[2] ?? 3);
const rounds = Number(process.argv[3] ?? 2);
if (!(seconds > 0) || !(rounds > 0)) throw new Error('usage: bench/decision-floor.ts [seconds] [rounds]');

const RUNGS = ['bare', 'nats', 'actor', 'commit'] as const;
type Rung = (typeof RUNGS)[number];
const BODY = JSON.stringify({ action: 'destroy', target: { cluster: 'bench', vmid: 101 }, params: {} });

/** The smallest machine that still decides: a request received, then decided (final). */
const decisionMachine = setup({ types: { events: {} as { type: 'DECIDE' } } }).createMachine({
  id: 'floor',
  initial: 'received',
  states: { received: { on: { DECIDE: 'decided' } }, decided: { type: 'final' } },
});

/** One row and one chained audit row per request; the requests of one turn share a commit. */
class GroupCommit {
  private readonly db: Database.Database;
  private readonly write: (batch: string[]) => void;
  private pending: { id: string; done: () => void }[] = [];
  private prev = '0'.repeat(64);
  private seq = 0;
  private readonly key = Buffer.alloc(32, 7);

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE requests (id TEXT PRIMARY KEY, body TEXT NOT NULL, status TEXT NOT NULL) STRICT;
      CREATE TABLE audit (seq INTEGER PRIMARY KEY, data TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL) STRICT;`);
    const insert = this.db.prepare('INSERT INTO requests (id, body, status) VALUES (?, ?, ?)');
    const audit = this.db.prepare('INSERT INTO audit (seq, data, prev_hash, hash) VALUES (?, ?, ?, ?)');
    const tx = this.db.transaction((ids: string[]) => {
      for (const id of ids) {
        insert.run(id, BODY, 'decided');
        const data = `{"request":"${id}","status":"decided"}`;
        const hash = createHmac('sha256', this.key).update(this.prev).update(data).digest('hex');
        audit.run(++this.seq, data, this.prev, hash);
        this.prev = hash;
      }
    });
    this.write = (ids) => tx.immediate(ids);
  }

  commit(id: string): Promise<void> {
    return new Promise((done) => {
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ id, done });
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    this.write(batch.map((p) => p.id));
    for (const p of batch) p.done();
  }

  close(): void {
    this.db.close();
  }
}

/** The responder on the core's connection: what each rung does with a request before it answers. */
function respond(core: NatsConnection, rung: Rung, commits: GroupCommit): void {
  core.subscribe('floor.submit', {
    callback: (error, msg) => {
      if (error) return;
      const body = msg.json<Record<string, unknown>>();
      if (rung === 'nats') {
        msg.respond(JSON.stringify({ decision: 'denied', action: body.action }));
        return;
      }
      const id = randomUUID();
      const actor = createActor(decisionMachine, { id });
      actor.subscribe({
        complete: () => {
          const answer = JSON.stringify({ id, decision: 'denied', action: body.action });
          if (rung === 'actor') msg.respond(answer);
          else void commits.commit(id).then(() => msg.respond(answer));
        },
      });
      actor.start();
      actor.send({ type: 'DECIDE' });
    },
  });
}

/** The gateway of one rung: bare answers itself; the others ask the core over NATS. */
function gatewayApp(rung: Rung, gateway: NatsConnection): Hono {
  const app = new Hono();
  if (rung === 'bare') return app.post('/x', (c) => c.json({ ok: true }));
  return app.post('/x', async (c) => {
    const body = await c.req.json();
    const reply = await gateway.request('floor.submit', JSON.stringify(body), { timeout: 5_000 });
    return c.json(reply.json());
  });
}

async function listen(app: Hono): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createAdaptorServer({ fetch: app.fetch, hostname: '127.0.0.1' }) as Server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** CPU ms of another process so far (utime + stime from /proc). */
function processCpuMs(pid: number | undefined): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

interface Figures {
  perSecond: number;
  cpuUs: number;
  natsCpuUs: number;
  p50: number;
}

/** CONNECTIONS requests in flight for `seconds`. */
async function closedLoop(url: string, natsPid: number | undefined): Promise<Figures> {
  const pool = new Pool(url, { connections: CONNECTIONS, pipelining: 1 });
  const headers = { 'content-type': 'application/json' };
  const latencies: number[] = [];
  const cpu = process.cpuUsage();
  const natsBefore = processCpuMs(natsPid);
  const start = performance.now();
  const end = start + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const res = await pool.request({ method: 'POST', path: '/x', headers, body: BODY });
      await res.body.text();
      if (res.statusCode !== 200) throw new Error(`${url}: HTTP ${res.statusCode}`);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const wall = performance.now() - start;
  const used = process.cpuUsage(cpu);
  await pool.close();
  latencies.sort((a, b) => a - b);
  return {
    perSecond: latencies.length / (wall / 1000),
    cpuUs: (used.user + used.system) / latencies.length,
    natsCpuUs: ((processCpuMs(natsPid) - natsBefore) * 1000) / latencies.length,
    p50: latencies[Math.floor(latencies.length / 2)] ?? Number.NaN,
  };
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'overseer-bench-floor-'));
  const nats = await spawnNatsServer({ port: await findFreePort(), storeDir: join(dir, 'nats') });
  const results = new Map<Rung, Figures[]>(RUNGS.map((r) => [r, []]));
  try {
    for (let round = 0; round < rounds; round++) {
      for (const rung of RUNGS) {
        const core = await connect({ servers: nats.url });
        const gateway = await connect({ servers: nats.url });
        const commits = new GroupCommit(join(dir, `floor-${round}-${rung}.db`));
        respond(core, rung, commits);
        await core.flush();
        const server = await listen(gatewayApp(rung, gateway));
        await closedLoop(server.url, nats.pid).catch(() => undefined); // warm-up (JIT), not counted
        results.get(rung)?.push(await closedLoop(server.url, nats.pid));
        await server.close();
        await Promise.all([core.drain(), gateway.drain()]);
        commits.close();
      }
    }
  } finally {
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  console.log(`Command: node --import tsx bench/decision-floor.ts ${seconds} ${rounds}`);
  console.log(
    `(${CONNECTIONS} connections, closed loop, ${seconds} s per rung after a warm-up of the same length; ${rounds} round(s), rungs alternating; client, gateway and responder in this process; Node ${process.version})`,
  );
  console.log('');
  console.log(
    '| rung | what it adds | round | req/s | ratio to bare | CPU µs per request (this process) | ratio to bare | nats-server CPU µs | p50 ms |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
  const adds: Record<Rung, string> = {
    bare: 'Hono answers {ok:true} (baseline)',
    nats: '+ body parsed, NATS request to a second connection, reply',
    actor: '+ an XState actor per request (received → decided)',
    commit: '+ request row and chained audit row, group commit, before the answer',
  };
  for (let round = 0; round < rounds; round++) {
    const bare = results.get('bare')?.[round];
    for (const rung of RUNGS) {
      const f = results.get(rung)?.[round];
      if (!f || !bare) continue;
      console.log(
        `| ${rung} | ${adds[rung]} | ${round + 1} | ${fmt(f.perSecond)} | ${(f.perSecond / bare.perSecond).toFixed(3)}× | ${fmt(f.cpuUs)} | ${(f.cpuUs / bare.cpuUs).toFixed(2)}× | ${fmt(f.natsCpuUs)} | ${f.p50.toFixed(2)} |`,
      );
    }
  }
}

await main();
