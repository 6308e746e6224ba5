// GET /openapi.json and GET /metrics: public (no token), answered even while NATS is away, and neither asks
// the core anything (a scrape reads the summary the core last published).
import { METRICS_CONTENT_TYPE } from '../metrics';
import type { RouteTable } from '../route-table';
import type { RouteContext } from './context';

export function registerMetaRoutes(table: RouteTable, ctx: RouteContext): void {
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
