// Maintenance windows and silences survive the core they were told to (issue 15), on a real three-server NATS cluster
// (the record R3) and the PVE simulator: an operator sets a window and a silence, and ends another window early,
// through core A's runtime for cluster `lab`, each answered once the shipper has put it in the record; core B, taking
// the cluster over, rebuilds them from the record and acts on them at once: its gate asks a second person before
// acting on the guest in maintenance, its monitor holds back what is silenced, and the window ended early holds
// nothing.
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import type { ClusterRuntime } from '../../actors/cluster-runtime';
import { maintenanceQueries } from '../../actors/maintenance-service';
import { quietReason } from '../../actors/monitor-quiet';
import { JetStreamRecordStore, type RecordStore } from '../../adapters/nats/record-store';
import { demoSeed, type Simulator, startSimulator } from '../../adapters/pve-sim';
import { type MaintenanceEntity, type Principal, recordKey, type SilenceEntity } from '../../protocol';
import { clock, startLabRuntime, useNatsCluster, waitFor } from '../helpers/cluster-runtime-harness';

const TOKEN = { tokenid: 'root@pam!maint', secret: '0c7d2a55-3f1e-4b8a-9d6c-1e2f3a4b5c6d' };
const olga: Principal = { id: 'tok-olga', name: 'olga', role: 'operator', person: 'p-olga' };
const alice = { id: 'alice', role: 'admin' as const };
const h = useNatsCluster();

async function recordsOf(namespace: string): Promise<RecordStore> {
  const nc = await connect({ servers: h.cluster.urls, timeout: 2_000 });
  h.cleanups.push(() => nc.close());
  return JetStreamRecordStore.open(nc, { namespace, replicas: 3, timeoutMs: 2_000 });
}

/** Core `name`'s runtime for cluster `lab` (stopped after the test). */
const runtime = async (name: string, sim: Simulator, records: RecordStore): Promise<ClusterRuntime> =>
  (await startLabRuntime(h, name, sim, records, { token: TOKEN })).rt;

/**
 * The maintenance queries a core serves for the runtime (core-service.ts wires them the same way); with `durable`,
 * each change is answered once it is in the record.
 */
const queriesOf = (rt: ClusterRuntime, durable: boolean) =>
  maintenanceQueries({
    store: rt.store,
    clock,
    view: rt.overseer.view,
    durable: durable ? () => rt.durable() : undefined,
  });

describe('cluster maintenance', () => {
  it('cluster maintenance - a window and a silence set through core A reach the record, and core B taking the cluster over honours them', async () => {
    const ns = 'maint1';
    const sim = await startSimulator({ clock, seed: demoSeed(), tls: false, tokens: [TOKEN] });
    h.cleanups.push(() => sim.stop());
    const [recordsA, recordsB] = await Promise.all([recordsOf(ns), recordsOf(ns)]);
    const rtA = await runtime('core-a', sim, recordsA);

    // The operator, through A: a window on lab/101, a silence on lab/102, and a window on lab/103 ended early.
    const onA = queriesOf(rtA, true);
    const window = await onA.maintenanceStart(
      { scope: 'guest', target: 'lab/101', durationSeconds: 3_600, reason: 'disk swap' },
      olga,
    );
    const silence = await onA.silenceAdd(
      { kind: 'vm-unexpected-stop', guest: 'lab/102', durationSeconds: 3_600, reason: 'agent being reinstalled' },
      olga,
    );
    const ended = await onA.maintenanceStart(
      { scope: 'guest', target: 'lab/103', durationSeconds: 3_600, reason: 'kernel update' },
      olga,
    );
    expect(await onA.maintenanceEnd({ id: ended.id }, olga)).toMatchObject({ ok: true });

    // Each was answered once the shipper had put it in the record, under the cluster it belongs to, as A's row.
    const inRecord = async <T>(key: string) => (await recordsB.get(key))?.value as T | undefined;
    expect((await inRecord<MaintenanceEntity>(recordKey.maintenance('lab', ended.id)))?.window).toMatchObject({
      endedAt: expect.any(Number),
      endedBy: olga.id,
    });
    expect((await inRecord<MaintenanceEntity>(recordKey.maintenance('lab', window.id)))?.window).toEqual(
      rtA.store.maintenance.windows.get(window.id),
    );
    expect((await inRecord<SilenceEntity>(recordKey.silence('lab', silence.id)))?.silence).toEqual(
      rtA.store.maintenance.silences.get(silence.id),
    );

    // A goes away (its lease lost: nothing more of it is shipped); B takes the cluster from the record.
    await rtA.stop({ replicate: false });
    const rtB = await runtime('core-b', sim, recordsB);
    const now = clock.now();
    const onB = queriesOf(rtB, false);
    expect((await onB.maintenanceList({}, olga)).items.map((w) => [w.id, w.state])).toEqual([[window.id, 'active']]);
    expect((await onB.maintenanceList({ all: true }, olga)).items.find((w) => w.id === ended.id)).toMatchObject({
      state: 'ended',
      endedBy: olga.id,
    });
    expect((await onB.silenceList({}, olga)).items.map((s) => [s.id, s.state])).toEqual([[silence.id, 'active']]);
    expect(rtB.overseer.view.maintenance.windows(now).map((w) => w.id)).toEqual([window.id]);
    expect(rtB.overseer.view.maintenance.silences(now).map((s) => s.id)).toEqual([silence.id]);

    // B's gate: acting on the guest in maintenance needs a second person; the guest whose window ended does not.
    const stop = (vmid: number) =>
      rtB.overseer.submit({ action: 'stop', target: { cluster: 'lab', vmid }, requester: alice });
    const held = await stop(101);
    expect(held.decision).toBe('awaiting_approval');
    expect(held.reasons.join(' ')).toContain(`is in maintenance (guest lab/101 until`);
    expect(held.reasons.join(' ')).toContain(`(${window.id})`);
    expect((await stop(103)).decision).toBe('approved');
    // B's monitor: an unexpected stop of lab/102 is recorded, not remediated, nobody paged; other kinds are not.
    expect(quietReason(rtB.overseer.view, 'vm-unexpected-stop', 'vm:lab/102', clock.now())).toContain(
      `vm-unexpected-stop on lab/102 is silenced until`,
    );
    expect(quietReason(rtB.overseer.view, 'vm-crash-loop', 'vm:lab/102', clock.now())).toBeUndefined();
    expect(quietReason(rtB.overseer.view, 'vm-unexpected-stop', 'vm:lab/103', clock.now())).toBeUndefined();

    // B ends the window (answered at once here): the shipper's pump puts the next version over A's revision.
    expect(await onB.maintenanceEnd({ id: window.id }, olga)).toMatchObject({ ok: true });
    await waitFor(
      'the end under B in the record',
      async () => (await inRecord<MaintenanceEntity>(recordKey.maintenance('lab', window.id)))?.version === 2,
    );
  }, 30_000);
});
