// What route modules are given when they register their routes. Core calls go through the handler's `core`
// input (bound to the caller's credential), never through a client held here: the core refuses calls without one.
import type { Bus } from '../../protocol';
import type { GatewayClock, GatewayLog } from '../deps';
import type { GatewayMetrics } from '../metrics';
import type { PrincipalCache } from '../principal-cache';
import type { SummaryFeed } from '../summary-feed';

export interface SseContext {
  heartbeatMs: number;
  maxPending: number;
  /** Streams one token may hold open at once. */
  maxPerToken: number;
  clients: { count: number };
  /** Open streams by token id (entries removed at zero, so the map holds only tokens with open streams). */
  perToken: Map<string, number>;
}

export interface RouteContext {
  /** `replay` (optional): the JetStream events stream, for SSE clients that resume with Last-Event-ID. */
  bus: Pick<Bus, 'subscribe' | 'connected' | 'replay'>;
  clock: GatewayClock;
  log: GatewayLog;
  metrics: GatewayMetrics;
  sse: SseContext;
  /** The last summary the core published (/metrics reads it; it never queries the core). */
  summary: SummaryFeed;
  /** A summary older than this no longer counts the core as up. */
  summaryStaleAfterMs: number;
  /** `Retry-After` seconds of the gateway's own 429/503 answers. */
  retryAfterSeconds: number;
  /** Principals the core verified lately (a token revoked here is dropped from it at once). */
  principals: PrincipalCache;
  /** The OpenAPI document, built once the table is complete. */
  openapi: () => unknown;
}
