// The record on a real three-server NATS cluster (JetStream R3): compare-and-set puts, a watch on another connection
// that says when it has caught up, fenced audit appends, values that are not record values reported by key; and a
// takeover end to end: core A's SQLite -> export -> the record -> core B's watch -> import -> an Overseer on B's
// SQLite restores A's request actors and resumes the executing one, its recorded task polled, never issued again.
import { jetstream } from '@nats-io/jetstream';
import { type KV, Kvm, type KvWatchEntry } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../actors/config';
import { Overseer } from '../../actors/overseer';
import { auditBatchOf, importAudit, markAuditPublished } from '../../actors/record-audit';
import {
  exportCluster,
  exportMaintenance,
  exportRequest,
  exportToken,
  importEntity,
  markPublished,
} from '../../actors/record-entities';
import { SystemClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import {
  JetStreamRecordStore,
  RecordConflictError,
  type RecordStore,
  type RecordWatchEvent,
  recordAuditSubject,
  recordBucketName,
} from '../../adapters/nats';
import { NO_CONSUMERS_MS } from '../../adapters/nats/record-store-calls';
import { createProxmoxPlatform } from '../../adapters/proxmox';
import { type AuditBatch, RecordValueError, recordKey, recordPrefix } from '../../protocol';
import { StateStore } from '../../state';
import { startNatsCluster, type TestNatsCluster } from '../helpers/nats-cluster';
import { createSimStack } from '../helpers/sim-stack';
import { dbPath, openStore } from '../state/helpers';

let cluster: TestNatsCluster;
const connections: NatsConnection[] = [];
let namespaces = 0;

beforeAll(async () => {
  cluster = await startNatsCluster();
}, 60_000);

afterAll(async () => {
  await Promise.all(connections.map((nc) => nc.close().catch(() => undefined)));
  await cluster?.stopAll();
});

/** A core's connection (to every server) and its record store, on a namespace of the test's own. */
async function core(namespace: string): Promise<{ nc: NatsConnection; record: RecordStore }> {
  const nc = await connect({ servers: cluster.urls, timeout: 5_000 });
  connections.push(nc);
  return { nc, record: await JetStreamRecordStore.open(nc, { namespace, replicas: 3 }) };
}

const freshNamespace = () => `rec${++namespaces}`;

/** The system clock, `ahead` ms in the future for `now()` (timers unchanged). */
class AheadClock extends SystemClock {
  ahead = 0;
  override now(): number {
    return super.now() + this.ahead;
  }
}

/**
 * A core whose requests to make a consumer can be left unanswered, as while JetStream's meta leader moves (a server
 * stopped) and the stream leaders still answer: once `hang()` is called, each such request goes to a subject whose
 * subscriber never replies, so it times out on the client's own clock after the timeout the store gave it (`waited`).
 */
async function coreWithoutConsumers(namespace: string) {
  const nc = await connect({ servers: cluster.urls, timeout: 5_000 });
  connections.push(nc);
  nc.subscribe('unanswered.>');
  const waited: number[] = [];
  let hanging = false;
  const request = nc.request.bind(nc);
  nc.request = (subject, data, opts) => {
    if (!hanging || !/\.CONSUMER\.(DURABLE\.)?CREATE\./.test(subject)) return request(subject, data, opts);
    waited.push(opts?.timeout ?? Number.NaN);
    return request(`unanswered.${subject}`, data, opts);
  };
  const clock = new AheadClock();
  const record = await JetStreamRecordStore.open(nc, { namespace, replicas: 3, timeoutMs: 5_000, clock });
  const hang = () => {
    hanging = true;
  };
  return { nc, record, waited, hang, clock };
}

/** Record values of `count` maintenance windows on guests of `lab` (m-0, m-1, …), from a real store. */
function windowValues(count: number) {
  const store = openStore();
  return Array.from({ length: count }, (_, i) => {
    const id = `m-${i}`;
    store.maintenance.windows.insert({
      id,
      scope: 'guest',
      target: `lab/${101 + i}`,
      reason: 'disk swap',
      by: 'tok-olga',
      createdAt: 1_000,
      from: 1_000,
      until: 7_200_000,
    });
    return exportMaintenance(store, id);
  });
}

/** A token entity of a real store (the smallest valid record value). */
function tokenValue(name: string) {
  const store = openStore();
  const { record } = store.tokens.create(name, 'operator', 'tok-admin', 1_000);
  return exportToken(store, record.id);
}

const batch = (n: number): AuditBatch => ({
  v: 1,
  cluster: 'lab',
  core: 'core-a',
  entries: [{ seq: n, at: n, actor: 'overseer', kind: 'test.entry', data: { n } }],
});

describe('record store', () => {
  it('record store - put is compare-and-set: a stale or repeated write is a RecordConflictError', async () => {
    const ns = freshNamespace();
    const { record } = await core(ns);
    const { key, value } = tokenValue('carol');
    const first = await record.put(key, value, 'new');
    await expect(record.put(key, value, 'new')).rejects.toBeInstanceOf(RecordConflictError);
    const next = { ...value, version: 2 };
    const second = await record.put(key, next, first);
    expect(second).toBeGreaterThan(first);
    await expect(record.put(key, { ...value, version: 3 }, first)).rejects.toMatchObject({
      name: 'RecordConflictError',
      key,
      expected: first,
    });
    expect(await record.get(key)).toEqual({ key, revision: second, value: next });
    expect(await record.get(recordKey.token('nobody'))).toBeNull();
    expect(await record.keys('_global.')).toEqual([key]);
    // A value under another entity's key is refused before anything is written.
    await expect(record.put(recordKey.token('someone-else'), value, 'new')).rejects.toBeInstanceOf(RecordValueError);
  });

  it('record store - a watch on another connection delivers every key, says it caught up, then follows changes', async () => {
    const ns = freshNamespace();
    const a = await core(ns);
    const b = await core(ns);
    const values = ['t1', 't2', 't3'].map(tokenValue);
    for (const v of values) await a.record.put(v.key, v.value, 'new');
    // Something that is not a record value, written around the store: reported by key, never a crash.
    const badKey = recordKey.request('lab', 'garbage');
    await jetstream(a.nc).publish(`$KV.${recordBucketName(ns)}.${badKey}`, 'not json');

    const seen: RecordWatchEvent[] = [];
    const watch = await b.record.watch({ fromStart: true }, (e) => {
      seen.push(e);
    });
    await watch.caughtUp;
    expect(watch.isCaughtUp).toBe(true);
    expect(seen.filter((e) => e.type === 'put').map((e) => e.key)).toEqual(values.map((v) => v.key));
    const invalid = seen.find((e) => e.type === 'invalid');
    expect(invalid).toMatchObject({ key: badKey, error: { name: 'RecordValueError', key: badKey } });

    const later = tokenValue('t4');
    const revision = await a.record.put(later.key, later.value, 'new');
    for (let i = 0; i < 200 && !seen.some((e) => e.key === later.key); i++) await new Promise((r) => setTimeout(r, 10));
    expect(seen.at(-1)).toEqual({ type: 'put', key: later.key, revision, value: later.value });
    await watch.stop();
    expect(await watch.closed).toBeUndefined();
    await expect(b.record.get(badKey)).rejects.toMatchObject({ name: 'RecordValueError', key: badKey });
    const lab = await b.record.loadCluster('lab');
    expect(lab.entries).toEqual([]);
    expect(lab.invalid).toMatchObject([{ key: badKey, error: { name: 'RecordValueError' } }]);
  });

  it('record store - a watch of no key is caught up at once; a deleted key is new again and listings skip it', async () => {
    const ns = freshNamespace();
    const { nc, record } = await core(ns);
    const seen: RecordWatchEvent[] = [];
    const watch = await record.watch({ fromStart: true, prefix: '_global.' }, (e) => {
      seen.push(e);
    });
    expect(watch.isCaughtUp).toBe(true);
    await watch.caughtUp;

    // More tokens than one round of reads, one deleted around the store (a delete marker, as kv.delete writes).
    const store = openStore();
    const values = Array.from({ length: 70 }, (_, i) => {
      const { record: token } = store.tokens.create(`t${i}`, 'operator', 'tok-admin', 1_000);
      return exportToken(store, token.id);
    });
    const revisions = await Promise.all(values.map((v) => record.put(v.key, v.value, 'new')));
    const gone = values[0]!;
    await (await new Kvm(jetstream(nc)).open(recordBucketName(ns))).delete(gone.key);
    for (let i = 0; i < 300 && seen.length < 71; i++) await new Promise((r) => setTimeout(r, 10));
    expect(seen.filter((e) => e.type === 'put')).toHaveLength(70);
    expect(seen.at(-1)).toMatchObject({ type: 'delete', key: gone.key });
    await watch.stop();

    expect(await record.get(gone.key)).toBeNull();
    expect(await record.keys('_global.')).toEqual(
      values
        .slice(1)
        .map((v) => v.key)
        .sort(),
    );
    const revision = await record.put(gone.key, gone.value, 'new');
    expect(revision).toBeGreaterThan(Math.max(...revisions));
    await expect(record.put(gone.key, gone.value, 'new')).rejects.toBeInstanceOf(RecordConflictError);
    expect(await record.get(gone.key)).toEqual({ key: gone.key, revision, value: gone.value });
    expect(await record.keys('_global.')).toHaveLength(70);
  });

  it('record store - a cluster whose watch gets no consumer within 2 s is read key by key from the stream leader, the same record; reads right after it do not wait again', async () => {
    const ns = freshNamespace();
    const { nc, record, waited, hang } = await coreWithoutConsumers(ns);
    // Maintenance windows of guests of `lab` (entities under its prefix), one deleted around the store, one key that
    // is not a record value.
    const windows = windowValues(5);
    for (const w of windows) await record.put(w.key, w.value, 'new');
    await (await new Kvm(jetstream(nc)).open(recordBucketName(ns))).delete(windows[0]!.key);
    const badKey = recordKey.request('lab', 'garbage');
    await jetstream(nc).publish(`$KV.${recordBucketName(ns)}.${badKey}`, 'not json');

    const watched = await record.loadCluster('lab');
    expect(watched.entries.map((e) => e.key)).toEqual(windows.slice(1).map((w) => w.key));
    hang();
    const read = await record.loadCluster('lab');
    expect(read).toEqual(watched);
    // It waited for the consumer the consumer timeout (2 s), not a call's (5 s); the reads right after it (an import
    // reads the cluster's audit record next) go without one at once.
    expect(waited).toEqual([2_000]);
    expect(await record.loadCluster('lab')).toEqual(watched);
    expect(await record.readAudit('lab', 1)).toEqual([]);
    expect(waited).toEqual([2_000]);
    expect(read.invalid).toMatchObject([{ key: badKey, error: { name: 'RecordValueError' } }]);
  });

  it('record store - a watch that says it caught up before it has is not believed: the record is read from the leader', async () => {
    const ns = freshNamespace();
    const { record } = await core(ns);
    const windows = windowValues(4);
    for (const w of windows) await record.put(w.key, w.value, 'new');
    // The library's watch, its first entry marked as the last one it had to deliver.
    const watcher = (record as unknown as { watcher: KV }).watcher;
    const watch = watcher.watch.bind(watcher);
    watcher.watch = async (opts) => {
      const real = await watch(opts);
      const early = {
        stop: () => real.stop(),
        async *[Symbol.asyncIterator]() {
          let first = true;
          for await (const entry of real) {
            yield first ? (Object.create(entry, { isUpdate: { value: true } }) as KvWatchEntry) : entry;
            first = false;
          }
        },
      };
      return early as unknown as typeof real;
    };
    const loaded = await record.loadCluster('lab');
    expect(loaded.entries.map((e) => e.key)).toEqual(windows.map((w) => w.key));
  });

  it('record store - an audit append expecting another last sequence is refused; batches read back in order', async () => {
    const ns = freshNamespace();
    const { record } = await core(ns);
    expect(await record.lastAuditSeq('lab')).toBe(0);
    const first = await record.appendAudit('lab', batch(1), 0);
    await expect(record.appendAudit('lab', batch(2), 0)).rejects.toMatchObject({
      name: 'RecordConflictError',
      expected: 0,
    });
    const second = await record.appendAudit('lab', batch(2), first);
    await expect(record.appendAudit('lab', batch(3), first)).rejects.toBeInstanceOf(RecordConflictError);
    // Another cluster's record has its own sequence.
    await record.appendAudit('other', { ...batch(1), cluster: 'other' }, 0);
    expect(await record.lastAuditSeq('lab')).toBe(second);
    expect(await record.readAudit('lab', 1)).toEqual([
      { seq: first, batch: batch(1) },
      { seq: second, batch: batch(2) },
    ]);
    expect(await record.readAudit('lab', second + 1)).toEqual([]);
    await expect(record.appendAudit('lab', { ...batch(4), cluster: 'other' }, second)).rejects.toBeInstanceOf(
      RecordValueError,
    );
  });

  it('record store - an audit record whose reader gets no consumer within 2 s is read batch by batch from the stream leader, the same batches; 10 s on, a read asks again', async () => {
    const ns = freshNamespace();
    const { nc, record, waited, hang, clock } = await coreWithoutConsumers(ns);
    let last = 0;
    for (const n of [1, 2, 3]) last = await record.appendAudit('lab', batch(n), last);
    await record.appendAudit('other', { ...batch(1), cluster: 'other' }, 0);
    // A message on the subject that is not a batch, then one more batch.
    await jetstream(nc).publish(recordAuditSubject('lab', ns), 'not json');
    last = await record.appendAudit('lab', batch(4), await record.lastAuditSeq('lab'));

    const consumed = await record.readAudit('lab', 1);
    expect(consumed.map((i) => ('batch' in i ? i.batch.entries[0]?.seq : i.error.name))).toEqual([
      1,
      2,
      3,
      'RecordValueError',
      4,
    ]);
    const from2 = await record.readAudit('lab', consumed[1]!.seq, 2);
    hang();
    expect(await record.readAudit('lab', 1)).toEqual(consumed);
    // It waited for its consumer the consumer timeout (2 s), not a call's (5 s); the reads right after it did not.
    expect(waited).toEqual([2_000]);
    expect(await record.readAudit('lab', consumed[1]!.seq, 2)).toEqual(from2);
    expect(await record.readAudit('lab', last + 1)).toEqual([]);
    expect(waited).toEqual([2_000]);
    // 10 s on, a read asks for a consumer again.
    clock.ahead = NO_CONSUMERS_MS;
    expect(await record.readAudit('lab', 1)).toEqual(consumed);
    expect(waited).toEqual([2_000, 2_000]);
  });

  it('record store - a takeover: B imports A’s record of the cluster and its Overseer resumes A’s requests exactly once', async () => {
    const ns = freshNamespace();
    const stack = await createSimStack({ taskDurations: { qmstop: 30_000 } });
    const a = await core(ns);
    const b = await core(ns);
    const storeB = StateStore.open(dbPath());
    let overseerB: Overseer | undefined;
    let platformB: ReturnType<typeof createProxmoxPlatform> | undefined;
    try {
      // Core A: a request awaiting a second person, one executing on the platform (its task recorded).
      const alice = { id: 'alice', role: 'admin' as const };
      stack.overseer.start();
      await stack.settle();
      const awaiting = await stack.overseer.submit({
        action: 'destroy',
        target: { cluster: 'lab', vmid: 114 },
        force: true,
        requester: alice,
      });
      const executing = await stack.overseer.submit({
        action: 'stop',
        target: { cluster: 'lab', vmid: 101 },
        requester: alice,
      });
      expect([awaiting.decision, executing.decision]).toEqual(['awaiting_approval', 'approved']);
      const recorded = () => (stack.store.requests.get(executing.requestId)?.taskIds.length ?? 0) > 0;
      expect(await stack.advanceUntil(recorded, 20_000)).toBe(true);
      stack.overseer.flushRequests();
      const actorsA = Object.fromEntries(
        [...stack.overseer.requests.entries()].map(([id, r]) => [id, r.getSnapshot().value]),
      );
      expect(actorsA).toMatchObject({ [awaiting.requestId]: 'awaiting_approval', [executing.requestId]: 'executing' });
      // A is deposed: it stops acting before B takes over.
      stack.overseer.stop();

      // A publishes its cluster's record: every entity (compare-and-set) and its audit rows.
      const published = exportCluster(stack.store, 'lab');
      for (const e of published) {
        markPublished(stack.store, e.key, e.value, await a.record.put(e.key, e.value, e.expectedRevision));
      }
      const loaded = await b.record.loadCluster('lab');
      expect(loaded.entries.map((e) => e.key).sort()).toEqual(published.map((e) => e.key).sort());
      const seq = await a.record.appendAudit('lab', auditBatchOf('lab', 'core-a', stack.store.audit.list()), 0);
      markAuditPublished(stack.store, 'lab', seq);

      // B follows the cluster's keys; once caught up it has everything A published, and A's audit rows on its chain.
      const watch = await b.record.watch({ fromStart: true, prefix: recordPrefix('lab') }, (e) => {
        if (e.type === 'put') importEntity(storeB, e.key, e.value, e.revision);
      });
      await watch.caughtUp;
      await watch.stop();
      for (const item of await b.record.readAudit('lab', 1)) {
        if ('batch' in item) importAudit(storeB, item.batch, item.seq);
      }
      expect(storeB.requests.get(executing.requestId)).toEqual(stack.store.requests.get(executing.requestId));
      expect(storeB.audit.list()).toHaveLength(stack.store.audit.list().length);
      expect(storeB.audit.verify().ok).toBe(true);

      // B's Overseer on B's SQLite restores A's request actors, in the same states.
      platformB = createProxmoxPlatform(
        {
          name: 'lab',
          host: '127.0.0.1',
          port: stack.sim.port,
          protocol: 'http',
          auth: { type: 'token', tokenId: stack.sim.tokens[0]!.tokenid, secret: stack.sim.tokens[0]!.secret },
          taskPollMs: 1000,
          timeoutMs: 10_000,
        },
        { clock: stack.clock, log: createMemoryLog(stack.clock) },
      );
      overseerB = new Overseer({
        clock: stack.clock,
        log: createMemoryLog(stack.clock),
        config: parseConfig({}),
        store: storeB,
        platforms: new Map([['lab', platformB]]),
      });
      // VMs and hosts are not in the record (the platform has them): B reads the cluster before it restores, so the
      // executing request finds its guest.
      await overseerB.syncAll();
      expect(overseerB.restore().requests).toBe(Object.keys(actorsA).length);
      const actorsB = Object.fromEntries(
        [...overseerB.requests.entries()].map(([id, r]) => [id, r.getSnapshot().value]),
      );
      expect(actorsB).toEqual(actorsA);

      // B resumes: the stop completes by polling A's task; the platform ran it once.
      overseerB.startRoot();
      for (let i = 0; i < 300 && storeB.requests.get(executing.requestId)?.status !== 'completed'; i++) {
        await stack.clock.advanceAsync(1_000);
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(storeB.requests.get(executing.requestId)?.status).toBe('completed');
      const stops = stack.sim.oplog.filter((e) => e.result === 'started' && e.op === 'stop' && e.vmid === 101);
      expect(stops).toHaveLength(1);

      // B, the owner now, publishes its change over the revision it imported; A, deposed, can no longer write it.
      expect(overseerB.deny(awaiting.requestId, { id: 'bob', role: 'admin' }, 'not now')).toMatchObject({ ok: true });
      overseerB.flushRequests();
      const denied = exportRequest(storeB, awaiting.requestId);
      expect(denied).toMatchObject({ changed: true, value: { request: { status: 'denied' } } });
      await b.record.put(denied.key, denied.value, denied.expectedRevision);
      const stale = exportRequest(stack.store, awaiting.requestId);
      await expect(
        a.record.put(stale.key, { ...stale.value, version: 9 }, stale.expectedRevision),
      ).rejects.toBeInstanceOf(RecordConflictError);
      expect((await a.record.get(denied.key))?.value).toEqual(denied.value);
    } finally {
      overseerB?.stop();
      await platformB?.close();
      storeB.close();
      await stack.cleanup();
    }
  }, 120_000);
});
