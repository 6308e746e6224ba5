// The lease service on a real three-server NATS cluster (JetStream R3): one owner per Proxmox cluster, hand-over on
// expiry and on release, a nats-server lost, and a core cut off from NATS fenced before anyone else's lease starts.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FencedError, type LeaseChange, LeaseConfigError, LeaseService } from '../../actors/lease-service';
import { SystemClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import {
  KvLeaseStore,
  LeaseConflictError,
  LeaseStoreError,
  LeaseValueError,
  leaseBucketName,
  leaseKey,
  presenceKey,
} from '../../adapters/nats/lease-store';
import { preferredCore } from '../../machines/lease.machine';
import { eventFilter, subjects } from '../../protocol';
import { startNatsCluster, type TestNatsCluster } from '../helpers/nats-cluster';

const LEASE_MS = 1_500;
const clock = new SystemClock();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return Date.now();
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(20);
  }
}

interface Interval {
  core: string;
  cluster: string;
  start: number;
  end: number;
}

/** Cores, each with its own connection, store and lease service; records every ownership interval. */
class Fleet {
  readonly services = new Map<string, LeaseService>();
  readonly connections: NatsConnection[] = [];
  readonly intervals: Interval[] = [];
  readonly changes: LeaseChange[] = [];
  readonly events: string[] = [];
  readonly logs = new Map<string, string[]>();
  /** The last time fence() passed, per core and cluster (sampled every 10 ms). */
  readonly lastFenced = new Map<string, number>();
  private sampler: ReturnType<typeof setInterval> | undefined;
  readonly overlaps: string[] = [];

  constructor(
    private readonly namespace: string,
    private readonly clusters: string[],
  ) {}

  async add(core: string, servers: string[], opts: { fairness?: boolean; start?: boolean } = {}) {
    const nc = await connect({
      servers,
      name: core,
      timeout: 1_000,
      reconnectTimeWait: 100,
      reconnectJitter: 50,
      maxReconnectAttempts: -1,
      ignoreClusterUpdates: true,
    });
    this.connections.push(nc);
    const store = await KvLeaseStore.open(nc, { namespace: this.namespace, replicas: 3, timeoutMs: 400 });
    const log = createMemoryLog(clock);
    this.logs.set(core, log.lines);
    const service = new LeaseService({
      core,
      clusters: this.clusters,
      store,
      clock,
      log,
      leaseMs: LEASE_MS,
      fairness: opts.fairness ?? false,
      events: {
        publish: (subject) => {
          this.events.push(subject);
        },
      },
    });
    service.onChange((change) => {
      this.changes.push(change);
      if (change.event === 'acquired' || change.event === 'taken-over') {
        this.intervals.push({ core, cluster: change.cluster, start: change.acquiredAt ?? 0, end: Infinity });
      } else {
        const open = this.open(core, change.cluster);
        if (open) open.end = change.event === 'lost' ? (change.validUntil ?? change.at) : change.at;
      }
    });
    this.services.set(core, service);
    if (opts.start ?? true) await service.start();
    return service;
  }

  private open(core: string, cluster: string): Interval | undefined {
    return this.intervals.findLast((i) => i.core === core && i.cluster === cluster && i.end === Infinity);
  }

  service(core: string): LeaseService {
    const s = this.services.get(core);
    if (!s) throw new Error(`no core ${core}`);
    return s;
  }

  owners(cluster: string): string[] {
    return [...this.services].filter(([, s]) => s.holds(cluster)).map(([core]) => core);
  }

  oneOwnerEach(): boolean {
    return this.clusters.every((c) => this.owners(c).length === 1);
  }

  /** A crash: the service stops without releasing; its open intervals end where its validity would have. */
  async crash(core: string): Promise<void> {
    const service = this.service(core);
    const now = clock.now();
    for (const lease of service.leases()) {
      const open = this.open(core, lease.cluster);
      if (open) open.end = now + lease.validForMs;
    }
    await service.stop({ release: false });
  }

  startSampling(): void {
    this.sampler = setInterval(() => {
      const now = clock.now();
      for (const cluster of this.clusters) {
        const holders = this.owners(cluster);
        if (holders.length > 1) this.overlaps.push(`${cluster}: ${holders.join(', ')} at ${now}`);
        for (const core of holders) this.lastFenced.set(`${core}/${cluster}`, now);
      }
    }, 10);
  }

