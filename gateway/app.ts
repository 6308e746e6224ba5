// createApp(deps): the Hono application. It never listens (server.ts does) and holds no logic: it checks
// input, authenticates through the core, and turns core replies into HTTP answers.
import { Hono } from 'hono';
import { createAuthenticator } from './auth';
import { limitBody } from './body-limit';
import { proxiedAddressSource, socketAddress } from './client-address';
import type { AppEnv, GatewayDeps } from './deps';
import {
  DEFAULT_AUTH_FAILURE_LIMIT,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_RATE_LIMIT,
  DEFAULT_RETRY_AFTER_SECONDS,
  DEFAULT_SSE_HEARTBEAT_MS,
  DEFAULT_SSE_MAX_PENDING,
  DEFAULT_SSE_MAX_STREAMS_PER_TOKEN,
  DEFAULT_SUMMARY_STALE_AFTER_MS,
  stderrLog,
  systemClock,
} from './deps';
import { MethodNotAllowedError, NotFoundError, PayloadTooLargeError } from './errors';
import { NoQuerySchema } from './http-schemas';
import { GatewayMetrics } from './metrics';
import { createErrorHandler } from './on-error';
import { buildOpenApiDocument } from './openapi';
import { PrincipalCache } from './principal-cache';
import { FailureLimiter, TokenBucketLimiter } from './rate-limit';
import type { RouteEntry } from './route-table';
import { RouteTable } from './route-table';
import { registerActorRoutes } from './routes/actors';
import { registerAuditRoutes } from './routes/audit';
import { registerBackupRoutes } from './routes/backups';
import type { RouteContext } from './routes/context';
import { registerDashboardRoutes } from './routes/dashboard';
import { registerEventRoutes } from './routes/events';
import { registerHostRoutes } from './routes/hosts';
import { registerIncidentRoutes } from './routes/incidents';
import { registerLabRoutes } from './routes/labs';
import { registerMaintenanceRoutes } from './routes/maintenance';
import { registerMetaRoutes } from './routes/meta';
import { registerOverviewRoutes } from './routes/overview';
import { registerRequestRoutes } from './routes/requests';
import { registerSessionRoutes } from './routes/session';
import { registerSyncRoutes } from './routes/sync';
import { registerTokenRoutes } from './routes/tokens';
import { registerVmRoutes } from './routes/vms';
import { SessionStore } from './session';
import { createSummaryFeed } from './summary-feed';
import { parseInput, queryObject, readJsonBody } from './validation';

/** Methods counted under their own name in the metrics; any other is counted as OTHER. */
const STANDARD_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

export interface GatewayApp {
  app: Hono<AppEnv>;
  /** Every route, as declared (the OpenAPI document is built from these). */
  routes: RouteTable;
  metrics: GatewayMetrics;
  /** Stops what the gateway listens to on the bus (the core's summary); event streams end with their connections. */
  close(): void;
}

/** Registers every resource's routes, in a fixed order. */
function buildRouteTable(ctx: RouteContext): RouteTable {
  const table = new RouteTable();
  registerOverviewRoutes(table, ctx);
  registerVmRoutes(table, ctx);
  registerHostRoutes(table, ctx);
  registerRequestRoutes(table, ctx);
  registerIncidentRoutes(table, ctx);
  registerMaintenanceRoutes(table, ctx);
  registerBackupRoutes(table, ctx);
  registerLabRoutes(table, ctx);
  registerActorRoutes(table, ctx);
  registerSyncRoutes(table, ctx);
  registerEventRoutes(table, ctx);
  registerTokenRoutes(table, ctx);
  registerAuditRoutes(table, ctx);
  registerMetaRoutes(table, ctx);
  return table;
}

