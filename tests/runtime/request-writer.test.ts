// The request writer's group commit on a real SQLite file: a request's steps before its decision go to disk in the
// commit that holds its decision, never in one of their own; a synchronous flush writes everything.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RequestWriter } from '../../actors/request-writer';
import type { RequestContext } from '../../machines/request.machine';
import type { RequestSpec, RequestStatus } from '../../machines/types';
import { StateStore } from '../../state';

const spec = (id: string): RequestSpec => ({
  id,
  action: 'stop',
  target: { cluster: 'lab', vmid: 101 },
  params: {},
  force: false,
  requester: { id: 'tok1', role: 'operator', name: 'ada' },
  submittedAt: 1_000,
  origin: 'human',
});

const contextOf = (s: RequestSpec, decision?: 'denied'): RequestContext =>
  ({ spec: s, decision, reasons: decision ? ['no'] : [], checks: [], tasks: [] }) as unknown as RequestContext;

const tick = () => new Promise((r) => setImmediate(r));

describe('request writer', () => {
  let dir: string;
  let store: StateStore;
  let writer: RequestWriter;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'overseer-writer-'));
    store = StateStore.open(join(dir, 'overseer.db'));
    writer = new RequestWriter(store);
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Queues the status changes a request goes through, from `received`. */
  const steps = (s: RequestSpec, statuses: RequestStatus[], decision?: 'denied') => {
    let from = 'received';
    for (const status of statuses) {
      writer.queue(s.id, contextOf(s, decision), () => ({ status }), 2_000, { status, from, at: 2_000 });
      from = status;
    }
  };

  it('request writer - the steps before a decision are committed with the decision, not before', async () => {
    const s = spec('r1');
    writer.insert(s, 'key-1');
    steps(s, ['validating', 'gating']);
    await tick();
    await tick();
    expect(store.requests.get('r1')).toBeUndefined();
    expect(writer.pendingIdempotent('tok1', 'key-1')).toBe('r1');
    await writer.durable();
    expect(store.requests.get('r1')).toBeUndefined();

    steps(s, ['denied'], 'denied');
    const durable = writer.durable();
    expect(store.requests.get('r1')).toBeUndefined();
    await durable;
    const record = store.requests.get('r1');
    expect(record?.status).toBe('denied');
    expect(record?.history.map((h) => h.status)).toEqual(['received', 'validating', 'gating', 'denied']);
    expect(writer.pendingIdempotent('tok1', 'key-1')).toBeUndefined();
    const audit = store.audit.list({}).map((r) => r.kind);
    expect(audit).toEqual(['request.received', 'request.status', 'request.status', 'request.status']);
    expect(store.audit.verify().ok).toBe(true);
  });

  it('request writer - a decided request is committed while another is still undecided', async () => {
    const a = spec('a');
    const b = spec('b');
    writer.insert(a, undefined);
    writer.insert(b, undefined);
    steps(a, ['validating', 'gating']);
    steps(b, ['validating', 'gating', 'denied'], 'denied');
    await writer.durable();
    expect(store.requests.get('b')?.status).toBe('denied');
    expect(store.requests.get('a')).toBeUndefined();
  });

  it('request writer - flush() and durable({ all: true }) write undecided requests too', async () => {
    const a = spec('a');
    writer.insert(a, 'key-a');
    steps(a, ['validating']);
    await writer.durable({ all: true });
    expect(store.requests.get('a')?.status).toBe('validating');
    expect(writer.pendingIdempotent('tok1', 'key-a')).toBeUndefined();

    const b = spec('b');
    writer.insert(b, undefined);
    writer.flush();
    expect(store.requests.get('b')?.status).toBe('received');
    steps(b, ['validating', 'gating', 'denied'], 'denied');
    await writer.durable();
    expect(store.requests.get('b')?.history.map((h) => h.status)).toEqual([
      'received',
      'validating',
      'gating',
      'denied',
    ]);
    expect(store.audit.verify().ok).toBe(true);
  });

  it('request writer - a snapshot is taken once per commit, and none is kept of a finished request', async () => {
    const taken: string[] = [];
    const queue = (s: RequestSpec, status: RequestStatus, from: string, decision?: 'denied') =>
      writer.queue(
        s.id,
        contextOf(s, decision),
        () => {
          taken.push(`${s.id} ${status}`);
          return { status: 'active', value: status };
        },
        2_000,
        { status, from, at: 2_000 },
      );
    // Denied at once: no snapshot taken, none stored.
    const a = spec('a');
    writer.insert(a, undefined);
    queue(a, 'validating', 'received');
    queue(a, 'gating', 'validating');
    queue(a, 'denied', 'gating', 'denied');
    // Waiting for an approval: the last step's snapshot, taken by the commit.
    const b = spec('b');
    writer.insert(b, undefined);
    queue(b, 'validating', 'received');
    queue(b, 'gating', 'validating');
    queue(b, 'awaiting_approval', 'gating');
    await writer.durable();
    expect(taken).toEqual(['b awaiting_approval']);
    expect(store.snapshots.get('req:a')).toBeUndefined();
    expect(store.snapshots.get('req:b')?.snapshot).toEqual({ status: 'active', value: 'awaiting_approval' });
    // Denied by a person later: the stored snapshot goes with the commit that finishes it.
    queue(b, 'denied', 'awaiting_approval', 'denied');
    await writer.durable();
    expect(store.snapshots.get('req:b')).toBeUndefined();
    expect(store.requests.get('b')?.status).toBe('denied');
    expect(taken).toEqual(['b awaiting_approval']);
  });
});
