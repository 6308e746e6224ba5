// Event floor (issue 14): what the parts the design card fixes cost per VM state change before any Overseer logic,
// each rung measured side by side in one run against events.ts's baseline (raw `nc.publish`). A real nats-server
// (started here on a free port, JetStream on, the OVERSEER_EVENTS stream ensured and purged before each run, as
// events.ts does) and a subscriber on its own connection counting `overseer.evt.>` until every event has arrived.
// Each run flips a fleet of <vms> VMs <cycles> times (all running ↔ all stopped), one state event per VM per cycle on
// `overseer.evt.vm.big.<vmid>.state`, a turn of the event loop between cycles (as between two syncs):
//   1. raw     — the same subjects with payloads of the same size, encoded before the clock starts (the baseline);
//   2. encode  — per change, the event built ({id, from, to, at}) and JSON-encoded, then published;
//   3. actor   — per VM an XState actor (running ↔ stopped, its context the VM's inventory row); each cycle sends
//                every actor the VM's observed status and a change of state is published as in 2;
//   4. persist — and each changed actor's persisted snapshot is written (JSON, one upsert per VM), the changes of one
//                cycle sharing one SQLite commit (WAL, synchronous NORMAL).
// Each rung is the one before plus one part; nothing here gates, logs, detects issues or keeps a summary. Printed:
// events/s and CPU µs per event (this process), each as a ratio to the raw rung of the same round; rounds alternate.
// Run: node --import tsx bench/event-floor.ts [vms = 10000] [cycles = 2] [rounds = 3]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connect } from '@nats-io/transport-node';
import Database from 'better-sqlite3';
import type { Actor } from 'xstate';
import { createActor, setup } from 'xstate';
import { EVENT_STREAM, ensureEventStream, findFreePort, spawnNatsServer } from '../adapters/nats';
import type { VmInfo } from '../machines/types';
import { largeInventory } from './fleet';

const vms = Number(process.argv[2] ?? 10_000);
const cycles = Number(process.argv[3] ?? 2);
const rounds = Number(process.argv[4] ?? 3);
if (!(vms > 0) || !(cycles > 0) || !(rounds > 0))
  throw new Error('usage: bench/event-floor.ts [vms] [cycles] [rounds]');

const RUNGS = ['raw', 'encode', 'actor', 'persist'] as const;
type Rung = (typeof RUNGS)[number];
type Status = 'running' | 'stopped';
const WAIT_LIMIT_MS = 60_000;

/** The smallest VM machine that still follows the platform: running ↔ stopped, as observed. */
const vmMachine = setup({
  types: {
    context: {} as { info: VmInfo },
    input: {} as { info: VmInfo },
    events: {} as { type: 'OBSERVED'; status: Status },
  },
}).createMachine({
  id: 'vm',
  context: ({ input }) => ({ info: input.info }),
  initial: 'running',
  states: {
    running: { on: { OBSERVED: { guard: ({ event }) => event.status === 'stopped', target: 'stopped' } } },
    stopped: { on: { OBSERVED: { guard: ({ event }) => event.status === 'running', target: 'running' } } },
  },
});

/** Counts what arrives on overseer.evt.> on its own connection, as any consumer would. */
class Counter {
  received = 0;
  lastAt = 0;
  constructor(nc: NatsConnection) {
    nc.subscribe('overseer.evt.>', {
      callback: () => {
        this.received++;
        this.lastAt = performance.now();
      },
    });
  }
  async waitFor(n: number): Promise<number> {
    const limit = performance.now() + WAIT_LIMIT_MS;
    while (this.received < n) {
      if (performance.now() > limit) throw new Error(`only ${this.received} of ${n} events arrived`);
      await new Promise((r) => setTimeout(r, 1));
    }
    return this.lastAt;
  }
}

const subjectOf = (vm: VmInfo) => `overseer.evt.vm.${vm.cluster}.${vm.vmid}.state`;
const eventOf = (vm: VmInfo, from: Status, to: Status) => ({
  id: `vm:${vm.cluster}/${vm.vmid}`,
  from,
  to,
  at: Date.now(),
});

/** One rung's fleet: what it does with one cycle's observed status. */
interface Fleet {
  cycle(status: Status): void;
  close(): void;
}

