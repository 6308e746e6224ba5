// Issue 10, item 1: PVE hands out the lowest free VMID, so a destroyed VM's id comes back. A new VM behind a known
// id is a new actor, its history kept apart from the old one's; the gate and the VM list see the new VM.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ARCHIVED_VM_KIND, vmArchiveKey } from '../../actors/vm-archive';
import type { Inventory, Platform } from '../../adapters/platform/types';
import { demoInventory, demoVms } from '../helpers/inventory';
import type { RuntimeHarness } from '../helpers/runtime';
import { createRuntime } from '../helpers/runtime';
import type { Stack } from './helpers';
import { startStack } from './helpers';

let stack: Stack;
beforeEach(async () => {
  stack = await startStack();
});
afterEach(async () => {
  await stack?.stop();
});

describe('platform VMID reuse', () => {
  it('platform - after destroy lab/113 and a deploy that cloned into 113, 113 is a new stopped VM actor', async () => {
    const { overseer, store, sim } = stack;
    const destroyed = await stack.submit({ action: 'destroy', target: { cluster: 'lab', vmid: 113 } });
    expect(destroyed.decision, destroyed.reasons.join('; ')).toBe('approved');
    expect((await stack.settled(destroyed.requestId)).status).toBe('completed');
    await stack.sync();
    expect(stack.vmStates()['lab/113']).toBe('destroyed');
    expect(overseer.view.vms.has('lab/113')).toBe(false);

    // The lowest free VMID is 113 again.
    const deployed = await stack.submit({
      action: 'deploy',
      target: { cluster: 'lab' },
      params: { template: 9000, node: 'pve3', name: 'reuse-test' },
    });
    expect(deployed.decision, deployed.reasons.join('; ')).toBe('approved');
    const record = await stack.settled(deployed.requestId);
    expect(record.status, record.error).toBe('completed');
    expect(sim.state.vms.get(113)?.name).toBe('reuse-test');

    const reports = await stack.sync();
    expect(reports[0]).toMatchObject({ ok: true, missing: 0 });
    const actor = overseer.vms.get('lab/113');
    expect(actor?.getSnapshot().value).toBe('stopped');
    expect(actor?.getSnapshot().context.info).toMatchObject({ name: 'reuse-test', node: 'pve3' });
    // Its history starts with it: the old VM's last operation (the destroy) is not the new one's.
    expect(actor?.getSnapshot().context.lastOperation).toBeUndefined();
    expect(store.inventory.getVm('lab', 113)?.state).toBe('stopped');

    // The old VM's snapshot is kept apart, under its own key.
    const archived = [...store.snapshots.listByKind('vm-archived')];
    expect(archived.map((r) => r.actorId)).toEqual([`vm:${vmArchiveKey('lab/113', 1)}`]);
    expect(archived[0]?.snapshot).toMatchObject({ value: 'destroyed', context: { info: { name: 'sandbox' } } });

    // A second sync finds nothing missing, and the gate judges requests against the new VM.
    expect((await stack.sync())[0]).toMatchObject({ ok: true, missing: 0 });
    const start = await stack.submit({ action: 'start', target: { cluster: 'lab', vmid: 113 } });
    expect(start.decision, start.reasons.join('; ')).toBe('approved');
    expect((await stack.settled(start.requestId)).status).toBe('completed');
    expect(sim.state.vms.get(113)?.status).toBe('running');
  });

  it('platform - a request against a destroyed VMID that no VM took again is denied: the VM is not there', async () => {
    const destroyed = await stack.submit({ action: 'destroy', target: { cluster: 'lab', vmid: 113 } });
    expect((await stack.settled(destroyed.requestId)).status).toBe('completed');
    await stack.sync();
    const start = await stack.submit({ action: 'start', target: { cluster: 'lab', vmid: 113 } });
    expect(start.decision).toBe('denied');
    expect(start.reasons.join('; ')).toMatch(/113/);
  });
});

