// Public face of the HTTP gateway.
export type { GatewayApp } from './app';
export { createApp, createGateway } from './app';
export type { AppEnv, GatewayClock, GatewayDeps, GatewayLog, RateLimitOptions } from './deps';
export { DEFAULT_MAX_BODY_BYTES, DEFAULT_RATE_LIMIT, DEFAULT_RETRY_AFTER_SECONDS } from './deps';
export type { ErrorBody, InputLocation } from './errors';
export {
  BadGatewayError,
  BadRequestError,
  ConflictError,
  ForbiddenError,
  GatewayListenError,
  HttpError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  ServiceUnavailableError,
  TooManyRequestsError,
  UnauthorizedError,
} from './errors';
export { buildOpenApiDocument } from './openapi';
export type { HttpMethod, RouteSpec } from './route-table';
export type { RunningGateway, StartGatewayOptions } from './server';
export { DEFAULT_GATEWAY_HOST, DEFAULT_GATEWAY_PORT, startGateway } from './server';
