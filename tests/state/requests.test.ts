import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../machines/types';
import type { RequestPatch } from '../../state';
import { DuplicateRequestError, RequestNotFoundError } from '../../state';
import { openStore, requestSpec } from './helpers';

const checks: CheckResult[] = [
  { check: 'schema', outcome: 'pass', reason: 'valid' },
  { check: 'production', outcome: 'approval', reason: 'VM 101 is production' },
];

describe('requests', () => {
  it('requests - insert stores the spec and its first history entry', () => {
    const { requests } = openStore();
    const spec = requestSpec({ params: { snapname: 'before' }, force: true, target: { cluster: 'lab', vmid: 101 } });
    const inserted = requests.insert(spec, 'received', 'key-1');
    const stored = requests.get('r1');
    expect(stored).toEqual(inserted);
    expect(stored).toEqual({
      ...spec,
      origin: 'human',
      status: 'received',
      decision: undefined,
      reasons: [],
      checks: [],
      taskIds: [],
      idempotencyKey: 'key-1',
      updatedAt: 1_000,
      error: undefined,
      history: [{ status: 'received', at: 1_000, by: 'alice' }],
    });
    expect(requests.get('nope')).toBeUndefined();
  });

  it('requests - a deploy without vmid roundtrips its target and params', () => {
    const { requests } = openStore();
    const spec = requestSpec({
      id: 'd1',
      action: 'deploy',
      target: { cluster: 'lab' },
      params: { template: 9000, node: 'pve1', name: 'x', count: 2 },
      origin: 'overseer',
    });
    requests.insert(spec, 'received');
    const stored = requests.get('d1')!;
    expect(stored.target).toEqual({ cluster: 'lab' });
    expect('vmid' in stored.target).toBe(false);
    expect(stored.params).toEqual({ template: 9000, node: 'pve1', name: 'x', count: 2 });
    expect(stored.origin).toBe('overseer');
    expect(stored.idempotencyKey).toBeUndefined();
  });

  it('requests - update sets decision, checks, reasons, task ids and appends history on status change', () => {
    const { requests } = openStore();
    requests.insert(requestSpec(), 'received');
    expect(requests.update('r1', { status: 'gating' }, 1_001)).toEqual({
      previousStatus: 'received',
      status: 'gating',
      statusChanged: true,
    });
    requests.update(
      'r1',
      { status: 'awaiting_approval', decision: 'awaiting_approval', checks, reasons: ['VM 101 is production'] },
      1_002,
    );
    // Same status: no history row; only the changed fields move.
    expect(requests.update('r1', { status: 'awaiting_approval', reasons: ['still'] }, 1_003).statusChanged).toBe(false);
    requests.update('r1', { status: 'approved', decision: 'approved', by: 'bob', note: 'looks fine' }, 1_004);
    requests.update('r1', { status: 'executing', taskIds: [{ upid: 'UPID:pve1:1', node: 'pve1' }] }, 1_005);
    requests.update('r1', { status: 'failed', error: 'task failed' }, 1_006);

    const r = requests.get('r1')!;
    expect(r).toMatchObject({
      status: 'failed',
      decision: 'approved',
      checks,
      reasons: ['still'],
      taskIds: [{ upid: 'UPID:pve1:1', node: 'pve1' }],
      error: 'task failed',
      updatedAt: 1_006,
    });
    expect(r.history).toEqual([
      { status: 'received', at: 1_000, by: 'alice' },
      { status: 'gating', at: 1_001 },
      { status: 'awaiting_approval', at: 1_002 },
      { status: 'approved', at: 1_004, by: 'bob', note: 'looks fine' },
      { status: 'executing', at: 1_005 },
      { status: 'failed', at: 1_006 },
    ]);

    // undefined leaves a field alone; null clears it.
    requests.update('r1', { decision: undefined, error: null }, 1_007);
    expect(requests.get('r1')).toMatchObject({ decision: 'approved', error: undefined });
  });

  it('requests - updating an unknown request throws RequestNotFoundError', () => {
    const { requests } = openStore();
    expect(() => requests.update('ghost', { status: 'gating' }, 1)).toThrow(RequestNotFoundError);
  });

  it('requests - list filters by status, requester, action and limit, newest first', () => {
    const { requests } = openStore();
    requests.insert(requestSpec({ id: 'a', submittedAt: 1 }), 'received');
    requests.insert(
      requestSpec({ id: 'b', submittedAt: 2, requester: { id: 'bob', role: 'admin' }, action: 'destroy' }),
      'received',
    );
    requests.insert(requestSpec({ id: 'c', submittedAt: 3 }), 'received');
    requests.insert(requestSpec({ id: 'd', submittedAt: 4 }), 'received');
    requests.update('a', { status: 'completed' }, 10);
    requests.update('b', { status: 'executing' }, 10);
    requests.update('c', { status: 'denied' }, 10);

    const ids = (rs: { id: string }[]) => rs.map((r) => r.id);
    expect(ids(requests.list())).toEqual(['d', 'c', 'b', 'a']);
    expect(ids(requests.list({ status: 'denied' }))).toEqual(['c']);
    expect(ids(requests.list({ status: ['completed', 'denied'] }))).toEqual(['c', 'a']);
    expect(ids(requests.list({ requester: 'alice' }))).toEqual(['d', 'c', 'a']);
    expect(ids(requests.list({ requester: 'alice', limit: 2 }))).toEqual(['d', 'c']);
    expect(ids(requests.list({ action: 'destroy' }))).toEqual(['b']);
    // Histories come with listed records.
    expect(requests.list({ status: 'completed' })[0]!.history.map((h) => h.status)).toEqual(['received', 'completed']);
    expect(ids(requests.listActive())).toEqual(['b', 'd']);
    expect(requests.countByStatus()).toEqual({ completed: 1, executing: 1, denied: 1, received: 1 });
  });

  it('requests - idempotency key is unique per requester and found again', () => {
    const { requests } = openStore();
    requests.insert(requestSpec({ id: 'a' }), 'received', 'k');
    expect(requests.findByIdempotencyKey('alice', 'k')?.id).toBe('a');
    expect(requests.findByIdempotencyKey('bob', 'k')).toBeUndefined();
    expect(requests.findByIdempotencyKey('alice', 'other')).toBeUndefined();

    let error: unknown;
    try {
      requests.insert(requestSpec({ id: 'b' }), 'received', 'k');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DuplicateRequestError);
    expect(error).toMatchObject({ name: 'DuplicateRequestError', field: 'idempotencyKey', requestId: 'a' });
    expect(requests.get('b')).toBeUndefined();

    // Another requester may use the same key; requests without a key never collide.
    requests.insert(requestSpec({ id: 'c', requester: { id: 'bob', role: 'admin' } }), 'received', 'k');
    requests.insert(requestSpec({ id: 'd' }), 'received');
    requests.insert(requestSpec({ id: 'e' }), 'received');
    expect(requests.list()).toHaveLength(4);
  });

  it('requests - inserting an existing id throws DuplicateRequestError', () => {
    const { requests } = openStore();
    requests.insert(requestSpec(), 'received');
    expect(() => requests.insert(requestSpec(), 'received')).toThrow(
      expect.objectContaining({ name: 'DuplicateRequestError', field: 'id' }),
    );
    expect(requests.get('r1')!.history).toHaveLength(1);
  });

  it('requests - survive closing and reopening the file', () => {
    const store = openStore();
    const file = store.db.name;
    store.requests.insert(requestSpec(), 'received', 'k');
    store.requests.update('r1', { status: 'executing', taskIds: [{ upid: 'UPID:x', node: 'pve1' }] }, 5);
    const before = store.requests.get('r1');
    store.close();
    const reopened = openStore(file);
    expect(reopened.requests.get('r1')).toEqual(before);
    expect(reopened.requests.listActive().map((r) => r.id)).toEqual(['r1']);
  });
});

