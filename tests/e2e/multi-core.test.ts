// Several cores share the fleet (issue 15): three nats-servers clustered with JetStream (R3), three Overseer processes
// (`serve --role all`, each on its own nats-server, each with its own gateway and data dir), two simulated Proxmox
// clusters. The core owning a cluster is SIGKILLed while requests stream in through the gateways: the cluster is
// owned again within the lease time plus a second, every request a gateway acknowledged reaches a terminal status,
// and the simulators' logs show every operation exactly once.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAuditKey } from '../../actors/audit-startup';
import { clusterDbPath } from '../../actors/cluster-runtime';
import type { NatsBus } from '../../adapters/nats';
import { connectBus, findFreePort } from '../../adapters/nats';
import { largeSeed } from '../../adapters/pve-sim';
import { run } from '../../cli/main';
import { StateStore } from '../../state';
import type { Child } from '../helpers/child';
import { runTs } from '../helpers/child';
import type { TestNatsCluster } from '../helpers/nats-cluster';
import { startNatsCluster } from '../helpers/nats-cluster';
import { natsServerAvailable } from '../helpers/nats-server';
import type { SimCluster } from '../helpers/sim-cluster';
import { startSimCluster } from '../helpers/sim-cluster';

const SERVE_CHILD = join(import.meta.dirname, 'serve-child.ts');
const CLUSTERS = ['east', 'west'] as const;
const VMS = 220;
const LEASE_SECONDS = 2;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface CoreProc {
  id: string;
  dataDir: string;
  url: string;
  child: Child;
  alive: boolean;
}

interface Lease {
  cluster: string;
  owner?: string;
  ownedByMe: boolean;
}

let nats: TestNatsCluster;
let watcher: NatsBus;
/** Lease events seen on NATS, with when they arrived. */
const leaseEvents: { subject: string; at: number; payload: unknown }[] = [];
const sims = new Map<string, SimCluster>();
const cores: CoreProc[] = [];
let dir: string;
let token = '';

