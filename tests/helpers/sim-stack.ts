// The whole stack on ONE simulated clock: the PVE simulator over HTTP on 127.0.0.1, the Proxmox adapter, the
// Overseer runtime (SQLite in a temp dir) with its loops, notifications on an in-memory bus. `settle()` waits until
// no platform call is doing I/O; `advance(ms)` moves the clock from timer to timer, settling in between.
// SSH targets in the config (`ssh.targets`) are reached for real (tests/helpers/sshd.ts starts an sshd): the SSH
// checks and commands run in real time while the clock stands still, and `settle()` waits for them too.
// Used by the scenario runner (tests/scenarios/runner.ts) and by bench/detection.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../actors/config';
import type { SshTargetSource } from '../../actors/monitor';
import type { OverseerDeps } from '../../actors/overseer';
import { Overseer } from '../../actors/overseer';
import { sshTargetsFromConfig } from '../../actors/ssh-targets';
import { SimulatedClock } from '../../adapters/clock';
import { openKnowledgeBase } from '../../adapters/knowledge';
import type { Log, LogLevel } from '../../adapters/log';
import { createLineLog } from '../../adapters/log';
import { createMemoryBus } from '../../adapters/nats';
import type { Notifier } from '../../adapters/notify';
import { createNotifier } from '../../adapters/notify';
import type { Platform } from '../../adapters/platform/types';
import type { ProxmoxPlatform } from '../../adapters/proxmox';
import { createProxmoxPlatform } from '../../adapters/proxmox';
import type { SimSeed, Simulator } from '../../adapters/pve-sim';
import { demoSeed, startSimulator } from '../../adapters/pve-sim';
import { requestScope } from '../../adapters/pve-sim/request-scope';
import { StateStore } from '../../state';

const TOKEN = { tokenid: 'root@pam!scenario', secret: '0f0e0d0c-0b0a-4908-8706-050403020100' };

export interface SimStackOptions {
  /** Default: the demo cluster 'lab'. The cluster's name is the seed's. */
  seed?: SimSeed | undefined;
  /** Overrides for the Overseer config. */
  config?: Record<string, unknown> | undefined;
  /** Milliseconds per simulator task type. */
  taskDurations?: Record<string, number> | undefined;
  /** Level of the line log (state changes are always written). Default 'error'. */
  logLevel?: LogLevel | undefined;
  /** Where log lines go; default: kept in `lines`. */
  write?: ((line: string) => void) | undefined;
  /** Request and incident ids; default r1, r2, ... and i1, i2, ... */
  newId?: OverseerDeps['newId'];
  /** Clock start (epoch ms); default 0. */
  start?: number | undefined;
  /** Where the runtime publishes its events (`overseer.evt.>`); none by default. */
  events?: OverseerDeps['events'];
}

export interface SimStack {
  clock: SimulatedClock;
  sim: Simulator;
  store: StateStore;
  overseer: Overseer;
  notifier: Notifier;
  /** The log's lines and notifications (`<time> ! <severity> <title>`), unless `write` was given. */
  lines: string[];
  cluster: string;
  /** The simulated time as an ISO string. */
  stamp(): string;
  /** Waits until no platform call is doing I/O. */
  settle(): Promise<void>;
  /** Lets `ms` of simulated time pass: every timer fires in order, the stack settles between. */
  advance(ms: number): Promise<void>;
  /** Steps from timer to timer until `done()` holds or `ms` passed; returns whether it held. */
  advanceUntil(done: () => boolean, ms: number): Promise<boolean>;
  cleanup(): Promise<void>;
}

/** The longest `settle()` waits (real time) for SSH checks and commands to answer. */
const SSH_SETTLE_LIMIT_MS = 30_000;

/** Counts SSH checks and commands in flight, like the platform calls. */
function trackedSsh(source: SshTargetSource, counter: { inflight: number; ssh: number }): SshTargetSource {
  const track = <T>(call: () => Promise<T>): Promise<T> => {
    counter.inflight++;
    counter.ssh++;
    return call().finally(() => {
      counter.inflight--;
      counter.ssh--;
    });
  };
  const { checker } = source;
  return {
    ...source,
    checker: {
      check: (target) => track(() => checker.check(target)),
      runCommand: (target, command, opts) => track(() => checker.runCommand(target, command, opts)),
    },
  };
}

