// Scenario tests in the style of Proxmox's HA regression tests: a folder with a README, a seed, a command list
// and an expected log. The whole stack runs on one simulated clock — the PVE simulator over HTTP, the Proxmox
// adapter, the Overseer runtime with its loops — and the log of state changes is diffed against expected.log.
//
// commands (one per line, '#' starts a comment):
//   delay <seconds>                      let time pass (every timer fires in order, the stack settles between)
//   vm <vmid> crash                      the VM stops with no task (simulator fault)
//   vm <vmid> lock <lock|none>           set or clear a PVE lock
//   node <node> offline|online           the node drops out of / returns to the cluster
//   quorum lost|ok
//   tasks fail <type> <count> <message>  the next <count> tasks of <type> fail with <message>
//   submit <action> <vmid|-> [force] [as <user>] [param=value ...]
//   approve|deny|cancel <request> [as <user>]
// Request ids are r1, r2, ... in submission order. Users: alice, bob (admins), olga (operator).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../actors/config';
import { Overseer } from '../../actors/overseer';
import { SimulatedClock } from '../../adapters/clock';
import { openKnowledgeBase } from '../../adapters/knowledge';
import type { Log } from '../../adapters/log';
import { createLineLog } from '../../adapters/log';
import { createMemoryBus } from '../../adapters/nats';
import { createNotifier } from '../../adapters/notify';
import type { Platform } from '../../adapters/platform/types';
import type { ProxmoxPlatform } from '../../adapters/proxmox';
import { createProxmoxPlatform } from '../../adapters/proxmox';
import type { Simulator } from '../../adapters/pve-sim';
import { demoSeed, startSimulator } from '../../adapters/pve-sim';
import type { Action, Requester } from '../../machines/types';
import { StateStore } from '../../state';

const USERS: Record<string, Requester> = {
  alice: { id: 'alice', role: 'admin' },
  bob: { id: 'bob', role: 'admin' },
  olga: { id: 'olga', role: 'operator' },
};
const TOKEN = { tokenid: 'root@pam!scenario', secret: '0f0e0d0c-0b0a-4908-8706-050403020100' };

export interface ScenarioSetup {
  /** Overrides for the Overseer config. */
  config?: Record<string, unknown>;
  /** Milliseconds per simulator task type. */
  taskDurations?: Record<string, number>;
}

export interface ScenarioRun {
  log: string;
  overseer: Overseer;
  sim: Simulator;
  store: StateStore;
}

/** Counts platform calls in flight, so the runner knows when the stack has settled. */
function tracked(platform: ProxmoxPlatform, counter: { inflight: number }): Platform {
  return new Proxy(platform, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result = value.apply(target, args);
        if (!(result instanceof Promise)) return result;
        counter.inflight++;
        return result.finally(() => {
          counter.inflight--;
        });
      };
    },
  });
}

