// The per-client undici dispatcher: what this one cluster's connections trust. Never a process-wide switch
// (no NODE_TLS_REJECT_UNAUTHORIZED, no global agent): another cluster's client keeps its own rules.
import type { TLSSocket } from 'node:tls';
import { Agent, buildConnector } from 'undici';
import type { Log } from '../log';
import { PlatformTlsError } from '../platform/errors';
import { normalizeFingerprint, type ProxmoxTlsConfig } from './config';

export interface DispatcherOptions {
  cluster: string;
  protocol: 'https' | 'http';
  tls?: ProxmoxTlsConfig | undefined;
  log: Log;
}

/**
 * Connections one cluster's client keeps open at most. pveproxy answers with a few worker processes, so more
 * connections add no throughput, only TCP and TLS handshakes: without a limit a burst of calls (400 decisions each
 * reading a guest's snapshots) opened one connection per call. Calls beyond it wait for a free connection, within
 * their own timeout.
 */
export const MAX_CONNECTIONS = 16;

/** How a client's TLS connections are verified. */
export type TlsMode = 'plain-http' | 'system-ca' | 'ca-pin' | 'fingerprint-pin' | 'ca-and-fingerprint-pin' | 'insecure';

export function tlsMode(protocol: 'https' | 'http', tls: ProxmoxTlsConfig = {}): TlsMode {
  if (protocol === 'http') return 'plain-http';
  if (tls.insecure) return 'insecure';
  if (tls.ca && tls.fingerprint) return 'ca-and-fingerprint-pin';
  if (tls.ca) return 'ca-pin';
  if (tls.fingerprint) return 'fingerprint-pin';
  return 'system-ca';
}

/**
 * Builds the dispatcher for one cluster:
 * - CA pin: the chain must lead to the given CA (and the name must match), nothing else is trusted;
 * - fingerprint pin: the leaf certificate's SHA-256 must equal the pin (chain and name not checked,
 *   as with PVE's own fingerprint trust); with a CA as well, both must hold;
 * - insecure: nothing is checked, and a warning says so;
 * - neither: the system's CA store, full verification.
 */
export function createDispatcher({ cluster, protocol, tls = {}, log }: DispatcherOptions): Agent {
  const mode = tlsMode(protocol, tls);
  switch (mode) {
    case 'plain-http':
      if (tls.ca || tls.fingerprint || tls.insecure) log.warn(`${cluster}: tls settings are ignored over plain http`);
      return new Agent({ connections: MAX_CONNECTIONS });
    case 'insecure':
      log.warn(
        `${cluster}: TLS certificate verification is DISABLED (tls.insecure: true); ` +
          'anyone on the path can impersonate this cluster. Pin tls.ca or tls.fingerprint instead.',
      );
      return new Agent({ connections: MAX_CONNECTIONS, connect: { rejectUnauthorized: false } });
    case 'ca-pin':
      return new Agent({ connections: MAX_CONNECTIONS, connect: { ca: tls.ca, rejectUnauthorized: true } });
    case 'system-ca':
      return new Agent({ connections: MAX_CONNECTIONS, connect: { rejectUnauthorized: true } });
    case 'fingerprint-pin':
    case 'ca-and-fingerprint-pin':
      return new Agent({ connections: MAX_CONNECTIONS, connect: fingerprintConnector(cluster, tls) });
  }
}

/** A connector that hands undici the socket only after the peer's certificate matched the pin. */
function fingerprintConnector(cluster: string, tls: ProxmoxTlsConfig): buildConnector.connector {
  const pin = normalizeFingerprint(tls.fingerprint!, cluster);
  // No session resumption: every connection shows its certificate again.
  const base = buildConnector(
    tls.ca
      ? { ca: tls.ca, rejectUnauthorized: true, maxCachedSessions: 0 }
      : { rejectUnauthorized: false, maxCachedSessions: 0 },
  );
  return (options, callback) => {
    base(options, (err, socket) => {
      if (err) {
        callback(err, null);
        return;
      }
      const peer = (socket as TLSSocket).getPeerCertificate?.();
      const actual = peer?.fingerprint256 ? normalizeFingerprint(peer.fingerprint256, cluster) : '(none)';
      if (actual !== pin) {
        socket.destroy();
        callback(
          new PlatformTlsError(
            `${cluster}: server certificate fingerprint ${actual} does not match the pinned ${pin}`,
            cluster,
          ),
          null,
        );
        return;
      }
      callback(null, socket);
    });
  };
}
