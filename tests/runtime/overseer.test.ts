import { afterEach, describe, expect, it } from 'vitest';
import { flushMicrotasks } from '../../adapters/clock';
import { demoInventory, demoVms } from '../helpers/inventory';
import type { RuntimeHarness } from '../helpers/runtime';
import { createRuntime } from '../helpers/runtime';

const alice = { id: 'alice', role: 'admin' as const };
const bob = { id: 'bob', role: 'admin' as const };
const olga = { id: 'olga', role: 'operator' as const };

let rt: RuntimeHarness | undefined;
afterEach(() => {
  rt?.close();
  rt = undefined;
});

function vmState(h: RuntimeHarness, vmid: number): unknown {
  return h.overseer.vms.get(`lab/${vmid}`)?.getSnapshot().value;
}

describe('runtime', () => {
  it('runtime - a sync creates one actor per VM and host, logged in the fixed format and persisted', () => {
    rt = createRuntime();
    const report = rt.overseer.observe(demoInventory({ at: rt.clock.now() }));
    expect(report).toMatchObject({ ok: true, created: 9, missing: 0 });
    expect(rt.overseer.vms.size).toBe(9);
    expect(rt.overseer.hosts.size).toBe(3);
    expect(vmState(rt, 101)).toBe('running');
    expect(vmState(rt, 103)).toBe('stopped');
    expect(vmState(rt, 104)).toBe('paused');
    expect(vmState(rt, 106)).toBe('locked');
    expect(rt.log.lines).toContain("2026-01-01T00:00:00.000Z vm:lab/101: state changed from 'none' to 'running'");
    expect(rt.store.snapshots.countByKind('vm')).toBe(9);
    expect(rt.events.some((e) => e.subject === 'overseer.evt.vm.lab.101.state')).toBe(true);
  });

  it('runtime - destroying a production VM: denied without force, awaits a second admin with force', async () => {
    rt = createRuntime();
    rt.overseer.observe(demoInventory());
    const denied = await rt.overseer.submit({
      action: 'destroy',
      target: { cluster: 'lab', vmid: 114 },
      requester: alice,
    });
    expect(denied.decision).toBe('denied');
    expect(denied.reasons).toEqual(['VM lab/114 (minecraft) is production: destroy needs force']);

    const forced = await rt.overseer.submit({
      action: 'destroy',
      target: { cluster: 'lab', vmid: 114 },
      force: true,
      requester: alice,
    });
    expect(forced.decision).toBe('awaiting_approval');
    expect(rt.overseer.approve(forced.requestId, alice)).toEqual({
      ok: false,
      code: 'refused',
      reason: 'the requester cannot approve their own request',
    });
    expect(rt.overseer.approve(forced.requestId, bob)).toEqual({ ok: true, status: 'approved' });
    const record = rt.store.requests.get(forced.requestId);
    expect(record?.history.map((h) => h.status)).toEqual([
      'received',
      'validating',
      'gating',
      'awaiting_approval',
      'approved',
    ]);
    expect(record?.history.at(-1)?.by).toBe('bob');
    expect(rt.store.audit.verify().ok).toBe(true);
    // Its events say who asked, and who approved it with their reason.
    const events = rt.events.filter((e) => e.subject.startsWith(`overseer.evt.req.${forced.requestId}.`));
    expect(events.map((e) => e.subject.split('.').at(-1))).toEqual([
      'validating',
      'gating',
      'awaiting_approval',
      'approved',
    ]);
    expect(events[0]?.payload).toMatchObject({ requester: { id: 'alice', role: 'admin' } });
    expect(events.at(-1)?.payload).toMatchObject({ requester: { id: 'alice' }, by: 'bob', status: 'approved' });
  });

  it('runtime - a cancellation’s event names who cancelled and why', async () => {
    rt = createRuntime();
    rt.overseer.observe(demoInventory());
    const { requestId } = await rt.overseer.submit({
      action: 'destroy',
      target: { cluster: 'lab', vmid: 114 },
      force: true,
      requester: alice,
    });
    expect(rt.overseer.cancel(requestId, alice, 'wrong VM')).toEqual({ ok: true, status: 'cancelled' });
    const cancelled = rt.events.find((e) => e.subject === `overseer.evt.req.${requestId}.cancelled`);
    expect(cancelled?.payload).toMatchObject({ requester: { id: 'alice' }, by: 'alice', note: 'wrong VM' });
  });

  it('runtime - a second request on a VM with an active one is denied as a conflict', async () => {
    rt = createRuntime();
    rt.overseer.observe(demoInventory());
    const first = await rt.overseer.submit({ action: 'stop', target: { cluster: 'lab', vmid: 101 }, requester: olga });
    expect(first.decision).toBe('approved');
    const [second, third] = await Promise.all([
      rt.overseer.submit({ action: 'reboot', target: { cluster: 'lab', vmid: 101 }, requester: olga }),
      rt.overseer.submit({ action: 'reboot', target: { cluster: 'lab', vmid: 101 }, requester: olga }),
    ]);
    expect(second?.decision).toBe('denied');
    expect(third?.decision).toBe('denied');
    expect(second?.reasons[0]).toContain(first.requestId);
  });

  it('runtime - an idempotency key returns the first answer', async () => {
    rt = createRuntime();
    rt.overseer.observe(demoInventory());
    const a = await rt.overseer.submit({
      action: 'start',
      target: { cluster: 'lab', vmid: 103 },
      requester: olga,
      idempotencyKey: 'k1',
    });
    const b = await rt.overseer.submit({
      action: 'start',
      target: { cluster: 'lab', vmid: 103 },
      requester: olga,
      idempotencyKey: 'k1',
    });
    expect(b).toMatchObject({ requestId: a.requestId, decision: a.decision, replayed: true });
    expect(rt.store.requests.list({}).length).toBe(1);
  });

  it('runtime - a retry that arrives while the first submission is still deciding gets its decision', async () => {
    rt = createRuntime();
    rt.overseer.observe(demoInventory());
    const submission = {
      action: 'start' as const,
      target: { cluster: 'lab', vmid: 103 },
      requester: olga,
      idempotencyKey: 'k2',
    };
    const [a, b] = await Promise.all([rt.overseer.submit(submission), rt.overseer.submit(submission)]);
    expect(a.decision).toBe('approved');
    expect(b).toMatchObject({ requestId: a.requestId, decision: 'approved', replayed: true });
  });

  it('runtime - a restart restores every actor and request in its state', async () => {
    rt = createRuntime();
    rt.overseer.observe(demoInventory());
    const waiting = await rt.overseer.submit({
      action: 'destroy',
      target: { cluster: 'lab', vmid: 114 },
      force: true,
      requester: alice,
    });
    const states = (h: RuntimeHarness) =>
      [...h.overseer.vms.entries()].map(([k, a]) => `${k}=${String(a.getSnapshot().value)}`).sort();
    const before = states(rt);
    rt = rt.reopen();
    const restored = rt.overseer.restore();
    expect(restored).toEqual({ vms: 9, hosts: 3, requests: 1, labs: 0 });
    expect(states(rt)).toEqual(before);
    // Restoring is not a state change: no VM logs a line for it.
    expect(rt.log.lines.filter((l) => l.includes(' vm:lab/'))).toEqual([]);
    expect(rt.overseer.requests.get(waiting.requestId)?.getSnapshot().value).toBe('awaiting_approval');
    // The restored request still holds its VM: a new request on it is a conflict.
    const again = await rt.overseer.submit({
      action: 'destroy',
      target: { cluster: 'lab', vmid: 114 },
      force: true,
      requester: bob,
    });
    expect(again.decision).toBe('denied');
  });

  it('runtime - a request recorded but killed before its first snapshot is gated afresh after a restart', async () => {
    rt = createRuntime();
    rt.overseer.observe(demoInventory());
    const spec = {
      id: 'interrupted',
      action: 'stop' as const,
      target: { cluster: 'lab', vmid: 101 },
      params: {},
      force: false,
      requester: olga,
      submittedAt: rt.clock.now(),
    };
    rt.store.requests.insert(spec, 'received');
    rt = rt.reopen();
    expect(rt.overseer.restore().requests).toBe(1);
    await flushMicrotasks();
    expect(rt.store.requests.get('interrupted')?.status).toBe('approved');
  });

  it('runtime - a request in flight whose snapshot is missing is reported after a restart', async () => {
    rt = createRuntime();
    rt.overseer.observe(demoInventory());
    const lost = await rt.overseer.submit({
      action: 'destroy',
      target: { cluster: 'lab', vmid: 114 },
      force: true,
      requester: alice,
    });
    expect(lost.decision).toBe('awaiting_approval');
    rt.overseer.flushRequests();
    rt = rt.reopen();
    expect(rt.store.snapshots.delete(`req:${lost.requestId}`)).toBe(true);
    expect(rt.overseer.restore().requests).toBe(0);
    expect(rt.log.lines.join('\n')).toContain(
      `request ${lost.requestId} is awaiting_approval but has no snapshot; it cannot be restored`,
    );
  });

  it('runtime - approval expires on time, also after a restart', async () => {
    rt = createRuntime({ config: { gate: { approvalTimeoutSeconds: 60 } } });
    rt.overseer.observe(demoInventory());
    const waiting = await rt.overseer.submit({
      action: 'destroy',
      target: { cluster: 'lab', vmid: 114 },
      force: true,
      requester: alice,
    });
    rt.clock.advance(30_000);
    rt = rt.reopen();
    rt.overseer.restore();
    await rt.overseer.startRequests();
    rt.clock.advance(29_999);
    expect(rt.store.requests.get(waiting.requestId)?.status).toBe('awaiting_approval');
    rt.clock.advance(1);
    await flushMicrotasks();
    expect(rt.store.requests.get(waiting.requestId)?.status).toBe('expired');
  });

  it('runtime - a partial or empty answer removes nothing; a VM missing twice from complete answers is gone', () => {
    rt = createRuntime();
    rt.overseer.observe(demoInventory());
    const without101 = demoVms().filter((v) => v.vmid !== 101);
    rt.overseer.observe(demoInventory({ vms: [], complete: true }));
    rt.overseer.observe(demoInventory({ vms: without101, complete: false }));
    rt.overseer.observe(demoInventory({ vms: without101, quorate: false }));
    expect(vmState(rt, 101)).toBe('running');
    rt.overseer.observe(demoInventory({ vms: without101 }));
    expect(vmState(rt, 101)).toBe('running');
    rt.overseer.observe(demoInventory({ vms: without101 }));
    expect(rt.overseer.view.vms.has('lab/101')).toBe(false);
    expect(rt.log.lines).toContain("2026-01-01T00:00:00.000Z vm:lab/101: state changed from 'running' to 'destroyed'");
  });

  it('runtime - VMs on an unreachable node become unknown; the others are untouched', () => {
    rt = createRuntime();
    rt.overseer.observe(demoInventory());
    const vms = demoVms().filter((v) => v.node !== 'pve2');
    rt.overseer.observe(demoInventory({ vms, complete: false, unreachableNodes: ['pve2'] }));
    expect(vmState(rt, 102)).toBe('unknown');
    expect(vmState(rt, 114)).toBe('unknown');
    expect(vmState(rt, 101)).toBe('running');
  });

  it('runtime - request ids are time-ordered UUIDs: each new one sorts after the one before', async () => {
    rt = createRuntime();
    rt.overseer.observe(demoInventory());
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const result = await rt.overseer.submit({
        action: 'destroy',
        target: { cluster: 'lab', vmid: 114 },
        requester: alice,
      });
      ids.push(result.requestId);
    }
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
