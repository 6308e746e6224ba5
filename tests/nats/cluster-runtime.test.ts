// A core's runtime for one Proxmox cluster (actors/cluster-runtime.ts) on a real three-server NATS cluster (the
// record R3) and the PVE simulator: core A answers requests and dies mid-task (cut off from NATS, never stopped);
// core B rebuilds the cluster from the record and resumes the executing request by polling its recorded task (the
// platform runs it once); A's late write is refused by compare-and-set. And a core cut off from the record neither
// answers a submission nor makes its platform call until the record has them.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { FencedError } from '../../actors/lease-types';
import { recordRows } from '../../actors/record-entities';
import { RecordOwnershipLostError } from '../../actors/record-shipper';
import {
  JetStreamRecordStore,
  type RecordStore,
  recordAuditStreamName,
  recordBucketName,
} from '../../adapters/nats/record-store';
import { demoSeed, type Simulator, startSimulator } from '../../adapters/pve-sim';
import type { RequestEntity } from '../../protocol';
import { recordKey } from '../../protocol';
import { labActorId, StateStore } from '../../state';
import { clock, startLabRuntime, useNatsCluster, waitFor } from '../helpers/cluster-runtime-harness';
import type { TestClusterServer } from '../helpers/nats-cluster';
import { specOf, THREE_TIER } from '../labs/helpers';

const TOKEN = { tokenid: 'root@pam!runtime', secret: '6a1e3f0a-7b2c-4c9e-9a51-0f6e2b8d4c22' };
const alice = { id: 'alice', role: 'admin' as const };
const bob = { id: 'bob', role: 'admin' as const };
const h = useNatsCluster();

/** A core's connection (to `servers` only, reconnecting for ever) and its record store. */
async function core(namespace: string, servers: string[]): Promise<{ nc: NatsConnection; records: RecordStore }> {
  const nc = await connect({
    servers,
    timeout: 2_000,
    reconnectTimeWait: 100,
    reconnectJitter: 50,
    maxReconnectAttempts: -1,
    ignoreClusterUpdates: true,
  });
  h.cleanups.push(() => nc.close());
  const records = await JetStreamRecordStore.open(nc, { namespace, replicas: 3, timeoutMs: 1_000 });
  return { nc, records };
}

/**
 * A server that leads neither of the namespace's record streams (its loss elects no new stream leader); it runs
 * again, and the cluster is ready, after the test.
 */
async function follower(namespace: string): Promise<TestClusterServer> {
  const { nc } = await core(namespace, h.cluster.urls);
  const jsm = await jetstreamManager(nc);
  const leaders = new Set<string | undefined>();
  for (const name of [`KV_${recordBucketName(namespace)}`, recordAuditStreamName(namespace)]) {
    leaders.add((await jsm.streams.info(name)).cluster?.leader);
  }
  const server = h.cluster.servers.find((s) => !leaders.has(s.name)) ?? (h.cluster.servers[0] as TestClusterServer);
  h.cleanups.unshift(async () => {
    if (!server.running) await server.restart();
    await h.cluster.waitReady();
  });
  return server;
}

async function simulator(): Promise<Simulator> {
  const sim = await startSimulator({
    clock,
    seed: demoSeed(),
    tls: false,
    tokens: [TOKEN],
    // The long task: a stop that runs for a few seconds.
    taskDurations: { qmstop: 4_000, qmstart: 500 },
  });
  h.cleanups.push(() => sim.stop());
  return sim;
}

/** Starts a core's runtime for cluster `lab` (stopped after the test). */
const runtime = (name: string, sim: Simulator, records: RecordStore, fence?: () => void) =>
  startLabRuntime(h, name, sim, records, { token: TOKEN, fence });

const requestIn = async (records: RecordStore, id: string): Promise<RequestEntity | undefined> =>
  (await records.get(recordKey.request('lab', id)))?.value as RequestEntity | undefined;

const stopsOf = (sim: Simulator, vmid: number) =>
  sim.oplog.filter((e) => e.op === 'stop' && e.vmid === vmid && e.result === 'started');

