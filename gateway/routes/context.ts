// What route modules are given when they register their routes.
import type { Bus } from '../../adapters/nats/bus';
import type { CoreClient } from '../../adapters/nats/protocol';
import type { GatewayClock } from '../deps';
import type { GatewayMetrics } from '../metrics';

export interface RouteContext {
  core: CoreClient;
  bus: Pick<Bus, 'subscribe' | 'connected'>;
  clock: GatewayClock;
  metrics: GatewayMetrics;
  sse: { heartbeatMs: number; maxPending: number; clients: { count: number } };
  /** The OpenAPI document, built once the table is complete. */
  openapi: () => unknown;
}
