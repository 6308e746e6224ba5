// Builds the platform of every configured cluster (Proxmox adapter), reading pinned CA files once at start.
import { readFileSync } from 'node:fs';
import type { ProxmoxDeps, ProxmoxPlatform } from '../adapters/proxmox';
import { createPlatforms } from '../adapters/proxmox';
import type { ClusterConfig } from './config';
import { ConfigError } from './config';

export function platformsFromConfig(
  clusters: readonly ClusterConfig[],
  deps: ProxmoxDeps,
): Map<string, ProxmoxPlatform> {
  return createPlatforms(
    clusters.map((c, i) => {
      let ca = c.tls.ca;
      if (c.tls.caFile) {
        try {
          ca = readFileSync(c.tls.caFile, 'utf8');
        } catch (cause) {
          throw new ConfigError(`clusters[${i}].tls.caFile: cannot read ${c.tls.caFile}`, `clusters[${i}].tls.caFile`, {
            cause,
          });
        }
      }
      return {
        name: c.name,
        host: c.host,
        port: c.port,
        protocol: c.protocol,
        auth: c.auth,
        tls: { ca, fingerprint: c.tls.fingerprint, insecure: c.tls.insecure },
        timeoutMs: c.timeoutMs,
        taskPollMs: c.taskPollMs,
      };
    }),
    deps,
  );
}
