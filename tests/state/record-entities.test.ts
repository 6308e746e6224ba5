// The record's entities between two real SQLite files: what core A exports, core B imports as the same rows (a
// request with its decision, history and recorded UPID; an incident; a lab; an API token; audit rows on B's own chain),
// once: the same or an older version again changes nothing, and a bad value is one typed error with nothing written.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { auditBatchOf, auditOriginOf, importAudit, markAuditPublished } from '../../actors/record-audit';
import {
  exportCluster,
  exportIncident,
  exportLab,
  exportRequest,
  exportToken,
  importAll,
  importEntity,
  markPublished,
  RecordImportError,
} from '../../actors/record-entities';
import { parseRecordKey, RecordKeyError, RecordValueError, recordKey } from '../../protocol';
import { AUDIT_KEY_BYTES, AuditKey, labActorId, StateStore } from '../../state';
import { specOf, THREE_TIER } from '../labs/helpers';
import { dbPath, openStore, requestSpec } from './helpers';

const alice = { id: 'tok-alice', role: 'operator' as const, name: 'alice', person: 'p-alice' };
const bob = { id: 'tok-bob', role: 'admin' as const, name: 'bob' };
const UPID = 'UPID:pve1:00001234:00005678:65A00000:qmstop:101:root@pam:';

/** Core A's database: a request approved by a second person and executing with a recorded task, an incident, a lab. */
function seedCoreA(store: StateStore): void {
  const spec = requestSpec({ id: 'r-stop', requester: alice, force: true, submittedAt: 1_000 });
  store.transaction(() => {
    store.requests.insert(spec, 'received', 'idem-1');
    store.requests.applyChanges(
      'r-stop',
      [
        { status: 'validating', at: 1_001 },
        { status: 'gating', at: 1_002 },
        { status: 'awaiting_approval', at: 1_003 },
        { status: 'approved', at: 2_000, by: bob.id, note: 'window agreed' },
        { status: 'queued', at: 2_001 },
        { status: 'executing', at: 2_002 },
      ],
      {
        decision: 'approved',
        reasons: ['VM lab/101 is production: needs approval'],
        checks: [{ check: 'production', outcome: 'approval', reason: 'VM lab/101 is production: needs approval' }],
        taskIds: [{ upid: UPID, node: 'pve1', vmid: 101 }],
      },
      2_002,
    );
    store.snapshots.save('req:r-stop', 'request', { status: 'active', value: 'executing', context: { n: 1 } }, 2_002);
  });
  store.incidents.open({
    id: 'i-1',
    kind: 'vm-crash',
    subject: 'vm:lab/101',
    dedupeKey: 'vm-crash:vm:lab/101',
    severity: 'critical',
    detail: 'VM lab/101 stopped unexpectedly',
    data: { exit: 'crash' },
    openedAt: 3_000,
  });
  store.incidents.update(
    'i-1',
    { status: 'remediating', actions: [{ at: 3_001, action: 'start', requestId: 'r-stop' }], remediationAttempts: 1 },
    3_001,
  );
  store.snapshots.save('incident:i-1', 'incident', { status: 'active', value: 'remediating' }, 3_001);
  store.labs.insert({
    file: THREE_TIER,
    spec: specOf(THREE_TIER),
    status: 'planning',
    requester: alice,
    createdAt: 4_000,
  });
  store.labs.update('lab', 'tt', { status: 'cloning', by: bob.id, note: 'approved' }, 4_100);
  store.snapshots.save(labActorId('lab', 'tt'), 'lab', { status: 'active', value: 'cloning' }, 4_100);
}

/** Everything exported from A, imported into B at revisions 1, 2, ... */
function copy(a: StateStore, b: StateStore) {
  const exports = exportCluster(a, 'lab');
  const report = importAll(
    b,
    exports.map((e, i) => ({ key: e.key, value: e.value, revision: i + 1 })),
  );
  return { exports, report };
}