export function createGateway(deps: GatewayDeps): GatewayApp {
  const clock = deps.clock ?? systemClock;
  const log = deps.log ?? stderrLog;
  const maxBodyBytes = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const retryAfterSeconds = deps.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
  const rateLimit = deps.rateLimit === undefined ? DEFAULT_RATE_LIMIT : deps.rateLimit;
  const authFailureLimit = deps.authFailureLimit === undefined ? DEFAULT_AUTH_FAILURE_LIMIT : deps.authFailureLimit;
  const maxStreamsPerToken = deps.sseMaxStreamsPerToken ?? DEFAULT_SSE_MAX_STREAMS_PER_TOKEN;
  if (!Number.isInteger(maxStreamsPerToken) || maxStreamsPerToken < 1) {
    throw new RangeError(`sseMaxStreamsPerToken must be an integer >= 1 (got ${maxStreamsPerToken})`);
  }
  const metrics = new GatewayMetrics();
  // Built before anything subscribes, so a bad option leaves no subscription behind.
  const failures = authFailureLimit ? new FailureLimiter(authFailureLimit, clock) : undefined;
  const rateLimiter = rateLimit ? new TokenBucketLimiter(rateLimit, clock) : undefined;
  const sessions = new SessionStore(clock, {
    ...(deps.sessionIdleMs !== undefined ? { idleMs: deps.sessionIdleMs } : {}),
    ...(deps.maxSessions !== undefined ? { maxSessions: deps.maxSessions } : {}),
  });
  const summary = createSummaryFeed(deps.bus, clock, log);
  const principals = new PrincipalCache(clock);

  let openapi: unknown;
  const ctx: RouteContext = {
    bus: deps.bus,
    clock,
    log,
    metrics,
    sse: {
      heartbeatMs: deps.sseHeartbeatMs ?? DEFAULT_SSE_HEARTBEAT_MS,
      maxPending: deps.sseMaxPending ?? DEFAULT_SSE_MAX_PENDING,
      maxPerToken: maxStreamsPerToken,
      clients: { count: 0 },
      perToken: new Map(),
    },
    summary,
    summaryStaleAfterMs: deps.summaryStaleAfterMs ?? DEFAULT_SUMMARY_STALE_AFTER_MS,
    retryAfterSeconds,
    principals,
    openapi: () => {
      openapi ??= buildOpenApiDocument(table.specs);
      return openapi;
    },
  };
  const table = buildRouteTable(ctx);
  const authenticator = createAuthenticator({
    core: deps.core,
    bus: deps.bus,
    limiter: rateLimiter,
    failures,
    sessions,
    clientAddress:
      deps.clientAddress ?? (deps.trustedProxies?.length ? proxiedAddressSource(deps.trustedProxies) : socketAddress),
    retryAfterSeconds,
    principals,
    onRateLimited: () => metrics.countRateLimited(),
    onAuthFailuresLimited: () => metrics.countAuthFailuresLimited(),
  });

  const app = new Hono<AppEnv>();
  app.use('*', async (c, next) => {
    const started = clock.now();
    await next();
    const route = c.get('route') ?? 'unmatched';
    // Any token is a valid method name: only the standard ones become label values (bounded series).
    const method = STANDARD_METHODS.has(c.req.method) ? c.req.method : 'OTHER';
    metrics.observe(route, method, c.res.status, Math.max(0, clock.now() - started) / 1000);
  });
  app.use(
    '*',
    limitBody(maxBodyBytes, () => {
      throw new PayloadTooLargeError(maxBodyBytes);
    }),
  );

  const mount = ({ spec, handler }: RouteEntry) => {
    app.on(spec.method.toUpperCase(), spec.path, async (c) => {
      c.set('route', spec.path);
      const caller =
        spec.role === 'public'
          ? undefined
          : await authenticator.authenticate(c, spec.role, { coreAuthenticates: spec.coreAuthenticates === true });
      if (caller) c.set('principal', caller.principal);
      const params = spec.params ? parseInput(spec.params, c.req.param(), 'path') : {};
      const query = parseInput(spec.query ?? NoQuerySchema, queryObject(c), 'query');
      const body = spec.body ? await readJsonBody(c, spec.body, spec.bodyOptional ?? false) : undefined;
      return handler({ c, params, query, body, principal: caller?.principal, core: caller?.core ?? deps.core });
    });
  };
  for (const entry of table.entries) mount(entry);
  // The dashboard: its page and files, and the cookie session it signs in with (outside the route table).
  registerSessionRoutes(app, { authenticator, sessions, trustedProxies: deps.trustedProxies });
  registerDashboardRoutes(app, deps.uiDistDir);

  // A known path with another method: 405 with Allow (after every route, so real routes match first).
  const methodsByPath = new Map<string, string[]>();
  for (const { spec } of table.entries) {
    const methods = methodsByPath.get(spec.path) ?? [];
    methods.push(spec.method.toUpperCase());
    if (spec.method === 'get') methods.push('HEAD');
    methodsByPath.set(spec.path, methods);
  }
  for (const [path, methods] of methodsByPath) {
    app.all(path, (c) => {
      c.set('route', path);
      throw new MethodNotAllowedError(c.req.method, new URL(c.req.url).pathname, methods);
    });
  }

  app.notFound((c) => {
    throw new NotFoundError(`no route ${c.req.method} ${new URL(c.req.url).pathname}`);
  });
  app.onError(createErrorHandler({ retryAfterSeconds, maxBodyBytes, log }));

  return { app, routes: table, metrics, close: () => summary.close() };
}

/**
 * The Hono application of the gateway (never listens; see server.ts). Its subscription to the core's summary
 * lasts as long as the bus: use createGateway when the gateway must stop before the bus closes.
 */
export function createApp(deps: GatewayDeps): Hono<AppEnv> {
  return createGateway(deps).app;
}
