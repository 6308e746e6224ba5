// The Proxmox adapter on a PVE simulator over HTTPS (tests/helpers/sim-cluster.ts), on a simulated clock, with a
// cluster of VMs and containers; and small helpers to run a task to its end.
import { readFileSync } from 'node:fs';
import { SimulatedClock } from '../../adapters/clock';
import { createMemoryLog, type Log } from '../../adapters/log';
import type { Inventory, TaskRef, TaskStatus } from '../../adapters/platform/types';
import { createProxmoxPlatform, type ProxmoxClusterConfig, type ProxmoxPlatform } from '../../adapters/proxmox';
import type { SimSeed, Simulator, SimVmSeed } from '../../adapters/pve-sim';
import { type SimCluster, startSimCluster } from '../helpers/sim-cluster';
import { settleWithClock } from './helpers';

const GiB = 1024 ** 3;

export interface SimPlatform {
  sim: Simulator;
  platform: ProxmoxPlatform;
  clock: SimulatedClock;
  log: Log & { lines: string[] };
  config: ProxmoxClusterConfig;
  /** Waits for a promise while moving the clock. */
  settle<T>(p: Promise<T>): Promise<T>;
  /** Starts a task and waits for its end (throws TaskFailedError when it fails). */
  run(start: Promise<TaskRef>): Promise<TaskStatus>;
  /** The error of starting or running a task (undefined when it ended OK). */
  failure(start: Promise<TaskRef>): Promise<unknown>;
  inventory(): Promise<Inventory>;
  stop(): Promise<void>;
}

const guest = (
  vmid: number,
  name: string,
  node: string,
  status: SimVmSeed['status'],
  extra: Partial<SimVmSeed> = {},
): SimVmSeed => ({ vmid, name, node, status, tags: [], cores: 2, maxmem: 2 * GiB, maxdisk: 16 * GiB, ...extra });

/**
 * Cluster 'lab' on pve1–pve3 with VMs and containers: VM template 9000 and CT template 9100 on pve1; VMs 100
 * (running, pve1), 101 (stopped, pve2), 105 (HA, running, pve2), 150 (protected, stopped, pve3); containers 200
 * (running, pve1, pool lab1), 201 (stopped, pve2, pool lab1), 202 (HA, running, pve3), 203 (stopped, pve1, snapshot
 * `pre-upgrade`).
 */
export function mixedSeed(): SimSeed {
  const node = (name: string, i: number) => ({
    name,
    ip: `10.0.0.${11 + i}`,
    maxcpu: 16,
    maxmem: 64 * GiB,
    maxdisk: 1024 * GiB,
  });
  return {
    cluster: 'lab',
    nodes: ['pve1', 'pve2', 'pve3'].map(node),
    vms: [
      guest(9000, 'debian-12-template', 'pve1', 'stopped', { template: true, tags: ['template'] }),
      guest(9100, 'debian-12-ct-template', 'pve1', 'stopped', { type: 'lxc', template: true }),
      guest(100, 'web-01', 'pve1', 'running', { tags: ['web'] }),
      guest(101, 'web-02', 'pve2', 'stopped', { tags: ['web'], snapshots: [{ name: 'before_upgrade' }] }),
      guest(105, 'dns-01', 'pve2', 'running', { hastate: 'started', tags: ['infra'] }),
      guest(150, 'ledger', 'pve3', 'stopped', { protection: true, tags: ['production'] }),
      guest(200, 'ct-web', 'pve1', 'running', { type: 'lxc', pool: 'lab1', tags: ['web'] }),
      guest(201, 'ct-cache', 'pve2', 'stopped', { type: 'lxc', pool: 'lab1' }),
      guest(202, 'ct-dns', 'pve3', 'running', { type: 'lxc', hastate: 'started', tags: ['infra'] }),
      guest(203, 'ct-build', 'pve1', 'stopped', {
        type: 'lxc',
        snapshots: [{ name: 'pre-upgrade', description: 'before apt upgrade' }],
      }),
    ],
  };
}

export async function startSimPlatform(
  options: { seed?: SimSeed; config?: Partial<ProxmoxClusterConfig>; taskDurations?: Record<string, number> } = {},
): Promise<SimPlatform> {
  const clock = new SimulatedClock(Date.UTC(2024, 4, 1));
  const log = createMemoryLog(clock);
  const cluster: SimCluster = await startSimCluster({
    clock,
    seed: options.seed ?? mixedSeed(),
    taskDurations: options.taskDurations,
  });
  // The file config names the CA by path (tls.caFile); the adapter takes its PEM.
  const { tls: _file, ...fromFile } = cluster.clusterConfig;
  const config: ProxmoxClusterConfig = {
    ...(fromFile as unknown as ProxmoxClusterConfig),
    tls: { ca: readFileSync(cluster.caPath, 'utf8') },
    ...options.config,
  };
  const platform = createProxmoxPlatform(config, { clock, log });
  const settle = <T>(p: Promise<T>) => settleWithClock(p, clock, 250);
  const run = async (start: Promise<TaskRef>) => settle(platform.waitTask(await settle(start), { timeoutMs: 600_000 }));
  return {
    sim: cluster.sim,
    platform,
    clock,
    log,
    config,
    settle,
    run,
    failure: (start) =>
      run(start).then(
        () => undefined,
        (err: unknown) => err,
      ),
    inventory: () => platform.inventory(),
    async stop() {
      await platform.close();
      await cluster.stop();
    },
  };
}