/** Counts platform calls in flight, so the stack knows when it has settled. */
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

/** Builds the stack (not started: call `overseer.start()` then `settle()`). */
export async function createSimStack(options: SimStackOptions = {}): Promise<SimStack> {
  const clock = new SimulatedClock(options.start ?? 0);
  const dataDir = mkdtempSync(join(tmpdir(), 'overseer-simstack-'));
  const store = StateStore.open(join(dataDir, 'overseer.db'));
  const lines: string[] = [];
  const write = options.write ?? ((l: string) => lines.push(l));
  const log: Log = createLineLog({ clock, write, level: options.logLevel ?? 'error' });
  const seed = options.seed ?? demoSeed();
  const counter = { inflight: 0, ssh: 0 };
  const sim = await startSimulator({
    // A call the simulator answers only after simulated time (a guest-agent ping, a lock wait) is waiting for the
    // clock, not for I/O: the stack has settled while it sleeps (a task worker's sleep is not part of any call).
    clock: new Proxy(clock, {
      get(target, prop, receiver) {
        if (prop !== 'sleep') {
          const value = Reflect.get(target, prop, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        }
        return async (ms: number, signal?: AbortSignal) => {
          const inCall = requestScope.getStore()?.open === true;
          if (inCall) counter.inflight--;
          try {
            await target.sleep(ms, signal);
          } finally {
            if (inCall) counter.inflight++;
          }
        };
      },
    }),
    seed,
    tls: false,
    tokens: [TOKEN],
    taskDurations: options.taskDurations,
  });
  const proxmox = createProxmoxPlatform(
    {
      name: seed.cluster,
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
  const counters = { request: 0, incident: 0, maintenance: 0 };
  const config = parseConfig(options.config ?? {});
  const stamp = (): string => new Date(clock.now()).toISOString();
  // Notifications go to a NATS channel on an in-memory bus and into the log.
  const bus = createMemoryBus({ clock });
  bus.subscribe('overseer.notify', (_, n) => {
    const note = n as { severity: string; title: string };
    write(`${stamp()} ! ${note.severity} ${note.title}`);
  });
  const notifier = createNotifier(
    { clock, log, bus },
    { channels: [{ type: 'nats', subject: 'overseer.notify' }], dedupeWindowSeconds: 0 },
  );
  const knowledge = await openKnowledgeBase({ config: config.knowledge, repo: store.knowledge, clock, log });
  const ssh = sshTargetsFromConfig(config, dataDir, { clock, log });
  const overseer = new Overseer({
    clock,
    log,
    config,
    store,
    notifier,
    knowledge,
    platforms: new Map([[seed.cluster, tracked(proxmox, counter)]]),
    ssh: ssh && trackedSsh(ssh, counter),
    events: options.events,
    newId:
      options.newId ??
      ((kind) => `${kind === 'request' ? 'r' : kind === 'incident' ? 'i' : 'm-drain'}${++counters[kind]}`),
  });

  const settle = async () => {
    let idle = 0;
    // SSH answers in real time: while a session is open the wait may run past the usual bound, up to a limit.
    const sshLimit = Date.now() + SSH_SETTLE_LIMIT_MS;
    for (let i = 0; idle < 3 && (i < 5000 || (counter.ssh > 0 && Date.now() < sshLimit)); i++) {
      await new Promise((r) => setImmediate(r));
      if (counter.inflight === 0) idle++;
      else {
        idle = 0;
        await new Promise((r) => setTimeout(r, 1));
      }
    }
  };
  const advanceUntil = async (done: () => boolean, ms: number): Promise<boolean> => {
    const until = clock.now() + ms;
    for (;;) {
      if (done()) return true;
      const next = clock.nextTimerAt();
      if (next === undefined || next > until) break;
      await clock.advanceAsync(next - clock.now());
      await settle();
    }
    await clock.advanceAsync(until - clock.now());
    await settle();
    return done();
  };
  const advance = async (ms: number) => {
    await advanceUntil(() => false, ms);
  };

  return {
    clock,
    sim,
    store,
    overseer,
    notifier,
    lines,
    cluster: seed.cluster,
    stamp,
    settle,
    advance,
    advanceUntil,
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
