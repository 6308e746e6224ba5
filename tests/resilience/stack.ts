// The real core behind the gateway, in one process, for the resilience suites: an Overseer on a temp SQLite file
// fed with the demo inventory (no platform: approved requests fail at execution with "no platform is configured"),
// the core's protocol handlers answering on an in-memory bus, and the gateway called through app.request().
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../actors/config';
import { serveCore } from '../../actors/core-service';
import { Overseer } from '../../actors/overseer';
import { SimulatedClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import type { MemoryBus } from '../../adapters/nats/memory-bus';
import { createMemoryBus } from '../../adapters/nats/memory-bus';
import type { GatewayApp, RateLimitOptions } from '../../gateway';
import { createGateway } from '../../gateway';
import type { Role } from '../../protocol';
import { createCoreClient, ROLES } from '../../protocol';
import { StateStore } from '../../state';
import { demoInventory } from '../helpers/inventory';

export interface StackToken {
  id: string;
  name: string;
  role: Role;
  token: string;
}

export interface ResilienceStack extends GatewayApp {
  dir: string;
  clock: SimulatedClock;
  store: StateStore;
  overseer: Overseer;
  bus: MemoryBus;
  /** What the gateway logged as warnings and errors (a 500 or 502 is logged here). */
  logged: string[];
  /** One live token per role, created with store.tokens.create. */
  tokens: Record<Role, StackToken>;
  createToken(name: string, role: Role): StackToken;
  /** Forgets the messages the memory bus keeps (it records every publish). */
  dropPublished(): void;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Gateway rate limit; the gateway's default when omitted. */
  rateLimit?: RateLimitOptions | false;
  config?: unknown;
}

export function createStack(options: StackOptions = {}): ResilienceStack {
  const dir = mkdtempSync(join(tmpdir(), 'overseer-resilience-'));
  const clock = new SimulatedClock(Date.UTC(2026, 0, 1));
  const log = createMemoryLog(clock, 'warn');
  const store = StateStore.open(join(dir, 'overseer.db'));
  const bus = createMemoryBus();
  const config = parseConfig(options.config ?? {});
  const overseer = new Overseer({
    clock,
    log,
    config,
    store,
    platforms: new Map(),
    events: { publish: (subject, payload) => bus.publish(subject, payload) },
  });
  overseer.observe(demoInventory({ at: clock.now() }));
  // The root runs (loops and execution): approved requests are executed and fail for want of a platform.
  overseer.startRoot();
  const stopServing = serveCore({ bus, overseer, store, config, clock, startedAt: clock.now() });
  const logged: string[] = [];
  const gateway = createGateway({
    core: createCoreClient(bus),
    bus,
    ...(options.rateLimit !== undefined ? { rateLimit: options.rateLimit } : {}),
    log: { warn: (m) => logged.push(`warn: ${m}`), error: (m) => logged.push(`error: ${m}`) },
  });
  const createToken = (name: string, role: Role): StackToken => {
    const { record, token } = store.tokens.create(name, role, 'resilience-test', clock.now());
    return { id: record.id, name, role, token };
  };
  const tokens = Object.fromEntries(ROLES.map((role) => [role, createToken(`t-${role}`, role)])) as Record<
    Role,
    StackToken
  >;
  return {
    ...gateway,
    dir,
    clock,
    store,
    overseer,
    bus,
    logged,
    tokens,
    createToken,
    dropPublished: () => {
      (bus.published as unknown[]).length = 0;
    },
    async close() {
      stopServing();
      overseer.stop();
      await bus.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Lets queued microtasks and I/O callbacks run (the bus delivers asynchronously). */
export const settle = (rounds = 5): Promise<void> =>
  (async () => {
    for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  })();

/** Every request row whose last history entry is not its status (empty when all are consistent). */
export function inconsistentRequests(store: StateStore): string[] {
  const bad: string[] = [];
  for (const r of store.requests.list()) {
    const last = r.history.at(-1);
    if (!last || last.status !== r.status) bad.push(`${r.id}: row ${r.status}, history ends ${last?.status}`);
  }
  return bad;
}