describe('cluster runtime', () => {
  it('cluster runtime - a core dies mid-task: the next owner resumes from the record, and the dead core’s late write is refused', async () => {
    const ns = 'crt1';
    const sim = await simulator();
    // A reaches the record through one server only: killing it cuts A off, as a crash would, without stopping A.
    const lonely = await follower(ns);
    const a = await core(ns, [lonely.url]);
    const b = await core(
      ns,
      h.cluster.urls.filter((u) => u !== lonely.url),
    );
    const { rt: rtA } = await runtime('core-a', sim, a.records);

    // A answers: a denial, a request awaiting a second person, one that completes, one executing (a 4 s stop).
    const denied = await rtA.overseer.submit({
      action: 'start',
      target: { cluster: 'lab', vmid: 999 },
      requester: alice,
    });
    const awaiting = await rtA.overseer.submit({
      action: 'destroy',
      target: { cluster: 'lab', vmid: 114 },
      force: true,
      requester: alice,
    });
    const done = await rtA.overseer.submit({
      action: 'start',
      target: { cluster: 'lab', vmid: 102 },
      requester: alice,
    });
    await waitFor(
      'the start completed in the record',
      async () => (await requestIn(b.records, done.requestId))?.request.status === 'completed',
    );
    const executing = await rtA.overseer.submit({
      action: 'stop',
      target: { cluster: 'lab', vmid: 101 },
      requester: alice,
    });
    const answered = [denied, awaiting, done, executing];
    expect(answered.map((r) => r.decision)).toEqual(['denied', 'awaiting_approval', 'approved', 'approved']);
    // Its task id is in the record as soon as the platform gave it (the executor waits for the record after it).
    await waitFor(
      'the stop’s task in the record',
      async () => ((await requestIn(b.records, executing.requestId))?.request.taskIds.length ?? 0) > 0,
    );
    const upid = (await requestIn(b.records, executing.requestId))?.request.taskIds[0]?.upid;

    // A dies: cut off from NATS mid-task. Nothing more of A's reaches the record; A itself keeps running.
    await lonely.kill();

    // B takes the cluster from the record: every request A answered, with A's decision; the stop executing.
    let started: Awaited<ReturnType<typeof runtime>> | undefined;
    await waitFor('B started', async () => {
      started = await runtime('core-b', sim, b.records).catch(() => undefined);
      return started !== undefined;
    });
    const rtB = (started as NonNullable<typeof started>).rt;
    for (const r of answered) expect(rtB.store.requests.get(r.requestId)?.decision).toBe(r.decision);
    expect(rtB.overseer.requests.get(executing.requestId)?.getSnapshot().value).toBe('executing');
    expect(rtB.store.audit.verify().ok).toBe(true);
    expect(rtB.imported.auditRows).toBeGreaterThan(0);

    // B resumes by polling A's task: the platform stopped the VM once.
    await waitFor(
      'the stop completed under B',
      async () => (await requestIn(b.records, executing.requestId))?.request.status === 'completed',
      20_000,
    );
    expect(rtB.store.requests.get(executing.requestId)?.taskIds.map((t) => t.upid)).toEqual([upid]);
    expect(stopsOf(sim, 101)).toHaveLength(1);

    // B's denial is answered once the record has it.
    expect(await rtB.deny(awaiting.requestId, bob, 'not now')).toMatchObject({ ok: true, status: 'denied' });
    expect((await requestIn(b.records, awaiting.requestId))?.request.status).toBe('denied');

    // A comes back with a stale view (its fence passes: only the record's compare-and-set stands in its way). Its
    // writes are refused; it stops shipping, stops itself, and says why. The record keeps B's values.
    const key = recordKey.request('lab', executing.requestId);
    const ofB = await b.records.get(key);
    await lonely.restart();
    await waitFor('A found another core’s write', () => rtA.shipping().state === 'lost', 20_000);
    await expect(rtA.replicate()).rejects.toBeInstanceOf(RecordOwnershipLostError);
    expect(await b.records.get(key)).toEqual(ofB);
    expect(recordRows(rtB.store).mark(key)?.revision).toBe(ofB?.revision);
    expect(stopsOf(sim, 101)).toHaveLength(1);
  }, 60_000);

  it('cluster runtime - a core cut off from the record answers no submission and makes no platform call until the record has them', async () => {
    const ns = 'crt2';
    const sim = await simulator();
    const lonely = await follower(ns);
    const c = await core(ns, [lonely.url]);
    const observer = await core(
      ns,
      h.cluster.urls.filter((u) => u !== lonely.url),
    );
    const { rt } = await runtime('core-c', sim, c.records);

    await lonely.kill();
    let answer: Awaited<ReturnType<typeof rt.overseer.submit>> | undefined;
    const submitted = rt.overseer.submit({ action: 'stop', target: { cluster: 'lab', vmid: 101 }, requester: alice });
    submitted.then(
      (r) => {
        answer = r;
      },
      () => undefined,
    );
    // The request is decided and its intent recorded here; both wait for the record, which cannot be reached.
    const issuing = () =>
      [...rt.overseer.requests.entries()].some(([, actor]) => actor.getSnapshot().context.issuing !== undefined);
    await waitFor('the intent recorded locally', issuing);
    const failures = rt.shipping().failures;
    await waitFor('two more failed rounds', () => rt.shipping().failures >= failures + 2);
    expect(answer).toBeUndefined();
    expect(stopsOf(sim, 101)).toHaveLength(0);
    expect(rt.shipping().pendingEntities).toBeGreaterThan(0);

    // The record is back: the answer leaves only once the request is in it; then the stop is made, once.
    await lonely.restart();
    const result = await submitted;
    expect(result.decision).toBe('approved');
    expect((await requestIn(observer.records, result.requestId))?.request.decision).toBe('approved');
    await waitFor('the stop completed', () => rt.store.requests.get(result.requestId)?.status === 'completed', 20_000);
    expect(stopsOf(sim, 101)).toHaveLength(1);
  }, 60_000);

  it('cluster runtime - every entity a commit changes reaches the record once, calls made during a round share the next; a refused fence writes nothing', async () => {
    const ns = 'crt3';
    const sim = await simulator();
    const d = await core(ns, h.cluster.urls);
    let fenced = false;
    const fence = () => {
      if (fenced) throw new FencedError('core-d does not hold the lease on cluster lab', 'lab', 'core-d', 'not-owner');
    };
    const { rt } = await runtime('core-d', sim, d.records, fence);
    const ok = await rt.overseer.submit({ action: 'start', target: { cluster: 'lab', vmid: 999 }, requester: alice });
    expect((await requestIn(d.records, ok.requestId))?.request.decision).toBe('denied');

    // What the monitor, the lab service and the token commands write: an incident, a lab with its actor's snapshot,
    // an API token. An incident about another cluster is that cluster's owner's to write.
    const { store } = rt;
    const incident = (id: string, subject: string) =>
      store.incidents.open({
        id,
        kind: 'vm-crash',
        subject,
        dedupeKey: `crash:${subject}`,
        severity: 'critical',
        detail: 'crashed',
        openedAt: 1_000,
      });
    incident('i-lab', 'vm:lab/101');
    incident('i-other', 'vm:other/101');
    const lab = store.labs.insert({
      file: THREE_TIER,
      spec: specOf(THREE_TIER),
      status: 'planning',
      requester: alice,
      createdAt: 4_000,
    });
    store.snapshots.save(labActorId('lab', lab.name), 'lab', { status: 'active', value: 'planning' }, 4_000);
    const { record: token } = store.tokens.create('carol', 'operator', alice.id, 5_000);
    const before = rt.shipping().puts;
    // One round in flight; the calls made meanwhile share the next one.
    const calls = [rt.replicate(), rt.replicate(), rt.replicate()];
    expect(calls[1]).toBe(calls[2]);
    expect(calls[0]).not.toBe(calls[1]);
    await Promise.all(calls);
    expect(rt.shipping()).toMatchObject({ pendingEntities: 0, pendingAuditRows: 0, puts: before + 3 });
    expect(await d.records.keys('lab.incident.')).toEqual([recordKey.incident('lab', 'i-lab')]);
    expect(await d.records.keys('other.')).toEqual([]);
    expect((await d.records.get(recordKey.lab('lab', lab.name, 4_000)))?.value).toMatchObject({
      lab: { status: 'planning' },
      snapshot: { value: { value: 'planning' } },
    });
    expect(await d.records.keys('_global.')).toEqual([recordKey.token(token.id)]);
    // A token's use is each core's own: nothing to ship.
    store.tokens.touch(token.id, 6_000);
    expect(rt.shipping().pendingEntities).toBe(0);

    fenced = true;
    await expect(
      rt.overseer.submit({ action: 'start', target: { cluster: 'lab', vmid: 998 }, requester: alice }),
    ).rejects.toBeInstanceOf(FencedError);
    expect(rt.store.requests.list({ cluster: 'lab' })).toHaveLength(2);
    expect(await d.records.keys('lab.request.')).toEqual([recordKey.request('lab', ok.requestId)]);
    expect(rt.shipping()).toMatchObject({ state: 'shipping', pendingEntities: 1 });

    // The shipper's triggers live on the runtime's connection only: the single-core store has none.
    const temp = rt.store.db.prepare(`SELECT count(*) AS n FROM sqlite_temp_master WHERE type = 'trigger'`);
    expect((temp.get() as { n: number }).n).toBeGreaterThan(0);
    const single = StateStore.open(join(mkdtempSync(join(tmpdir(), 'overseer-crt-single-')), 'overseer.db'));
    h.cleanups.push(() => single.close());
    const none = single.db.prepare(`SELECT count(*) AS n FROM sqlite_temp_master`).get() as { n: number };
    expect(none.n).toBe(0);
  }, 30_000);
});