function fleetOf(rung: Rung, nc: NatsConnection, list: VmInfo[], dbFile: string): Fleet {
  if (rung === 'raw') {
    const sample = JSON.stringify(eventOf(list[0]!, 'running', 'stopped'));
    const payload = new TextEncoder().encode(JSON.stringify({ p: 'x'.repeat(sample.length - '{"p":""}'.length) }));
    const subjects = list.map(subjectOf);
    return {
      cycle: () => {
        for (const s of subjects) nc.publish(s, payload);
      },
      close() {},
    };
  }
  if (rung === 'encode') {
    return {
      cycle: (to) => {
        const from = to === 'stopped' ? 'running' : 'stopped';
        for (const vm of list) nc.publish(subjectOf(vm), JSON.stringify(eventOf(vm, from, to)));
      },
      close() {},
    };
  }
  const db = rung === 'persist' ? new Database(dbFile) : undefined;
  let write: ((changed: Actor<typeof vmMachine>[]) => void) | undefined;
  if (db) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec('CREATE TABLE snapshots (actor TEXT PRIMARY KEY, snapshot TEXT NOT NULL) STRICT');
    const upsert = db.prepare(
      'INSERT INTO snapshots (actor, snapshot) VALUES (?, ?) ON CONFLICT (actor) DO UPDATE SET snapshot = excluded.snapshot',
    );
    const tx = db.transaction((changed: Actor<typeof vmMachine>[]) => {
      for (const a of changed) upsert.run(a.id, JSON.stringify(a.getPersistedSnapshot()));
    });
    write = (changed) => tx.immediate(changed);
  }
  let changed: Actor<typeof vmMachine>[] = [];
  const actors = list.map((info) => {
    const actor = createActor(vmMachine, { id: `vm:${info.cluster}/${info.vmid}`, input: { info } });
    let last = 'running' as Status;
    actor.subscribe((snapshot) => {
      const now = snapshot.value as Status;
      if (now === last) return;
      if (write) changed.push(actor);
      nc.publish(subjectOf(info), JSON.stringify(eventOf(info, last, now)));
      last = now;
    });
    return actor.start();
  });
  return {
    cycle: (status) => {
      for (const actor of actors) actor.send({ type: 'OBSERVED', status });
      if (write && changed.length > 0) {
        write(changed);
        changed = [];
      }
    },
    close: () => {
      for (const actor of actors) actor.stop();
      db?.close();
    },
  };
}

interface Figures {
  perSecond: number;
  cpuUs: number;
}

const cpuNow = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'overseer-bench-event-floor-'));
  const nats = await spawnNatsServer({ port: await findFreePort(), jetstream: true, storeDir: join(dir, 'nats') });
  const results = new Map<Rung, Figures[]>(RUNGS.map((r) => [r, []]));
  const list = largeInventory(vms, 20).vms;
  try {
    const pub = await connect({ servers: nats.url, name: 'floor-publisher' });
    const sub = await connect({ servers: nats.url, name: 'floor-counter' });
    const counter = new Counter(sub);
    await sub.flush();
    const jsm = await jetstreamManager(pub);
    await ensureEventStream(jsm);
    for (let round = 0; round < rounds; round++) {
      for (const rung of RUNGS) {
        const fleet = fleetOf(rung, pub, list, join(dir, `floor-${round}-${rung}.db`));
        let next: Status = 'stopped';
        const run = async (): Promise<Figures> => {
          await jsm.streams.purge(EVENT_STREAM);
          const from = counter.received;
          const c0 = cpuNow();
          const t0 = performance.now();
          for (let c = 0; c < cycles; c++) {
            fleet.cycle(next);
            next = next === 'stopped' ? 'running' : 'stopped';
            await new Promise((r) => setImmediate(r));
          }
          const events = vms * cycles;
          const last = await counter.waitFor(from + events);
          const cpuUs = cpuNow() - c0;
          return { perSecond: events / ((last - t0) / 1000), cpuUs: cpuUs / events };
        };
        await run(); // warm-up (JIT), not counted
        results.get(rung)?.push(await run());
        fleet.close();
      }
    }
    await Promise.all([pub.drain(), sub.drain()]);
  } finally {
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  console.log(`Command: node --import tsx bench/event-floor.ts ${vms} ${cycles} ${rounds}`);
  console.log(
    `(${fmt(vms)} VMs flipped ${cycles} times per run after a warm-up run, JetStream stream on and purged before each run; ${rounds} round(s), rungs alternating; Node ${process.version})`,
  );
  console.log('');
  console.log(
    '| rung | what it adds | round | events/s | ratio to raw | CPU µs per event (this process) | ratio to raw |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|');
  const adds: Record<Rung, string> = {
    raw: 'nc.publish of pre-encoded payloads of the same subjects and size (baseline)',
    encode: '+ the event built and JSON-encoded per change',
    actor: '+ an XState actor per VM, sent the observed status; a change is published',
    persist: "+ the changed actor's persisted snapshot upserted, one commit per cycle",
  };
  for (let round = 0; round < rounds; round++) {
    const raw = results.get('raw')?.[round];
    for (const rung of RUNGS) {
      const f = results.get(rung)?.[round];
      if (!f || !raw) continue;
      console.log(
        `| ${rung} | ${adds[rung]} | ${round + 1} | ${fmt(f.perSecond)} | ${(f.perSecond / raw.perSecond).toFixed(3)}× | ${fmt(f.cpuUs, 1)} | ${(f.cpuUs / raw.cpuUs).toFixed(2)}× |`,
      );
    }
  }
}

await main();
