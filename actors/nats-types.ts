// What actors/nats-endpoint.ts and actors/embedded-nats.ts resolve: the endpoint, who connects as whom, and
// the errors of finding a NATS server.
import type { NatsServerProcess } from '../adapters/nats';

export class NatsUnavailableError extends Error {
  override name = 'NatsUnavailableError';
}

/** Another Overseer core already serves this namespace on this NATS server. */
export class NatsNamespaceTakenError extends Error {
  override name = 'NatsNamespaceTakenError';
  constructor(
    message: string,
    readonly namespace: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type NatsRole = 'all' | 'core' | 'gateway';

export interface NatsCredentials {
  user?: string;
  pass?: string;
  nkeySeed?: string;
}

export interface NatsEndpoint {
  url: string;
  /** The server this process started, if any (stopped on shutdown). */
  server?: NatsServerProcess | undefined;
  /** True for the embedded server (this data dir's own), false for NATS_URL. */
  embedded: boolean;
  /** The namespace the bus puts Overseer's subjects under; undefined: none. */
  namespace: string | undefined;
  /** Who the core's and the gateway's connections log in as. */
  credentials: { core: NatsCredentials; gateway: NatsCredentials };
  /** False (NATS_DISCOVERY=off): connect only to NATS_URL's servers, never to others the cluster announces. */
  followCluster?: boolean | undefined;
  /**
   * NATS_URL: the probe of what a client without credentials may do, which runs beside the start (it only warns);
   * resolves once its finding is logged.
   */
  probed?: Promise<void> | undefined;
}
