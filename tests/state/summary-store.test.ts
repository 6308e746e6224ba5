import { describe, expect, it } from 'vitest';
import { createSummaryStore, summarize } from '../../state';
import { openStore, requestSpec, vmInfo } from './helpers';

describe('summary store', () => {
  it('summary - counts new actors, moves and removals', () => {
    const store = createSummaryStore();
    expect(summarize(store)).toEqual({ vms: {}, hosts: {}, requests: {} });
    store.send({ type: 'vmStateChanged', to: 'running' });
    store.send({ type: 'vmStateChanged', to: 'running' });
    store.send({ type: 'vmStateChanged', to: 'stopped' });
    store.send({ type: 'vmStateChanged', from: 'running', to: 'stopping' });
    expect(summarize(store).vms).toEqual({ running: 1, stopped: 1, stopping: 1 });
    store.send({ type: 'vmStateChanged', from: 'stopping', to: 'removed' });
    expect(summarize(store).vms).toEqual({ running: 1, stopped: 1 });
    // A move to the same state changes nothing; a decrement of an unknown state never goes negative.
    store.send({ type: 'vmStateChanged', from: 'running', to: 'running' });
    store.send({ type: 'vmStateChanged', from: 'ghost', to: 'removed' });
    expect(summarize(store).vms).toEqual({ running: 1, stopped: 1 });
  });

  it('summary - hosts and requests are counted separately', () => {
    const store = createSummaryStore();
    store.trigger.hostStateChanged({ to: 'online' });
    store.trigger.hostStateChanged({ from: 'online', to: 'offline' });
    store.trigger.requestStateChanged({ to: 'received' });
    store.trigger.requestStateChanged({ from: 'received', to: 'gating' });
    store.trigger.requestStateChanged({ to: 'received' });
    expect(summarize(store)).toEqual({ vms: {}, hosts: { offline: 1 }, requests: { gating: 1, received: 1 } });
  });

  it('summary - reset replaces every count and snapshots stay immutable', () => {
    const store = createSummaryStore({ vms: { running: 3 } });
    const before = summarize(store);
    store.send({ type: 'reset', vms: { stopped: 2, zero: 0 }, hosts: { online: 1 }, requests: {} });
    expect(before).toEqual({ vms: { running: 3 }, hosts: {}, requests: {} });
    expect(summarize(store)).toEqual({ vms: { stopped: 2 }, hosts: { online: 1 }, requests: {} });
  });

  it('summary - subscribers see each change', () => {
    const store = createSummaryStore();
    const seen: number[] = [];
    const sub = store.subscribe((s) => seen.push(s.context.vms.running ?? 0));
    store.send({ type: 'vmStateChanged', to: 'running' });
    store.send({ type: 'vmStateChanged', to: 'running' });
    sub.unsubscribe();
    store.send({ type: 'vmStateChanged', to: 'running' });
    expect(seen).toEqual([1, 2]);
  });

  it('summary - reset from the database counts matches what is stored', () => {
    const state = openStore();
    // A VM is stored as its actor's snapshot; the inventory counts it from there.
    for (const [vmid, value] of [
      [1, 'running'],
      [2, 'running'],
      [3, 'stopped'],
    ] as const) {
      const snapshot = { status: 'active', value, context: { info: vmInfo({ vmid }), lastSeen: 1, missing: 0 } };
      state.snapshots.save(`vm:lab/${vmid}`, 'vm', snapshot, 1);
    }
    state.requests.insert(requestSpec(), 'received');
    const store = createSummaryStore();
    store.send({ type: 'reset', ...state.countSummary() });
    expect(summarize(store)).toEqual({ vms: { running: 2, stopped: 1 }, hosts: {}, requests: { received: 1 } });
  });
});
