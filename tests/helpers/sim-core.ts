// The real core on the PVE simulator (tests/helpers/sim-stack.ts, one simulated clock), its protocol answered on an
// in-memory bus: gateway tests build the gateway from `gatewayDeps` (createGateway, app.request()), CLI tests start
// it on a free port (startGateway). Simulated time stands still unless a test moves it (`stack.advanceUntil`).
import { parseConfig } from '../../actors/config';
import { serveCore } from '../../actors/core-service';
import type { MemoryBus } from '../../adapters/nats/memory-bus';
import { createMemoryBus } from '../../adapters/nats/memory-bus';
import type { GatewayDeps } from '../../gateway';
import type { Role } from '../../protocol';
import { createCoreClient } from '../../protocol';
import type { SimStack } from './sim-stack';
import { createSimStack } from './sim-stack';

export interface SimCoreToken {
  id: string;
  name: string;
  token: string;
}

export interface SimCore {
  stack: SimStack;
  bus: MemoryBus;
  /** What a gateway in front of this core needs (no rate limit, quiet log). */
  gatewayDeps: GatewayDeps;
  /** Creates an API token in the core's store. */
  token(name: string, role: Role): SimCoreToken;
  /** Lets simulated time pass until request `id` has ended (false when it did not within `ms`). */
  ended(id: string, ms?: number): Promise<boolean>;
  close(): Promise<void>;
}

const ENDED = new Set(['denied', 'completed', 'failed', 'cancelled', 'expired', 'nothing_to_do']);

/** `events`: the runtime publishes its events on the core's bus, as the core process does on NATS. */
export async function startSimCore(opts: { events?: boolean } = {}): Promise<SimCore> {
  const bus = createMemoryBus();
  const stack = await createSimStack(opts.events ? { events: bus } : {});
  stack.overseer.start();
  await stack.settle();
  const { clock, overseer, store } = stack;
  const stopServing = serveCore({ bus, overseer, store, config: parseConfig({}), clock, startedAt: clock.now() });
  return {
    stack,
    bus,
    gatewayDeps: { core: createCoreClient(bus), bus, rateLimit: false, log: { warn: () => {}, error: () => {} } },
    token(name, role) {
      const { record, token } = store.tokens.create(name, role, 'test', clock.now());
      return { id: record.id, name, token };
    },
    ended: (id, ms = 120_000) => stack.advanceUntil(() => ENDED.has(store.requests.get(id)?.status ?? ''), ms),
    async close() {
      stopServing();
      await bus.close();
      await stack.cleanup();
    },
  };
}