describe('VMID reuse in the sync', () => {
  const destroy = (rt: RuntimeHarness, vmid: number) => {
    const actor = rt.overseer.vms.get(`lab/${vmid}`);
    actor?.send({ type: 'OPERATION_STARTED', requestId: 'rd', action: 'destroy' });
    actor?.send({ type: 'OPERATION_ENDED', requestId: 'rd', ok: true });
    expect(actor?.getSnapshot().value).toBe('destroyed');
  };
  const reused = (at: number) =>
    demoInventory({ at, vms: demoVms({ 103: { name: 'reuse-test', node: 'pve3', status: 'stopped' } }) });

  it('sync - an answer asked for before the destroy ended lists the old VM: it stays destroyed; the next makes a new actor', async () => {
    let answer: ((inventory: Inventory) => void) | undefined;
    const platform = {
      cluster: 'lab',
      inventory: () =>
        new Promise<Inventory>((resolve) => {
          answer = resolve;
        }),
      recentTasks: async () => [],
    } as unknown as Platform;
    const rt = createRuntime({ platforms: new Map([['lab', platform]]) });
    try {
      rt.overseer.observe(demoInventory({ at: rt.clock.now() }));
      // A sync asks; meanwhile the destroy of 103 ends; then the (stale) answer arrives, still listing 103.
      const stale = rt.overseer.syncAll();
      destroy(rt, 103);
      answer?.(demoInventory({ at: rt.clock.now() }));
      await stale;
      expect(rt.overseer.lastSyncReports[0]).toMatchObject({ ok: true, renewed: 0, missing: 0 });
      expect(rt.overseer.vms.get('lab/103')?.getSnapshot().value).toBe('destroyed');
      expect(rt.overseer.view.vms.has('lab/103')).toBe(false);

      // Asked for after the destroy: 103 in the answer is a new VM.
      const fresh = rt.overseer.syncAll();
      answer?.(reused(rt.clock.now()));
      await fresh;
      expect(rt.overseer.lastSyncReports[0]).toMatchObject({ ok: true, renewed: 1, created: 1, missing: 0 });
      expect(rt.overseer.vms.get('lab/103')?.getSnapshot().value).toBe('stopped');
      expect(rt.overseer.view.vms.get('lab/103')?.name).toBe('reuse-test');
      rt.overseer.stop();
      expect(rt.store.snapshots.get(`vm:${vmArchiveKey('lab/103', 1)}`)?.snapshot).toMatchObject({
        value: 'destroyed',
      });
      expect(rt.store.snapshots.get('vm:lab/103')?.snapshot).toMatchObject({ value: 'stopped' });
    } finally {
      rt.close();
    }
  });

  it('sync - after a restart the destroyed VM is archived; a new VM behind its VMID is a new actor', () => {
    let rt = createRuntime();
    try {
      rt.overseer.observe(demoInventory({ at: rt.clock.now() }));
      destroy(rt, 103);
      rt = rt.reopen();
      rt.overseer.restore();
      expect(rt.overseer.vms.has('lab/103')).toBe(false);
      expect(rt.store.snapshots.get('vm:lab/103')).toBeUndefined();
      expect(rt.store.snapshots.get(`vm:${vmArchiveKey('lab/103', 1)}`)?.snapshot).toMatchObject({
        value: 'destroyed',
        context: { info: { name: 'db1' } },
      });
      const report = rt.overseer.observe(reused(rt.clock.now()));
      expect(report).toMatchObject({ created: 1, missing: 0 });
      expect(rt.overseer.vms.get('lab/103')?.getSnapshot().context.info.name).toBe('reuse-test');
      // A second reuse keeps each destroyed VM apart.
      destroy(rt, 103);
      rt.overseer.observe(reused(rt.clock.now()));
      rt.overseer.stop();
      expect([...rt.store.snapshots.listByKind(ARCHIVED_VM_KIND)].map((r) => r.actorId)).toEqual([
        `vm:${vmArchiveKey('lab/103', 1)}`,
        `vm:${vmArchiveKey('lab/103', 2)}`,
      ]);
    } finally {
      rt.close();
    }
  });
});
