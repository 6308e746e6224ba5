// Several cores share the fleet (issue 15): three nats-servers clustered with JetStream (R3), three Overseer processes
// (`serve --role all`, each with its own gateway and data dir), two simulated Proxmox clusters. core-3 keeps to its
// own nats-server (NATS_DISCOVERY=off) and starts first, so it owns both clusters. Under a stream of requests through
// the gateways: core-3 is cut off (its server stopped), then the owner of `east` is SIGKILLed, then a nats-server is
// stopped under the remaining cores. Each time: every request a gateway acknowledged ends, the simulators' logs show
// every operation once, and no two cores operate on one cluster in overlapping lease periods.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAuditKey } from '../../actors/audit-startup';
import { clusterDbPath } from '../../actors/cluster-runtime';
import type { OpLogEntry } from '../../adapters/pve-sim';
import { run } from '../../cli/main';
import { StateStore } from '../../state';
import type { MultiCoreStack, StackCore } from '../helpers/multi-core-stack';
import { startMultiCoreStack, until } from '../helpers/multi-core-stack';
import { natsServerAvailable } from '../helpers/nats-server';

const CLUSTERS = ['east', 'west'] as const;
const LEASE_SECONDS = 2;
/** core-3: pinned to its own nats-server, first to start. */
const PINNED = 2;
const TERMINAL = new Set(['completed', 'failed', 'denied', 'cancelled', 'expired', 'nothing_to_do']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let stack: MultiCoreStack;
const agentOf = (core: StackCore) => `overseer core ${core.id}`;
const alive = () => stack.cores.filter((c) => c.alive);

async function api<T>(core: StackCore, method: string, path: string, body?: unknown) {
  const res = await fetch(`${core.url}${path}`, {
    method,
    signal: AbortSignal.timeout(20_000),
    headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as T };
}

const oplog = (cluster: string): OpLogEntry[] => stack.sims.get(cluster)?.sim.oplog ?? [];

/** When a lease event for `cluster` matching `kind` first arrived after `since` (wall ms). */
function leaseEventAt(cluster: string, kind: RegExp, since: number): number | undefined {
  return stack.leaseEvents.find(
    (e) => e.subject.startsWith(`overseer.evt.lease.${cluster}.`) && e.at >= since && kind.test(e.subject),
  )?.at;
}

/** What a stream of requests got: the acknowledged ids and snapshot keys, and the refusals with their answers. */
interface Streamed {
  acknowledged: string[];
  /** `cluster/vmid/snapname` of each acknowledged request. */
  keys: string[];
  afterFault: number;
  refused: string[];
}

/**
 * Sends `count` snapshot requests (alternating clusters, round robin over `via`), one at a time, with snapshot names
 * tagged `tag`; calls `fault` before request `faultAt`. Each call is bounded (20 s): a gateway that hangs is a failure.
 */
async function stream(opts: {
  tag: string;
  count: number;
  via: () => StackCore[];
  faultAt: number;
  fault: () => Promise<void>;
}): Promise<Streamed> {
  const out: Streamed = { acknowledged: [], keys: [], afterFault: 0, refused: [] };
  for (let i = 0; i < opts.count; i++) {
    if (i === opts.faultAt) await opts.fault();
    const via = opts.via();
    const core = via[i % via.length] as StackCore;
    const cluster = CLUSTERS[i % 2] as string;
    const vmid = 110 + Math.floor(i / 2);
    const snapname = `${opts.tag}-${vmid}`;
    const res = await api<{ id: string }>(core, 'POST', '/v1/requests', {
      action: 'snapshot',
      target: `${cluster}/${vmid}`,
      params: { snapname },
    }).catch((error: Error) => ({ status: 0, body: { id: '', error: error.message } }));
    if (res.status === 201) {
      out.acknowledged.push(res.body.id);
      out.keys.push(`${cluster}/${vmid}/${snapname}`);
      if (i >= opts.faultAt) out.afterFault++;
    } else out.refused.push(`#${i} via ${core.id} to ${cluster}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return out;
}

/** Waits until every acknowledged request has ended (asked through `via`); expects every one completed. */
async function expectAllCompleted(ids: string[], via: () => StackCore): Promise<void> {
  let pending: string[] = [];
  const statuses = await until('every acknowledged request ended', 60_000, async () => {
    const seen: string[] = [];
    pending = [];
    for (const id of ids) {
      const { status, body } = await api<{ status: string }>(via(), 'GET', `/v1/requests/${id}`);
      if (status !== 200 || !TERMINAL.has(body.status)) pending.push(`${id}: ${status} ${JSON.stringify(body)}`);
      else seen.push(body.status);
    }
    return pending.length === 0 ? seen : undefined;
  }).catch((error: Error) => {
    throw new Error(`${error.message}; not ended:\n${pending.slice(0, 5).join('\n')}`);
  });
  expect(statuses.every((s) => s === 'completed')).toBe(true);
}

/** Every acknowledged snapshot was started exactly once, and no snapshot of this tag more than once. */
function expectEachSnapshotOnce(tag: string, acknowledged: string[]): void {
  const started = new Map<string, number>();
  for (const cluster of CLUSTERS) {
    for (const e of oplog(cluster)) {
      const name = String(e.detail?.snapname ?? '');
      if (e.op === 'snapshot' && e.result === 'started' && name.startsWith(`${tag}-`)) {
        const key = `${cluster}/${e.vmid}/${name}`;
        started.set(key, (started.get(key) ?? 0) + 1);
      }
    }
  }
  for (const [key, n] of started) expect(n, `${key} snapshots started`).toBe(1);
  for (const key of acknowledged) expect(started.get(key), `${key} acknowledged, started`).toBe(1);
}

/**
 * No two cores act on one cluster in overlapping lease periods: in each simulator's log, the operations form runs by
 * core, and every run of a core that had lost the cluster ends before the next owner's lease event.
 */
function expectNoOverlap(cluster: string, from: string, handoverAt: number): void {
  const ops = oplog(cluster).filter((e) => e.result === 'started' && e.agent);
  const fromOps = ops.filter((e) => e.agent === from);
  const othersAfter = ops.filter((e) => e.agent !== from && e.at >= handoverAt);
  const lastFrom = Math.max(...fromOps.map((e) => e.at));
  expect(lastFrom, `${cluster}: ${from}'s last operation before the handover`).toBeLessThan(handoverAt);
  const firstOther = Math.min(...othersAfter.map((e) => e.at));
  expect(firstOther, `${cluster}: no operation of the new owner before its lease`).toBeGreaterThanOrEqual(handoverAt);
}

describe.runIf(natsServerAvailable)('multi-core', () => {
  beforeAll(async () => {
    stack = await startMultiCoreStack({
      clusters: CLUSTERS,
      vms: 220,
      leaseSeconds: LEASE_SECONDS,
      taskDurations: { qmsnapshot: 400 },
      pinned: [PINNED],
      first: PINNED,
      timeoutMs: 90_000,
    });
  }, 180_000);

  afterAll(async () => {
    const logs = process.env.MULTI_CORE_LOGS;
    for (const core of logs ? (stack?.cores ?? []) : []) {
      writeFileSync(
        join(logs as string, `${core.id}.log`),
        `${core.child.stdout().join('\n')}\n${core.child.stderr()}`,
      );
    }
    await stack?.stop();
  }, 60_000);

  it('multi-core - every cluster has one owner, shown by overseer status, and any gateway decides for any cluster', async () => {
    const o = await until('core-1 seeing both owners', 15_000, async () => {
      const seen = await stack.owners();
      return seen.east && seen.west ? seen : undefined;
    });
    expect(o).toEqual({ east: 'core-3', west: 'core-3' });
    // `overseer status` through core-1's gateway, as core-1 sees the leases (once it has read them).
    const statusOut = async () => {
      let out = '';
      const write = (t: string) => {
        out += t;
      };
      const code = await run(
        ['status'],
        { OVERSEER_URL: stack.cores[0]?.url ?? '', OVERSEER_TOKEN: stack.token },
        { stdout: write, stderr: write },
      );
      return code === 0 && CLUSTERS.every((c) => new RegExp(`${c}\\s+core-3`).test(out)) ? out : undefined;
    };
    const out = await until('overseer status showing every owner', 15_000, statusOut);
    expect(out).toMatch(/LEASE RENEWED/);
    for (const [i, core] of stack.cores.entries()) {
      for (const cluster of CLUSTERS) {
        const vmid = 100 + i * 2 + CLUSTERS.indexOf(cluster);
        const res = await api<{ decision: string }>(core, 'POST', '/v1/requests', {
          action: 'snapshot',
          target: `${cluster}/${vmid}`,
          params: { snapname: `first-${vmid}` },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        expect(res.body.decision).toBe('approved');
      }
    }
  }, 60_000);

  it('multi-core - a core cut off from NATS under load stops acting before its clusters pass on, and nothing acknowledged is lost', async () => {
    const cutOff = stack.cores[PINNED] as StackCore;
    const server = stack.nats.servers[PINNED];
    let cutAt = 0;
    const streamed = await stream({
      tag: 'cut',
      count: 160,
      via: () => stack.cores.filter((c) => c !== cutOff),
      faultAt: 40,
      fault: async () => {
        cutAt = Date.now();
        await server?.stop();
      },
    });
    const handovers = await until('both clusters owned again', 30_000, async () => {
      const at = CLUSTERS.map((c) => leaseEventAt(c, /\.(acquired|taken-over)$/, cutAt));
      return at.every((t) => t !== undefined) ? (at as number[]) : undefined;
    });
    for (const [i, cluster] of CLUSTERS.entries()) {
      expect((handovers[i] as number) - cutAt, `${cluster} re-owned`).toBeLessThan((LEASE_SECONDS + 1) * 1000);
    }
    expect(streamed.afterFault, streamed.refused.slice(0, 5).join('\n')).toBeGreaterThan(100);
    await expectAllCompleted(streamed.acknowledged, () => stack.cores[0] as StackCore);
    expectEachSnapshotOnce('cut', streamed.keys);
    for (const [i, cluster] of CLUSTERS.entries()) expectNoOverlap(cluster, agentOf(cutOff), handovers[i] as number);

    // Its server back: the cut-off core rejoins but takes nothing back and does nothing on the clusters it lost.
    const opsBefore = CLUSTERS.map((c) => oplog(c).filter((e) => e.agent === agentOf(cutOff)).length);
    await server?.restart();
    await until('the cut-off core answering again', 30_000, async () =>
      (await api(cutOff, 'GET', '/v1/status')).status === 200 ? true : undefined,
    );
    await sleep(LEASE_SECONDS * 1000);
    const o = await stack.owners();
    expect(CLUSTERS.map((c) => o[c])).not.toContain(cutOff.id);
    expect(CLUSTERS.map((c) => oplog(c).filter((e) => e.agent === agentOf(cutOff)).length)).toEqual(opsBefore);
  }, 180_000);

  it('multi-core - SIGKILL of an owner under load: re-owned in time, every acknowledged request ends, each operation once', async () => {
    const victimId = (await stack.owners()).east;
    const victim = stack.cores.find((c) => c.id === victimId) as StackCore;
    expect(victim).toBeDefined();
    let killedAt = 0;
    const streamed = await stream({
      tag: 'kill',
      count: 200,
      via: () => alive().filter((c) => c !== victim),
      faultAt: 60,
      fault: async () => {
        victim.child.proc.kill('SIGKILL');
        await victim.child.exited;
        victim.alive = false;
        killedAt = Date.now();
      },
    });
    const reowned = await until('east owned again', 30_000, async () =>
      leaseEventAt('east', /\.(acquired|taken-over)$/, killedAt),
    );
    // From the kill to the new owner's lease event on NATS: the lease time, plus a second.
    expect(reowned - killedAt).toBeLessThan((LEASE_SECONDS + 1) * 1000);
    expect((await stack.owners()).east).not.toBe(victimId);
    expect(streamed.acknowledged.length, streamed.refused.slice(0, 5).join('\n')).toBeGreaterThan(160);
    await expectAllCompleted(streamed.acknowledged, () => alive()[0] as StackCore);
    expectEachSnapshotOnce('kill', streamed.keys);
    expectNoOverlap('east', agentOf(victim), reowned);
  }, 180_000);

  it('multi-core - a nats-server stopped under load: service continues and nothing acknowledged is lost', async () => {
    // The server of a surviving core that follows the cluster: that core moves to another server and keeps its leases.
    const mover = alive().find((c) => c !== stack.cores[PINNED]) as StackCore;
    const server = stack.nats.servers[stack.cores.indexOf(mover)];
    const ownersBefore = await stack.owners();
    let stoppedAt = 0;
    const streamed = await stream({
      tag: 'nats',
      count: 120,
      via: alive,
      faultAt: 30,
      fault: async () => {
        stoppedAt = Date.now();
        await server?.stop();
      },
    });
    expect(stoppedAt).toBeGreaterThan(0);
    expect(streamed.afterFault, streamed.refused.slice(0, 5).join('\n')).toBeGreaterThan(80);
    await expectAllCompleted(streamed.acknowledged, () => alive()[0] as StackCore);
    expectEachSnapshotOnce('nats', streamed.keys);
    expect(await stack.owners()).toEqual(ownersBefore);
    await server?.restart();
  }, 180_000);

  it('multi-core - the audit chain verifies on every core: its own database and each cluster it ran', async () => {
    const cores = stack.cores;
    await stack.stopCores();
    let chains = 0;
    for (const core of cores) {
      const key = readAuditKey(join(core.dataDir, 'audit.key'));
      const files = [
        join(core.dataDir, 'overseer.db'),
        ...CLUSTERS.map((c) => clusterDbPath(core.dataDir, c)).filter((f) => existsSync(f)),
      ];
      for (const file of files) {
        const store = StateStore.open(file, { auditKey: key });
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