  /** Ownership intervals of different cores on one cluster never overlap. */
  assertNoOverlap(): void {
    expect(this.overlaps).toEqual([]);
    for (const cluster of this.clusters) {
      const list = this.intervals.filter((i) => i.cluster === cluster).sort((a, b) => a.start - b.start);
      for (let i = 1; i < list.length; i++) {
        const [before, after] = [list[i - 1] as Interval, list[i] as Interval];
        expect(
          before.end,
          `${cluster}: ${before.core} until ${before.end}, ${after.core} from ${after.start}`,
        ).toBeLessThan(after.start);
      }
    }
  }

  async close(): Promise<void> {
    if (this.sampler) clearInterval(this.sampler);
    await Promise.all([...this.services.values()].map((s) => s.stop({ release: false })));
    await Promise.all(this.connections.map((nc) => nc.close().catch(() => undefined)));
  }
}

describe('lease service on a three-server NATS cluster', () => {
  let cluster: TestNatsCluster;
  const fleets: Fleet[] = [];
  const fleet = (namespace: string, clusters: string[]) => {
    const f = new Fleet(namespace, clusters);
    fleets.push(f);
    return f;
  };

  beforeAll(async () => {
    cluster = await startNatsCluster();
  }, 40_000);
  afterAll(async () => {
    await Promise.all(fleets.map((f) => f.close()));
    await cluster?.stopAll();
  }, 30_000);

  /** The server leading the bucket's stream (JetStream's R3 group for it). */
  async function bucketLeader(namespace: string): Promise<number> {
    const nc = await connect({ servers: cluster.servers.filter((s) => s.running).map((s) => s.url) });
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(`KV_${leaseBucketName(namespace)}`);
      return cluster.servers.findIndex((s) => s.name === info.cluster?.leader);
    } finally {
      await nc.close();
    }
  }

  test('lease store - compare-and-set on revisions, typed conflicts, bad values named by key', async () => {
    const nc = await connect({ servers: cluster.urls });
    try {
      const store = await KvLeaseStore.open(nc, { namespace: 'store', replicas: 3, timeoutMs: 2_000 });
      expect(store.bucket).toBe('OVERSEER_LEASES_store');
      const key = leaseKey('alpha');
      expect(await store.get(key)).toBeNull();
      const r1 = await store.create(key, { core: 'a', epoch: 1, seq: 0 });
      await expect(store.create(key, { core: 'b', epoch: 1, seq: 0 })).rejects.toBeInstanceOf(LeaseConflictError);
      const r2 = await store.update(key, { core: 'a', epoch: 1, seq: 1 }, r1);
      expect(r2).toBeGreaterThan(r1);
      await expect(store.update(key, { core: 'b', epoch: 2, seq: 0 }, r1)).rejects.toMatchObject({
        name: 'LeaseConflictError',
        key,
        expectedRevision: r1,
      });
      expect(await store.get(key)).toEqual({ key, revision: r2, value: { core: 'a', epoch: 1, seq: 1 } });
      await expect(store.delete(key, r1)).rejects.toBeInstanceOf(LeaseConflictError);
      // Revision 0 would make kv.delete unconditional: refused before anything is sent.
      await expect(store.delete(key, 0)).rejects.toThrow(/invalid revision 0 for lease key/);
      await store.delete(key, r2);
      expect(await store.get(key)).toBeNull();
      const r3 = await store.create(key, { core: 'b', epoch: 2, seq: 0 }); // over the tombstone
      expect(r3).toBeGreaterThan(r2);

      const js = jetstream(nc);
      const bad = leaseKey('broken');
      await js.publish(`$KV.${store.bucket}.${bad}`, new TextEncoder().encode('{"core":""}'));
      const error = await store.get(bad).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LeaseValueError);
      expect(error).toMatchObject({ key: bad, message: expect.stringContaining(`lease key '${bad}'`) });
      expect(await store.list('cluster')).toEqual([expect.objectContaining({ key, revision: r3 })]);
      await expect(store.get('cluster.a b')).rejects.toBeInstanceOf(LeaseStoreError);
      expect(() => leaseKey('a.b')).toThrow(LeaseStoreError);
      await expect(KvLeaseStore.open(nc, { namespace: 'store', replicas: 1 })).rejects.toThrow(/has 3 replicas/);
    } finally {
      await nc.close();
    }
  });

  test('lease store - of writes racing at one revision through three servers exactly one lands', async () => {
    // nats-server 2.9 accepts every one of such writes when they carry only the key's expected revision
    // (nats-io/nats-server#4320): 2 or 3 of 3 in 272 of 300 rounds on 2.9.10 before the store named the stream's too.
    const ncs = await Promise.all(cluster.urls.map((url) => connect({ servers: [url] })));
    try {
      const stores = await Promise.all(
        ncs.map((nc) => KvLeaseStore.open(nc, { namespace: 'race', replicas: 3, timeoutMs: 2_000 })),
      );
      const key = leaseKey('alpha');
      const value = (i: number, round: number) => ({ core: `core-${i}`, epoch: round, seq: 0 });
      const outcomes = async (writes: Promise<unknown>[]) => {
        const settled = await Promise.allSettled(writes);
        for (const s of settled) if (s.status === 'rejected') expect(s.reason).toBeInstanceOf(LeaseConflictError);
        return settled.filter((s) => s.status === 'fulfilled').length;
      };
      expect(await outcomes(stores.map((s, i) => s.create(key, value(i, 1))))).toBe(1);
      for (let round = 2; round < 42; round++) {
        const at = (await stores[0]?.get(key))?.revision ?? 0;
        // Each store also writes a key of its own meanwhile: a refusal for those is read again, not a conflict.
        const own = stores.map(async (s, i) => {
          const mine = presenceKey(`core-${i}`);
          const entry = await s.get(mine);
          await (entry ? s.update(mine, value(i, round), entry.revision) : s.create(mine, value(i, round)));
        });
        expect(await outcomes(stores.map((s, i) => s.update(key, value(i, round), at)))).toBe(1);
        await Promise.all(own);
      }
      const last = await stores[0]?.get(key);
      expect(await outcomes(stores.map((s) => s.delete(key, last?.revision ?? 0)))).toBe(1);
      expect(await stores[1]?.get(key)).toBeNull();
    } finally {
      await Promise.all(ncs.map((nc) => nc.close()));
    }
  });

  test('lease cluster - one owner per cluster; a core that stops renewing loses it within a lease time + 1 s', async () => {
    const f = fleet('expiry', ['alpha', 'beta']);
    for (const core of ['core-a', 'core-b', 'core-c']) await f.add(core, cluster.urls);
    f.startSampling();
    await waitFor('one owner per cluster', () => f.oneOwnerEach(), 10_000);
    const [owner] = f.owners('alpha') as [string];
    const crashedAt = clock.now();
    await f.crash(owner);
    expect(() => f.service(owner).fence('alpha')).toThrow(expect.objectContaining({ reason: 'stopped' }));
    await waitFor('another core owns alpha', () => f.owners('alpha').some((c) => c !== owner), LEASE_MS + 1_000);
    const takeOver = f.changes.find((c) => c.cluster === 'alpha' && c.event === 'taken-over');
    expect(takeOver).toMatchObject({ previousOwner: owner });
    expect(takeOver?.at).toBeLessThanOrEqual(crashedAt + LEASE_MS + 1_000);
    expect(f.events).toContain('overseer.evt.lease.alpha.taken-over');
    await sleep(LEASE_MS);
    expect(f.oneOwnerEach()).toBe(true);
    f.assertNoOverlap();
  });

  test('lease cluster - a released lease passes to another core at once, not after it expires', async () => {
    const f = fleet('release', ['alpha']);
    await f.add('core-a', cluster.urls);
    await waitFor('core-a owns alpha', () => f.service('core-a').holds('alpha'), 5_000);
    await f.add('core-b', cluster.urls);
    f.startSampling();
    await sleep(LEASE_MS); // core-b has watched core-a renew for a whole lease time
    expect(f.owners('alpha')).toEqual(['core-a']);
    const [mine] = f.service('core-a').leases();
    expect(mine).toMatchObject({ cluster: 'alpha', owner: 'core-a', ownedByMe: true });
    expect(mine?.validForMs).toBeGreaterThan(0);
    expect(mine?.validForMs).toBeLessThanOrEqual(LEASE_MS);
    expect(f.service('core-b').leases()).toEqual([
      expect.objectContaining({ cluster: 'alpha', owner: 'core-a', ownedByMe: false, validForMs: 0 }),
    ]);
    expect(() => f.service('core-b').fence('alpha')).toThrow(/core core-b does not hold the lease on cluster alpha/);
    expect(() => f.service('core-a').fence('gamma')).toThrow(
      expect.objectContaining({ name: 'FencedError', reason: 'unknown-cluster', cluster: 'gamma', core: 'core-a' }),
    );
    const releasedAt = clock.now();
    await f.service('core-a').stop({ release: true });
    expect(() => f.service('core-a').fence('alpha')).toThrow(FencedError);
    await waitFor('core-b owns alpha', () => f.service('core-b').holds('alpha'), LEASE_MS);
    const acquired = f.changes.find((c) => c.core === 'core-b' && c.event === 'acquired');
    expect(acquired?.at).toBeLessThan(releasedAt + LEASE_MS);
    expect(f.changes).toContainEqual(expect.objectContaining({ core: 'core-a', event: 'released', deleted: true }));
    expect(f.logs.get('core-a')?.some((l) => l.includes('releasing the lease'))).toBe(false);
    expect(f.events).toContain('overseer.evt.lease.alpha.released');
    expect(f.logs.get('core-b')).toContainEqual(
      expect.stringMatching(/ lease:alpha: state changed from 'acquiring' to 'owning'$/),
    );
    expect(f.logs.get('core-a')).toContainEqual(
      expect.stringMatching(/ lease:alpha: state changed from 'releasing' to 'stopped'$/),
    );
    f.assertNoOverlap();
  });

  test('lease cluster - losing a follower nats-server does not interrupt the leases (R3); losing the leader moves them safely', async () => {
    const namespace = 'serverloss';
    const f = fleet(namespace, ['alpha', 'beta']);
    await f.add('core-a', cluster.urls);
    await f.add('core-b', cluster.urls);
    f.startSampling();
    await waitFor('one owner per cluster', () => f.oneOwnerEach(), 10_000);
    const leader = await bucketLeader(namespace);
    const follower = cluster.servers.find((s) => s.index !== leader && s.running);
    if (!follower) throw new Error('no follower');
    const changesBefore = f.changes.length;
    const revision = async () => {
      const nc = await connect({ servers: cluster.servers.filter((s) => s.running).map((s) => s.url) });
      const store = await KvLeaseStore.open(nc, { namespace, replicas: 3 });
      const entry = await store.get(leaseKey('alpha'));
      await nc.close();
      return entry?.revision ?? 0;
    };
    const revisionBefore = await revision();
    await follower.kill();
    await sleep(2 * LEASE_MS);
    // The same owners all along: no lease changed hands, and renewals kept being stored.
    expect(f.changes.slice(changesBefore)).toEqual([]);
    expect(f.oneOwnerEach()).toBe(true);
    expect(await revision()).toBeGreaterThan(revisionBefore);

    // The stream leader's server dies: renewals wait for a new leader; any hand-over keeps the leases apart.
    await cluster.servers[leader]?.kill();
    await follower.restart();
    await waitFor('one owner per cluster again', () => f.oneOwnerEach(), 20_000);
    await cluster.servers[leader]?.restart();
    await cluster.waitReady();
    f.assertNoOverlap();
  }, 60_000);

  test('lease cluster - a core cut off from NATS is fenced before any other core takes its clusters', async () => {
    const namespace = 'cutoff';
    const f = fleet(namespace, ['alpha', 'beta']);
    // The bucket first, to learn which server leads it: the lonely core connects to another one only.
    const admin = await connect({ servers: cluster.urls });
    await KvLeaseStore.open(admin, { namespace, replicas: 3 });
    await admin.close();
    const leader = await bucketLeader(namespace);
    const lonely = cluster.servers.find((s) => s.index !== leader) as (typeof cluster.servers)[number];
    const others = cluster.urls.filter((u) => u !== lonely.url);

    await f.add('core-c', [lonely.url]);
    await waitFor('core-c owns both', () => f.service('core-c').owned().length === 2, 5_000);
    await f.add('core-a', others);
    await f.add('core-b', others);
    f.startSampling();
    await sleep(LEASE_MS / 2);
    expect(f.owners('alpha')).toEqual(['core-c']);

    await lonely.kill();
    await waitFor(
      'core-a or core-b owns both clusters',
      () => ['alpha', 'beta'].every((c) => f.owners(c).some((o) => o !== 'core-c')),
      4 * LEASE_MS + 5_000,
    );
    for (const name of ['alpha', 'beta']) {
      const cut = f.service('core-c');
      expect(() => cut.fence(name)).toThrow(FencedError);
      const lost = f.changes.find((c) => c.core === 'core-c' && c.cluster === name && c.event === 'lost');
      const taken = f.changes.find((c) => c.cluster === name && c.event === 'taken-over');
      expect(taken?.previousOwner).toBe('core-c');
      // Fenced (its last valid moment, and the last time fence() passed) before the new lease began.
      expect(lost?.validUntil).toBeLessThan(taken?.acquiredAt ?? 0);
      expect(f.lastFenced.get(`core-c/${name}`)).toBeLessThan(taken?.acquiredAt ?? 0);
    }
    f.assertNoOverlap();
    await lonely.restart();
    await cluster.waitReady();
  }, 60_000);

  test('lease cluster - with fairness, cores started together share the clusters by rendezvous hashing', async () => {
    const clusters = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'];
    const f = fleet('fair', clusters);
    const cores = ['core-a', 'core-b'];
    // Connected and the bucket open first; then both start within a renewal interval of each other.
    const services = await Promise.all(
      cores.map((core) => f.add(core, cluster.urls, { fairness: true, start: false })),
    );
    await Promise.all(services.map((s) => s.start()));
    f.startSampling();
    await waitFor('every cluster owned', () => f.oneOwnerEach(), 10_000);
    for (const name of clusters) expect(f.owners(name)).toEqual([preferredCore(cores, name)]);
    expect(new Set(clusters.map((c) => preferredCore(cores, c))).size).toBe(2);
    f.assertNoOverlap();
  });
});