const changesOf = (store: StateStore): number =>
  (store.db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;

describe('record entities', () => {
  it('record keys - any id becomes KV key tokens and parses back; a cluster never takes the global scope', () => {
    const odd = 'a.b/c d*>é_-=';
    const key = recordKey.request('lab-1', odd);
    expect(key).toMatch(/^[-/_=A-Za-z0-9]+(\.[-/_=A-Za-z0-9]+)*$/);
    expect(parseRecordKey(key)).toEqual({ kind: 'request', cluster: 'lab-1', id: odd });
    expect(parseRecordKey(recordKey.lab('lab', 'web tier', 4_000))).toEqual({
      kind: 'lab',
      cluster: 'lab',
      name: 'web tier',
      createdAt: 4_000,
    });
    expect(parseRecordKey(recordKey.token('t.1'))).toEqual({ kind: 'token', cluster: undefined, id: 't.1' });
    expect(recordKey.incident('_global', 'i')).not.toMatch(/^_global\./);
    expect(parseRecordKey(recordKey.incident('_global', 'i'))).toMatchObject({ cluster: '_global' });
    for (const bad of ['lab.request', 'lab.vm.1', '_global.request.x', 'lab.request.a=zz', 'lab.lab.x.-1']) {
      expect(() => parseRecordKey(bad), bad).toThrow(RecordKeyError);
    }
  });

  it('record entities - a request, an incident and a lab exported from A are the same rows in B', () => {
    const a = openStore();
    const b = openStore();
    // B already numbered a lab row of its own: the imported lab gets B's next id, found by name and creation.
    b.labs.insert({
      file: THREE_TIER,
      spec: specOf(THREE_TIER.replace('name: tt\n', 'name: other\n')),
      status: 'planning',
      requester: bob,
      createdAt: 10,
    });
    seedCoreA(a);
    const { exports, report } = copy(a, b);
    expect(exports.map((e) => e.key)).toEqual([
      recordKey.request('lab', 'r-stop'),
      recordKey.incident('lab', 'i-1'),
      recordKey.lab('lab', 'tt', 4_000),
    ]);
    expect(report).toEqual({ applied: 3, unchanged: 0, failed: [] });

    const request = b.requests.get('r-stop');
    expect(request).toEqual(a.requests.get('r-stop'));
    expect(request?.taskIds).toEqual([{ upid: UPID, node: 'pve1', vmid: 101 }]);
    expect(request?.history.map((h) => h.status)).toEqual([
      'received',
      'validating',
      'gating',
      'awaiting_approval',
      'approved',
      'queued',
      'executing',
    ]);
    expect(request?.history[4]).toEqual({ status: 'approved', at: 2_000, by: bob.id, note: 'window agreed' });
    expect(b.requests.findByIdempotencyKey(alice.id, 'idem-1')?.id).toBe('r-stop');
    expect(b.requests.findIdByTaskUpid(UPID)).toBe('r-stop');
    expect(b.snapshots.get('req:r-stop')).toEqual(a.snapshots.get('req:r-stop'));

    expect(b.incidents.get('i-1')).toEqual(a.incidents.get('i-1'));
    expect(b.snapshots.get('incident:i-1')).toEqual(a.snapshots.get('incident:i-1'));

    const { id: idA, ...labA } = a.labs.get('lab', 'tt')!;
    const { id: idB, ...labB } = b.labs.get('lab', 'tt')!;
    expect(labB).toEqual(labA);
    expect(idB).not.toBe(idA);
    expect(b.labs.history('lab', 'tt')).toEqual(a.labs.history('lab', 'tt'));
    expect(b.snapshots.get(labActorId('lab', 'tt'))).toEqual(a.snapshots.get(labActorId('lab', 'tt')));

    // B describes what it imported exactly as A published it: the same version, nothing to publish.
    for (const e of exports) {
      const again =
        e.value.kind === 'request'
          ? exportRequest(b, 'r-stop')
          : e.value.kind === 'incident'
            ? exportIncident(b, 'i-1')
            : exportLab(b, 'lab', 'tt');
      expect(again).toEqual({ key: e.key, value: e.value, changed: false, expectedRevision: expect.any(Number) });
    }
  });

  it('record entities - an API token travels as its hash: B verifies the token A created, revoked when A revokes it', () => {
    const a = openStore();
    const b = openStore();
    const { record, token } = a.tokens.create('carol', 'operator', 'tok-admin', 5_000);
    a.tokens.touch(record.id, 5_500);
    const first = exportToken(a, record.id);
    expect(JSON.stringify(first.value)).not.toContain(token);
    expect(importEntity(b, first.key, first.value, 7).applied).toBe(true);
    expect(b.tokens.verify(token)).toEqual(record);

    markPublished(a, first.key, first.value, 7);
    a.tokens.revoke(record.id, 6_000);
    const second = exportToken(a, record.id);
    expect(second).toMatchObject({ changed: true, expectedRevision: 7, value: { version: 2 } });
    expect(importEntity(b, second.key, second.value, 9).applied).toBe(true);
    expect(b.tokens.verify(token)).toBeUndefined();
    expect(b.tokens.get(record.id)?.revokedAt).toBe(6_000);
  });

  it('record entities - importing the same or an older version again changes nothing', () => {
    const a = openStore();
    const b = openStore();
    seedCoreA(a);
    const v1 = exportRequest(a, 'r-stop');
    expect(v1).toMatchObject({ changed: true, expectedRevision: 'new', value: { version: 1 } });
    expect(importEntity(b, v1.key, v1.value, 3)).toEqual({ key: v1.key, kind: 'request', version: 1, applied: true });

    // Unchanged on A: the export is the same value, nothing to put.
    markPublished(a, v1.key, v1.value, 3);
    expect(exportRequest(a, 'r-stop')).toEqual({ ...v1, changed: false, expectedRevision: 3 });

    a.requests.update('r-stop', { status: 'completed', by: 'overseer' }, 9_000);
    const v2 = exportRequest(a, 'r-stop');
    expect(v2).toMatchObject({ changed: true, expectedRevision: 3, value: { version: 2 } });
    expect(importEntity(b, v2.key, v2.value, 8).applied).toBe(true);

    const before = changesOf(b);
    expect(importEntity(b, v2.key, v2.value, 8).applied).toBe(false);
    expect(importEntity(b, v1.key, v1.value, 3).applied).toBe(false);
    expect(changesOf(b)).toBe(before);
    expect(b.requests.get('r-stop')?.status).toBe('completed');
    expect(b.requests.get('r-stop')?.history.at(-1)).toEqual({ status: 'completed', at: 9_000, by: 'overseer' });
  });

  it('record entities - a request that finished without a snapshot takes away the one imported before', () => {
    const a = openStore();
    const b = openStore();
    seedCoreA(a);
    const v1 = exportRequest(a, 'r-stop');
    importEntity(b, v1.key, v1.value, 3);
    markPublished(a, v1.key, v1.value, 3);
    expect(b.snapshots.get('req:r-stop')).toBeDefined();
    // As the request writer finishes a request: its row completed, its actor's snapshot deleted in the same commit.
    a.transaction(() => {
      a.requests.update('r-stop', { status: 'completed', by: 'overseer' }, 9_000);
      a.snapshots.delete('req:r-stop');
    });
    const v2 = exportRequest(a, 'r-stop');
    expect(v2.value.snapshot).toBeNull();
    expect(importEntity(b, v2.key, v2.value, 8).applied).toBe(true);
    // Else a restart of B would bring back an executing request that has completed.
    expect(b.snapshots.get('req:r-stop')).toBeUndefined();
    expect(b.requests.get('r-stop')?.status).toBe('completed');
  });

  it('record entities - a corrupt value is one RecordValueError naming its key, and nothing is written', () => {
    const a = openStore();
    const b = openStore();
    seedCoreA(a);
    const { key, value } = exportRequest(a, 'r-stop');
    const before = changesOf(b);
    const corrupt = structuredClone(value) as unknown as { request: { taskIds: { upid: unknown }[] } };
    corrupt.request.taskIds[0]!.upid = 42;
    const cases: unknown[] = [corrupt, { ...value, v: 2 }, 'not an object', null];
    for (const raw of cases) {
      const error = (() => {
        try {
          importEntity(b, key, raw, 5);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(RecordValueError);
      expect(error).toMatchObject({ name: 'RecordValueError', key, revision: 5 });
    }
    expect(() => importEntity(b, key, corrupt, 5)).toThrow(/request\.taskIds\.0\.upid/);
    // A valid value under another key is refused too.
    expect(() => importEntity(b, recordKey.request('lab', 'someone-else'), value, 5)).toThrow(RecordValueError);
    expect(changesOf(b)).toBe(before);
    expect(b.requests.get('r-stop')).toBeUndefined();
    expect(b.snapshots.get('req:r-stop')).toBeUndefined();
  });

  it('record entities - a value that clashes with a row here is a RecordImportError; the transaction writes nothing', () => {
    const a = openStore();
    const b = openStore();
    seedCoreA(a);
    // B has another live lab of the same name (it missed that lab's end): the record's lab cannot be written.
    b.labs.insert({ file: THREE_TIER, spec: specOf(THREE_TIER), status: 'ready', requester: bob, createdAt: 3_900 });
    const lab = exportLab(a, 'lab', 'tt');
    const before = changesOf(b);
    expect(() => importEntity(b, lab.key, lab.value, 4)).toThrow(RecordImportError);
    expect(changesOf(b)).toBe(before);
    expect(b.labs.get('lab', 'tt')?.createdAt).toBe(3_900);
  });

  it('record entities - audit rows of A are appended to B’s own keyed chain, marked with where they came from, once', () => {
    const keyA = new AuditKey(randomBytes(AUDIT_KEY_BYTES));
    const keyB = new AuditKey(randomBytes(AUDIT_KEY_BYTES));
    const storeA = StateStore.open(dbPath(), { auditKey: keyA });
    const storeB = StateStore.open(dbPath(), { auditKey: keyB });
    try {
      storeB.audit.append({ at: 1, actor: 'overseer', kind: 'core.started', data: { core: 'b' } });
      storeA.audit.appendMany([
        { at: 10, actor: 'tok-alice', kind: 'request.received', data: { id: 'r-stop', target: { cluster: 'lab' } } },
        { at: 11, actor: 'tok-bob', kind: 'request.status', data: { id: 'r-stop', from: 'x', to: 'approved' } },
        { at: 12, actor: 'overseer', kind: 'odd.data', data: [1, 2] },
      ]);
      const batch = auditBatchOf('lab', 'core-a', storeA.audit.list());
      expect(importAudit(storeB, batch, 41).appended).toBe(3);
      expect(importAudit(storeB, batch, 41).appended).toBe(0);
      expect(importAudit(storeB, batch, 40).appended).toBe(0);

      const rows = storeB.audit.list({ sinceSeq: 1 });
      expect(rows.map((r) => [r.at, r.actor, r.kind])).toEqual([
        [10, 'tok-alice', 'request.received'],
        [11, 'tok-bob', 'request.status'],
        [12, 'overseer', 'odd.data'],
      ]);
      expect(rows.map((r) => auditOriginOf(r.data))).toEqual(
        storeA.audit.list().map((r) => ({
          origin: {
            core: 'core-a',
            cluster: 'lab',
            seq: r.seq,
            record: 41,
            ...(r.kind === 'odd.data' ? { wrapped: true } : {}),
          },
          data: r.data,
        })),
      );
      expect(storeB.audit.verify().ok).toBe(true);

      // The owner's own batch, marked as published, is never imported back.
      markAuditPublished(storeA, 'lab', 42);
      expect(importAudit(storeA, batch, 42).appended).toBe(0);
      expect(() => importAudit(storeB, { ...batch, entries: [] }, 43)).toThrow(RecordValueError);
      expect(storeB.audit.list({ sinceSeq: 4 })).toEqual([]);
    } finally {
      storeA.close();
      storeB.close();
    }
  });
});
