// SSH check targets from the config: keys read once at start, host keys pinned in a known-hosts file under the
// data dir (a changed key is an incident, never accepted).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import type { SshTarget } from '../adapters/ssh';
import { createFileKnownHosts, createSshChecker } from '../adapters/ssh';
import type { OverseerConfig } from './config';
import { ConfigError } from './config';
import type { SshTargetSource } from './monitor';

export function sshTargetsFromConfig(
  config: OverseerConfig,
  dataDir: string,
  deps: { clock: Clock; log: Log },
): SshTargetSource | undefined {
  const { ssh } = config;
  if (ssh.targets.length === 0) return undefined;
  const targets: SshTarget[] = ssh.targets.map((t, i) => {
    let privateKey: string;
    try {
      privateKey = readFileSync(t.privateKeyFile, 'utf8');
    } catch (cause) {
      throw new ConfigError(
        `ssh.targets[${i}].privateKeyFile: cannot read ${t.privateKeyFile}`,
        `ssh.targets[${i}].privateKeyFile`,
        { cause },
      );
    }
    return {
      id: `vm:${t.vm}`,
      host: t.host,
      port: t.port,
      username: t.username,
      privateKey,
      hostKey: t.hostKey,
      units: t.units,
    };
  });
  const knownHosts = createFileKnownHosts({
    path: ssh.knownHostsFile ?? join(dataDir, 'known_hosts.json'),
    tofu: ssh.trustOnFirstUse,
  });
  return {
    checker: createSshChecker({ ...deps, knownHosts }),
    targets: () => targets,
    intervalMs: ssh.intervalSeconds * 1000,
  };
}