describe('lease service without a server', () => {
  test('lease service - bad options are one typed error naming the field', () => {
    const base = { core: 'core-a', clusters: ['alpha'], store: {} as never, clock, log: createMemoryLog(clock) };
    const field = (opts: object) => {
      try {
        new LeaseService({ ...base, ...opts });
      } catch (error) {
        return error instanceof LeaseConfigError ? error.field : `not a LeaseConfigError: ${String(error)}`;
      }
      return 'accepted';
    };
    expect(field({ core: 'core a' })).toBe('core');
    expect(field({ clusters: ['alpha', 'alpha'] })).toBe('clusters');
    expect(field({ clusters: ['a.b'] })).toBe('clusters');
    expect(field({ leaseMs: 10 })).toBe('leaseMs');
    expect(field({ leaseMs: 3_000, marginMs: 2_000 })).toBe('marginMs');
    expect(field({})).toBe('accepted');
    expect(new LeaseService(base).timing).toMatchObject({ leaseMs: 5_000, renewMs: 1_667, marginMs: 500 });
  });

  test('lease subjects - events are built and filtered in protocol/subjects.ts, bad tokens refused', () => {
    expect(subjects.evtLease('alpha', 'taken-over')).toBe('overseer.evt.lease.alpha.taken-over');
    expect(eventFilter({ kind: 'lease' })).toBe('overseer.evt.lease.*.*');
    expect(eventFilter({ kind: 'lease', cluster: 'alpha', event: 'lost' })).toBe('overseer.evt.lease.alpha.lost');
    expect(() => subjects.evtLease('a.b', 'lost')).toThrow(/invalid cluster 'a.b'/);
    expect(() => subjects.evtLease('alpha', 'renewed' as never)).toThrow(/invalid lease event 'renewed'/);
  });
});
