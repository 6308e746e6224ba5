// Is the gateway's port free? Checked first thing by `serve`, before NATS, the token or the restore, so a taken
// port is said at once: listen on it, then close again.
import { createServer } from 'node:net';

/** The port cannot be listened on: taken by another program, not allowed, or the address is not this host's. */
export class PortUnavailableError extends Error {
  override name = 'PortUnavailableError';
  constructor(
    message: string,
    readonly host: string,
    readonly port: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Resolves when `host:port` can be listened on (and is free again); rejects with PortUnavailableError naming the
 * port, what is wrong and the setting (`key`, `hostKey`) that chooses it.
 */
export function assertPortFree(
  port: number,
  host: string,
  what: { name: string; key: string; hostKey: string },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      const at = `${host}:${port}`;
      const why =
        err.code === 'EADDRINUSE'
          ? `is taken: another Overseer or another program listens there; stop it, or set ${what.key} to a free port`
          : err.code === 'EACCES'
            ? `cannot be listened on by this user (ports below 1024 need privileges): set ${what.key} to another port`
            : err.code === 'EADDRNOTAVAIL'
              ? `is not an address of this host: set ${what.hostKey}`
              : `cannot be listened on (${err.message})`;
      reject(new PortUnavailableError(`the ${what.name} port ${at} ${why}`, host, port, { cause: err }));
    });
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}