export async function runScenario(dir: string): Promise<ScenarioRun & { cleanup(): Promise<void> }> {
  const setup: ScenarioSetup = existsSync(join(dir, 'seed.json'))
    ? (JSON.parse(readFileSync(join(dir, 'seed.json'), 'utf8')) as ScenarioSetup)
    : {};
  const commands = readFileSync(join(dir, 'commands'), 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);

  const clock = new SimulatedClock(0);
  const dataDir = mkdtempSync(join(tmpdir(), 'overseer-scenario-'));
  const store = StateStore.open(join(dataDir, 'overseer.db'));
  const lines: string[] = [];
  const log: Log = createLineLog({ clock, write: (l) => lines.push(l), level: 'error' });
  const sim = await startSimulator({
    clock,
    seed: demoSeed(),
    tls: false,
    tokens: [TOKEN],
    taskDurations: setup.taskDurations,
  });
  const counter = { inflight: 0 };
  const proxmox = createProxmoxPlatform(
    {
      name: 'lab',
      host: '127.0.0.1',
      port: sim.port,
      protocol: 'http',
      auth: { type: 'token', tokenId: TOKEN.tokenid, secret: TOKEN.secret },
      taskPollMs: 1000,
      timeoutMs: 10_000,
    },
    // A platform call sleeping on the clock (task polls, lock backoff) is waiting for time, not for I/O:
    // the stack has settled even though the call has not returned.
    {
      clock: {
        now: () => clock.now(),
        setTimeout: (fn, ms) => clock.setTimeout(fn, ms),
        clearTimeout: (h) => clock.clearTimeout(h),
        sleep: async (ms, signal) => {
          counter.inflight--;
          try {
            await clock.sleep(ms, signal);
          } finally {
            counter.inflight++;
          }
        },
      },
      log,
    },
  );
  const counters = { request: 0, incident: 0 };
  const config = parseConfig(setup.config ?? {});
  const stamp = (): string => new Date(clock.now()).toISOString();
  // Notifications go to a NATS channel on an in-memory bus and into the log.
  const bus = createMemoryBus({ clock });
  bus.subscribe('overseer.notify', (_, n) => {
    const note = n as { severity: string; title: string };
    lines.push(`${stamp()} ! ${note.severity} ${note.title}`);
  });
  const notifier = createNotifier(
    { clock, log, bus },
    { channels: [{ type: 'nats', subject: 'overseer.notify' }], dedupeWindowSeconds: 0 },
  );
  const knowledge = await openKnowledgeBase({ config: config.knowledge, repo: store.knowledge, clock, log });
  const overseer = new Overseer({
    clock,
    log,
    config,
    store,
    notifier,
    knowledge,
    platforms: new Map([['lab', tracked(proxmox, counter)]]),
    newId: (kind) => `${kind === 'request' ? 'r' : 'i'}${++counters[kind]}`,
  });

  const settle = async () => {
    let idle = 0;
    for (let i = 0; i < 5000 && idle < 3; i++) {
      await new Promise((r) => setImmediate(r));
      if (counter.inflight === 0) idle++;
      else {
        idle = 0;
        await new Promise((r) => setTimeout(r, 1));
      }
    }
  };
  const advance = async (ms: number) => {
    const until = clock.now() + ms;
    for (;;) {
      const next = clock.nextTimerAt();
      if (next === undefined || next > until) break;
      await clock.advanceAsync(next - clock.now());
      await settle();
    }
    await clock.advanceAsync(until - clock.now());
    await settle();
  };

  overseer.start();
  await settle();
  for (const command of commands) {
    lines.push(`${stamp()} # ${command}`);
    await execute(command.split(/\s+/));
    await settle();
  }

  async function execute(words: string[]): Promise<void> {
    const [verb, a, b, ...rest] = words;
    const as = (list: string[]) => {
      const i = list.indexOf('as');
      return USERS[i >= 0 ? (list[i + 1] ?? 'alice') : 'alice'] as Requester;
    };
    switch (verb) {
      case 'delay':
        return advance(Number(a) * 1000);
      case 'vm':
        if (b === 'crash') return sim.faults.crashVm(Number(a));
        if (b === 'lock') return sim.faults.lockVm(Number(a), rest[0] === 'none' ? null : (rest[0] ?? null));
        break;
      case 'node':
        return sim.faults.nodeOffline(a as string, b === 'offline');
      case 'quorum':
        return sim.faults.quorumLoss(a === 'lost');
      case 'tasks':
        if (a === 'fail') return sim.faults.failTasks(b as string, Number(rest[0]), rest.slice(1).join(' '));
        break;
      case 'submit': {
        const params: Record<string, unknown> = {};
        for (const w of [b, ...rest]) {
          const m = /^(\w+)=(.*)$/.exec(w ?? '');
          if (m) params[m[1] as string] = /^\d+$/.test(m[2] as string) ? Number(m[2]) : m[2];
        }
        const result = await overseer.submit({
          action: a as Action,
          target:
            b === '-' || b === undefined || b.includes('=') ? { cluster: 'lab' } : { cluster: 'lab', vmid: Number(b) },
          params,
          force: words.includes('force'),
          requester: as(words),
        });
        lines.push(
          `${stamp()} = ${result.requestId} ${result.decision}: ${result.reasons.join('; ') || 'all checks passed'}`,
        );
        const advice = result.checks.find((c) => c.check === 'knowledge' && c.reason.includes('warning'));
        if (advice) lines.push(`${stamp()} = ${result.requestId} knowledge: ${advice.reason}`);
        return;
      }
      case 'approve':
      case 'deny':
      case 'cancel': {
        const result = overseer[verb](a as string, as(words));
        lines.push(`${stamp()} = ${verb} ${a}: ${result.ok ? result.status : result.reason}`);
        return;
      }
    }
    throw new Error(`unknown scenario command: ${words.join(' ')}`);
  }

  return {
    log: `${lines.join('\n')}\n`,
    overseer,
    sim,
    store,
    async cleanup() {
      overseer.stop();
      await notifier.close();
      await proxmox.close();
      await sim.stop();
      store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
