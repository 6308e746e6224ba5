// The listening gateway: createGateway's fetch on a Node HTTP server, bound to 127.0.0.1 unless told otherwise.
// The client address of the per-address limits is the socket's (see client-address.ts).

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { createGateway } from './app';
import type { GatewayDeps } from './deps';
import { GatewayListenError } from './errors';

export const DEFAULT_GATEWAY_PORT = 8001;
export const DEFAULT_GATEWAY_HOST = '127.0.0.1';

export interface StartGatewayOptions {
  /** 0 picks a free port. Default DEFAULT_GATEWAY_PORT (OVERSEER_PORT is read by the caller). */
  port?: number;
  hostname?: string;
}

export interface RunningGateway {
  /** e.g. http://127.0.0.1:8001 */
  url: string;
  hostname: string;
  port: number;
  /** Stops listening, ends open connections (event streams included) and the gateway's bus subscriptions. */
  close(): Promise<void>;
}

export async function startGateway(deps: GatewayDeps, opts: StartGatewayOptions = {}): Promise<RunningGateway> {
  const hostname = opts.hostname ?? DEFAULT_GATEWAY_HOST;
  const wanted = opts.port ?? DEFAULT_GATEWAY_PORT;
  const gateway = createGateway(deps);
  const server = createAdaptorServer({ fetch: gateway.app.fetch, hostname }) as Server;
  try {
    await listen(server, hostname, wanted);
  } catch (error) {
    gateway.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const urlHost = hostname.includes(':') ? `[${hostname}]` : hostname;
  return {
    url: `http://${urlHost}:${port}`,
    hostname,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        gateway.close();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function listen(server: Server, hostname: string, wanted: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      server.off('listening', onListening);
      reject(
        new GatewayListenError(`cannot listen on ${hostname}:${wanted}: ${err.message}`, hostname, wanted, {
          cause: err,
        }),
      );
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(wanted, hostname);
  });
}
