// GET /openapi.json and GET /metrics: public (no token), answered even while NATS is away.
import { METRICS_CONTENT_TYPE } from '../metrics';
import type { RouteTable } from '../route-table';
import type { RouteContext } from './context';

/** How long /metrics waits for the core's summary before leaving the fleet counts out. */
const SUMMARY_TIMEOUT_MS = 1000;

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
    async ({ c }) => {
      let summary: Awaited<ReturnType<typeof ctx.core.query<'summary'>>> | undefined;
      if (ctx.bus.connected) {
        try {
          summary = await ctx.core.query('summary', {}, { timeoutMs: SUMMARY_TIMEOUT_MS });
        } catch {
          summary = undefined;
        }
      }
      const text = ctx.metrics.render({
        natsConnected: ctx.bus.connected,
        sseClients: ctx.sse.clients.count,
        summary,
      });
      return c.body(text, 200, { 'Content-Type': METRICS_CONTENT_TYPE });
    },
  );
}