describe('requests - insert with changes', () => {
  const cases = [
    {
      name: 'a denial',
      changes: [
        { status: 'validating' as const, at: 1_001 },
        { status: 'gating' as const, at: 1_002 },
        { status: 'denied' as const, at: 1_003, by: 'bob', note: 'no' },
      ],
      patch: { decision: 'denied' as const, reasons: ['VM 101 is production'], checks, error: undefined },
    },
    {
      name: 'an approval with tasks, members and an error, a repeated status among its changes',
      changes: [
        { status: 'validating' as const, at: 1_001 },
        { status: 'validating' as const, at: 1_001 },
        { status: 'approved' as const, at: 1_002 },
      ],
      patch: {
        decision: 'approved' as const,
        reasons: [],
        checks,
        taskIds: [{ upid: 'UPID:pve1:1', node: 'pve1', vmid: 101 }],
        error: 'boom',
        members: [{ vmid: 101, action: 'stop' as const, params: {} }],
      },
    },
    { name: 'no change at all', changes: [], patch: {} as RequestPatch },
  ];
  for (const { name, changes, patch } of cases) {
    it(`requests - insertWithChanges stores ${name} as insert then applyChanges would`, () => {
      const one = openStore().requests;
      one.insert(requestSpec(), 'received', 'k');
      one.applyChanges('r1', changes, patch, 2_000);
      const other = openStore().requests;
      other.insertWithChanges(requestSpec(), 'k', changes, patch, 2_000);
      expect(other.get('r1')).toEqual(one.get('r1'));
      expect(other.findByIdempotencyKey('alice', 'k')?.id).toBe('r1');
    });
  }

  it('requests - insertWithChanges refuses a stored id or idempotency key as insert does, and writes nothing', () => {
    const { requests } = openStore();
    requests.insert(requestSpec(), 'received', 'k');
    const again = () => requests.insertWithChanges(requestSpec(), undefined, [{ status: 'gating', at: 2 }], {}, 2);
    expect(again).toThrow(DuplicateRequestError);
    const sameKey = () => requests.insertWithChanges(requestSpec({ id: 'r2' }), 'k', [], {}, 2);
    expect(sameKey).toThrow(/already submitted request r1 with idempotency key k/);
    expect(requests.get('r2')).toBeUndefined();
    expect(requests.get('r1')?.history).toEqual([{ status: 'received', at: 1_000, by: 'alice' }]);
  });
});

describe('requests - task owner', () => {
  it('requests - the request that recorded a task is found by its UPID', () => {
    const store = openStore();
    store.requests.insert(requestSpec({ id: 'a' }), 'executing');
    store.requests.update('a', { taskIds: [{ upid: 'UPID:pve1:1:2:3:qmstop:101:root@pam:', node: 'pve1' }] }, 2_000);
    expect(store.requests.findIdByTaskUpid('UPID:pve1:1:2:3:qmstop:101:root@pam:')).toBe('a');
    expect(store.requests.findIdByTaskUpid('UPID:pve1:9:9:9:qmstop:101:root@pam:')).toBeUndefined();
  });
});
