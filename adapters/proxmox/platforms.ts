// Several clusters at once: one Platform (own client, own TLS trust, own credentials) per cluster.
import { PlatformConfigError } from '../platform/errors';
import type { ProxmoxClusterConfig } from './config';
import { createProxmoxPlatform, type ProxmoxDeps, type ProxmoxPlatform } from './platform';

/** One platform per config, keyed by cluster name. Duplicate names are a config error. */
export function createPlatforms(
  configs: readonly ProxmoxClusterConfig[],
  deps: ProxmoxDeps,
): Map<string, ProxmoxPlatform> {
  const platforms = new Map<string, ProxmoxPlatform>();
  try {
    for (const config of configs) {
      if (platforms.has(config.name)) {
        throw new PlatformConfigError(`cluster '${config.name}' is configured twice`, config.name);
      }
      platforms.set(config.name, createProxmoxPlatform(config, deps));
    }
  } catch (err) {
    for (const p of platforms.values()) void p.close();
    throw err;
  }
  return platforms;
}

/** Closes every platform's connections. */
export async function closePlatforms(platforms: Iterable<ProxmoxPlatform>): Promise<void> {
  await Promise.allSettled([...platforms].map((p) => p.close()));
}
