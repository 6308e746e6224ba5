// GET /healthz, /openapi.json and /metrics: public (no token), and none asks the core anything (a scrape reads
// the summary the core last published). /healthz is liveness for load balancers and nothing more: the details
// (database, clusters, loops) stay behind a token at /v1/health.
import { z } from 'zod';
import { ServiceUnavailableError } from '../errors';
import { METRICS_CONTENT_TYPE } from '../metrics';
import type { RouteTable } from '../route-table';
import type { RouteContext } from './context';

export const LivenessSchema = z.object({ status: z.literal('ok') });

export function registerMetaRoutes(table: RouteTable, ctx: RouteContext): void {
  table.add(
    {
      operationId: 'getLiveness',
      method: 'get',
      path: '/healthz',
      role: 'public',
      tag: 'meta',
      summary: 'Liveness for load balancers: no token, no details',
      description:
        '200 `{"status": "ok"}` while this gateway runs and is connected to NATS; 503 (with Retry-After) while ' +
        'NATS is away, so a load balancer sends clients to another gateway. It never asks the core and says ' +
        'nothing else; the health checks are at /v1/health, with a token.',
      success: { status: 200, description: 'This gateway is up', schema: LivenessSchema },
      errors: [503],
    },
    ({ c }) => {
      if (!ctx.bus.connected) {
        throw new ServiceUnavailableError('this gateway is not connected to NATS', ctx.retryAfterSeconds);
      }
      c.header('Cache-Control', 'no-store');
      return c.json({ status: 'ok' as const });
    },
  );
  table.add(
    {
      operationId: 'getOpenApi',
      method: 'get',
      path: '/openapi.json',
      role: 'public',
      tag: 'meta',
      summary: 'This API, as an OpenAPI 3.1 document',
      success: { status: 200, description: 'The OpenAPI document', contentType: 'application/json' },
    },
    ({ c }) => c.json(ctx.openapi()),
  );
  table.add(
    {
      operationId: 'getMetrics',
      method: 'get',
      path: '/metrics',
      role: 'public',
      tag: 'meta',
      summary: 'Prometheus metrics',
      success: { status: 200, description: 'Prometheus text format 0.0.4', contentType: METRICS_CONTENT_TYPE },
    },
    ({ c }) => {
      // Never a core query: the core publishes its summary at every health cycle and the feed keeps the last.
      const last = ctx.summary.latest();
      const ageMs = last === undefined ? undefined : Math.max(0, ctx.clock.now() - last.receivedAt);
      const text = ctx.metrics.render({
        natsConnected: ctx.bus.connected,
        sseClients: ctx.sse.clients.count,
        summary: last?.summary,
        summaryAgeSeconds: ageMs === undefined ? undefined : ageMs / 1000,
        coreUp: ctx.bus.connected && ageMs !== undefined && ageMs <= ctx.summaryStaleAfterMs,
      });
      return c.body(text, 200, { 'Content-Type': METRICS_CONTENT_TYPE });
    },
  );
}
