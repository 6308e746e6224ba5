// Every route is declared once, with its role and schemas: the table mounts it on Hono (auth, input parsing)
// and the OpenAPI document is generated from the same declarations, so the two cannot drift apart.
import type { Context } from 'hono';
import type { z } from 'zod';
import type { CoreClient, Principal, Role } from '../protocol';
import type { AppEnv } from './deps';

export type HttpMethod = 'get' | 'post' | 'delete';

/** A 2xx answer: its status, what it means, its body. */
export interface SuccessAnswer {
  status: number;
  description: string;
  schema?: z.ZodType;
  contentType?: string;
}

export interface RouteSpec<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
> {
  operationId: string;
  method: HttpMethod;
  /** Hono path pattern, e.g. `/v1/vms/:cluster/:vmid`. */
  path: string;
  /** Lowest role allowed; `public` routes need no token. */
  role: Role | 'public';
  tag: string;
  summary: string;
  description?: string;
  params?: P;
  /** Query string; every route refuses unknown query parameters (NoQuerySchema when omitted). */
  query?: Q;
  body?: B;
  /** An empty body stands for `{}`. */
  bodyOptional?: boolean;
  /** Request headers the route reads (documentation). */
  headers?: { name: string; description: string }[];
  success: SuccessAnswer;
  /** Other 2xx answers the route may give (a dry run's 200 beside a submission's 201). */
  otherSuccess?: SuccessAnswer[];
  /** Route-specific error statuses (404, 409, ...); auth, input and availability errors are added for all. */
  errors?: number[];
  /**
   * The handler's one call to the core carries the credential and the core authenticates it itself (submit, the
   * request commands): a principal the core verified in the last few seconds is believed for the gateway's early
   * checks (rate limit, role) instead of asking the core `auth` first (principal-cache.ts).
   */
  coreAuthenticates?: boolean;
}

export interface RouteInput<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  c: Context<AppEnv>;
  params: z.infer<P>;
  query: z.infer<Q>;
  body: z.infer<B>;
  /** The token's owner; undefined on public routes. */
  principal: Principal | undefined;
  /** The core, every call carrying the caller's credential (no credential on public routes). */
  core: CoreClient;
}

export type RouteHandler<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> = (
  input: RouteInput<P, Q, B>,
) => Response | Promise<Response>;

export interface RouteEntry {
  spec: RouteSpec;
  handler: RouteHandler<z.ZodType, z.ZodType, z.ZodType>;
}

export class RouteTable {
  readonly entries: RouteEntry[] = [];

  add<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
    spec: RouteSpec<P, Q, B>,
    handler: RouteHandler<P, Q, B>,
  ): void {
    this.entries.push({ spec, handler: handler as RouteHandler<z.ZodType, z.ZodType, z.ZodType> });
  }

  get specs(): RouteSpec[] {
    return this.entries.map((e) => e.spec);
  }
}

/** Hono's `:name` path parameters → OpenAPI's `{name}`. */
export const openApiPath = (path: string): string => path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
