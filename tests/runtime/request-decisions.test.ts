// Reasons are kept and the decision is the final one, on the PVE simulator (tests/helpers/sim-stack.ts): the reason
// given with approve, deny or cancel is the note of the status history entry (and in the audit log), and a request a
// person approved shows decision `approved` and who took it — also once it completed.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { requestView } from '../../actors/core-service';
import type { Requester } from '../../machines/types';
import { TERMINAL_REQUEST_STATUSES } from '../../machines/types';
import type { SimStack } from '../helpers/sim-stack';
import { createSimStack } from '../helpers/sim-stack';

const alice: Requester = { id: 'alice', role: 'admin', name: 'alice', person: 'alice' };
const bob: Requester = { id: 'bob', role: 'admin', name: 'bob', person: 'bob' };
const names = (id: string) => ({ alice: 'Alice', bob: 'Bob' })[id];

let stack: SimStack;
beforeEach(async () => {
  stack = await createSimStack();
  stack.overseer.start();
  await stack.settle();
});
afterEach(async () => {
  await stack?.cleanup();
});

/** A forced stop of the production VM 114 by alice: it awaits a second person's approval. */
async function awaiting(): Promise<string> {
  const result = await stack.overseer.submit({
    action: 'stop',
    target: { cluster: 'lab', vmid: 114 },
    force: true,
    requester: alice,
  });
  expect(result.decision, result.reasons.join('; ')).toBe('awaiting_approval');
  return result.requestId;
}

async function ended(id: string) {
  const done = () => TERMINAL_REQUEST_STATUSES.has(stack.store.requests.get(id)?.status ?? 'received');
  expect(await stack.advanceUntil(done, 120_000), `request ${id} ended`).toBe(true);
  return stack.store.requests.get(id)!;
}

describe('request decisions', () => {
  it('decision - an approved request that completed shows decision approved, who approved it and why', async () => {
    const id = await awaiting();
    expect(stack.overseer.approve(id, bob, 'maintenance window agreed').ok).toBe(true);
    const record = await ended(id);
    expect(record.status).toBe('completed');
    expect(record.decision).toBe('approved');
    const approved = record.history.find((h) => h.status === 'approved');
    expect(approved).toMatchObject({ by: 'bob', note: 'maintenance window agreed' });

    const view = requestView(record, names);
    expect(view.decision).toBe('approved');
    expect(view.decidedBy).toEqual({
      kind: 'person',
      id: 'bob',
      name: 'Bob',
      at: approved!.at,
      reason: 'maintenance window agreed',
    });
    expect(stack.store.audit.list({ kind: 'request.approve' }).map((r) => r.data)).toEqual([
      { id, reason: 'maintenance window agreed' },
    ]);
  });

  it('decision - deny and cancel keep the reason as the history note; the denial is the person’s decision', async () => {
    const denied = await awaiting();
    expect(stack.overseer.deny(denied, bob, 'not during the sale').ok).toBe(true);
    await stack.settle();
    const deniedRecord = stack.store.requests.get(denied)!;
    expect(deniedRecord.history.at(-1)).toMatchObject({ status: 'denied', by: 'bob', note: 'not during the sale' });
    expect(requestView(deniedRecord).decidedBy).toMatchObject({
      kind: 'person',
      id: 'bob',
      reason: 'not during the sale',
    });
    expect(requestView(deniedRecord).decision).toBe('denied');

    const cancelled = await awaiting();
    expect(stack.overseer.cancel(cancelled, alice, 'wrong VM').ok).toBe(true);
    await stack.settle();
    const cancelledRecord = stack.store.requests.get(cancelled)!;
    expect(cancelledRecord.history.at(-1)).toMatchObject({ status: 'cancelled', by: 'alice', note: 'wrong VM' });
    // A cancellation is no decision: the gate's stands.
    expect(requestView(cancelledRecord)).toMatchObject({
      decision: 'awaiting_approval',
      decidedBy: { kind: 'gate' },
    });
    const statuses = stack.store.audit.list({ kind: 'request.status' }).map((r) => r.data as { note?: string });
    expect(statuses.map((d) => d.note).filter(Boolean)).toEqual(['not during the sale', 'wrong VM']);
  });

  it('decision - a request the gate approved shows the gate as the decider', async () => {
    const result = await stack.overseer.submit({
      action: 'stop',
      target: { cluster: 'lab', vmid: 101 },
      requester: alice,
    });
    expect(result.decision).toBe('approved');
    const record = await ended(result.requestId);
    expect(requestView(record)).toMatchObject({
      status: 'completed',
      decision: 'approved',
      decidedBy: { kind: 'gate' },
    });
  });

  it('decision - a record stored before decisions followed the person still reads as approved by them', () => {
    const { store } = stack;
    const spec = {
      id: 'old-1',
      action: 'stop' as const,
      target: { cluster: 'lab', vmid: 114 },
      params: {},
      force: true,
      requester: alice,
      submittedAt: 1_000,
    };
    store.requests.insert(spec, 'received');
    store.requests.update('old-1', { status: 'awaiting_approval', decision: 'awaiting_approval' }, 2_000);
    store.requests.update('old-1', { status: 'approved', by: 'bob' }, 3_000);
    store.requests.update('old-1', { status: 'completed' }, 4_000);
    const view = requestView(store.requests.get('old-1')!);
    expect(view.decision).toBe('approved');
    expect(view.decidedBy).toEqual({ kind: 'person', id: 'bob', at: 3_000 });
  });
});