async function api<T>(
  core: CoreProc,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${core.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as T };
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Who owns each cluster, as the first live core's status says. */
async function owners(): Promise<Record<string, string | undefined>> {
  const core = cores.find((c) => c.alive);
  if (!core) return {};
  const { body } = await api<{ leases?: Lease[] }>(core, 'GET', '/v1/status');
  return Object.fromEntries((body.leases ?? []).map((l) => [l.cluster, l.owner]));
}

describe.runIf(natsServerAvailable)('multi-core', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'overseer-multi-'));
    nats = await startNatsCluster({ size: 3 });
    for (const name of CLUSTERS) {
      sims.set(
        name,
        await startSimCluster({
          seed: largeSeed({ vms: VMS, nodes: 2, cluster: name }),
          taskDurations: { qmsnapshot: 400 },
        }),
      );
    }
    const config = {
      clusters: CLUSTERS.map((name) => ({ ...sims.get(name)?.clusterConfig, name })),
      cores: { leaseSeconds: LEASE_SECONDS, replicas: 3 },
    };
    watcher = await connectBus({ servers: nats.urls, name: 'watcher', namespace: 'fleet' });
    watcher.subscribe('overseer.evt.lease.>', (subject, payload) =>
      leaseEvents.push({ subject, at: Date.now(), payload }),
    );
    const configPath = join(dir, 'overseer.json');
    writeFileSync(configPath, JSON.stringify(config));
    for (let i = 0; i < 3; i++) {
      const id = `core-${i + 1}`;
      const dataDir = join(dir, id);
      const port = await findFreePort();
      const child = runTs(SERVE_CHILD, ['all'], {
        OVERSEER_DATA_DIR: dataDir,
        OVERSEER_CONFIG: configPath,
        OVERSEER_CORE_ID: id,
        OVERSEER_PORT: String(port),
        OVERSEER_RATE_LIMIT: 'off',
        NATS_URL: nats.urls[i] ?? '',
        OVERSEER_NAMESPACE: 'fleet',
      });
      cores.push({ id, dataDir, url: `http://127.0.0.1:${port}`, child, alive: true });
    }
    await Promise.all(cores.map((c) => c.child.line('READY', 90_000)));
    token = await until('the first admin token', 30_000, async () => {
      const holder = cores.find((c) => existsSync(join(c.dataDir, 'admin.token')));
      return holder ? readFileSync(join(holder.dataDir, 'admin.token'), 'utf8').trim() : undefined;
    });
    await until('every cluster owned', 30_000, async () => {
      const o = await owners();
      return CLUSTERS.every((c) => o[c]) ? o : undefined;
    });
  }, 180_000);

  afterAll(async () => {
    if (process.env.MULTI_CORE_LOGS) {
      for (const core of cores)
        writeFileSync(
          join(process.env.MULTI_CORE_LOGS, `${core.id}.log`),
          core.child.stdout().join('\n') + core.child.stderr(),
        );
    }
    for (const core of cores) {
      if (core.alive) {
        core.child.proc.kill('SIGTERM');
        await core.child.exited;
      }
    }
    for (const sim of sims.values()) await sim.stop();
    await watcher?.close();
    await nats?.stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('multi-core - every cluster has one owner and any gateway decides for any cluster', async () => {
    const o = await owners();
    expect(new Set(Object.keys(o))).toEqual(new Set(CLUSTERS));
    // `overseer status` says who owns what, through any core's gateway (as that core sees the leases).
    const statusOut = async () => {
      let out = '';
      const code = await run(
        ['status'],
        { OVERSEER_URL: cores[2]?.url ?? '', OVERSEER_TOKEN: token },
        {
          stdout: (t) => {
            out += t;
          },
          stderr: (t) => {
            out += t;
          },
        },
      );
      return code === 0 && CLUSTERS.every((c) => new RegExp(`${c}\\s+core-\\d`).test(out)) ? out : undefined;
    };
    const out = await until('overseer status showing every owner', 15_000, statusOut);
    expect(out).toMatch(/LEASE RENEWED/);
    for (const core of cores) {
      for (const cluster of CLUSTERS) {
        const vmid = 100 + cores.indexOf(core) * 2 + CLUSTERS.indexOf(cluster);
        const res = await api<{ decision: string; requestId: string }>(core, 'POST', '/v1/requests', {
          action: 'snapshot',
          target: `${cluster}/${vmid}`,
          params: { snapname: `first-${vmid}` },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        expect(res.body.decision).toBe('approved');
      }
    }
  }, 60_000);

  it('multi-core - SIGKILL of an owner under load: re-owned in time, every acknowledged request ends, each operation once', async () => {
    const before = await owners();
    const victimId = before.east;
    const victim = cores.find((c) => c.id === victimId);
    expect(victim).toBeDefined();
    const survivors = cores.filter((c) => c !== victim);
    const acknowledged: string[] = [];
    const vmids = Array.from({ length: 100 }, (_, i) => 110 + i);
    let killedAt = 0;
    const submit = async (i: number) => {
      const cluster = CLUSTERS[i % 2] as string;
      const core = survivors[i % survivors.length] as CoreProc;
      const vmid = vmids[Math.floor(i / 2)] as number;
      const res = await api<{ id: string }>(core, 'POST', '/v1/requests', {
        action: 'snapshot',
        target: `${cluster}/${vmid}`,
        params: { snapname: `load-${vmid}` },
      });
      if (res.status === 201) acknowledged.push(res.body.id);
    };
    const stream = (async () => {
      for (let i = 0; i < vmids.length * 2; i++) {
        if (i === 60 && victim) {
          victim.child.proc.kill('SIGKILL');
          await victim.child.exited;
          victim.alive = false;
          killedAt = Date.now();
        }
        await submit(i);
      }
    })();
    const reowned = await until(
      'east owned again',
      30_000,
      async () =>
        leaseEvents.find(
          (e) =>
            e.subject.startsWith('overseer.evt.lease.east.') &&
            killedAt > 0 &&
            e.at >= killedAt &&
            /taken-over|acquired/.test(e.subject),
        )?.at,
    );
    await stream;
    // From the kill to the new owner's lease event on NATS: the lease time, plus a second.
    expect(reowned - killedAt).toBeLessThan((LEASE_SECONDS + 1) * 1000);
    expect((await owners()).east).not.toBe(victimId);
    expect(acknowledged.length).toBeGreaterThan(150);

    const terminal = new Set(['completed', 'failed', 'denied', 'cancelled', 'expired', 'nothing_to_do']);
    let pending: string[] = [];
    const statuses = await until('every acknowledged request ended', 60_000, async () => {
      const seen: Record<string, string> = {};
      pending = [];
      for (const id of acknowledged) {
        const { status, body } = await api<{ status: string }>(survivors[0] as CoreProc, 'GET', `/v1/requests/${id}`);
        if (status !== 200 || !terminal.has(body.status)) pending.push(`${id}: ${status} ${JSON.stringify(body)}`);
        else seen[id] = body.status;
      }
      return pending.length === 0 ? seen : undefined;
    }).catch((error: Error) => {
      throw new Error(`${error.message}; not ended:\n${pending.slice(0, 5).join('\n')}`);
    });
    expect(Object.values(statuses).every((s) => s === 'completed')).toBe(true);

    for (const cluster of CLUSTERS) {
      const started = new Map<number, number>();
      for (const e of sims.get(cluster)?.sim.oplog ?? []) {
        if (e.op === 'snapshot' && e.result === 'started') started.set(e.vmid, (started.get(e.vmid) ?? 0) + 1);
      }
      for (const [vmid, n] of started) expect(n, `${cluster}/${vmid} snapshots started`).toBe(1);
    }
  }, 180_000);

  it('multi-core - the audit chain verifies on every core: its own database and each cluster it ran', async () => {
    for (const core of cores) {
      if (core.alive) {
        core.child.proc.kill('SIGTERM');
        await core.child.exited;
        core.alive = false;
      }
    }
    const key = (core: CoreProc) => readAuditKey(join(core.dataDir, 'audit.key'));
    let chains = 0;
    for (const core of cores) {
      const files = [
        join(core.dataDir, 'overseer.db'),
        ...CLUSTERS.map((c) => clusterDbPath(core.dataDir, c)).filter((f) => existsSync(f)),
      ];
      for (const file of files) {
        const store = StateStore.open(file, { auditKey: key(core) });
        try {
          const verdict = store.audit.verify();
          expect(verdict.ok, `${core.id}: ${file}: ${JSON.stringify(verdict)}`).toBe(true);
          chains++;
        } finally {
          store.close();
        }
      }
    }
    // Every core's own database, and at least every cluster's current and former owners' files.
    expect(chains).toBeGreaterThanOrEqual(cores.length + CLUSTERS.length);
  }, 60_000);
});
