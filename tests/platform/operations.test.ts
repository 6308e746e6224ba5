// Issue 3 acceptance: every operation, submitted to the Overseer runtime, changes the simulated cluster through
// the Proxmox adapter (proxmox-api over HTTPS with a pinned CA) exactly once.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Stack } from './helpers';
import { startStack, until } from './helpers';

let stack: Stack;
beforeEach(async () => {
  stack = await startStack();
});
afterEach(async () => {
  await stack?.stop();
});

const vm = (vmid: number) => ({ cluster: 'lab', vmid });

describe('platform operations', () => {
  it('platform - deploy clones template 9000 twice onto pve2; after a sync both are VM actors', async () => {
    const { sim } = stack;
    const before = new Set(sim.state.vms.keys());
    const submitted = await stack.submit({
      action: 'deploy',
      target: { cluster: 'lab' },
      params: { template: 9000, node: 'pve2', name: 'web-new', count: 2 },
    });
    expect(submitted.decision, submitted.reasons.join('; ')).toBe('approved');
    const record = await stack.settled(submitted.requestId);
    expect(record.status, record.error).toBe('completed');
    expect(record.taskIds).toHaveLength(2);

    const created = [...sim.state.vms.values()].filter((v) => !before.has(v.vmid));
    expect(
      created.map((v) => ({ name: v.name, node: v.node, lock: v.lock })).sort((a, b) => (a.name < b.name ? -1 : 1)),
    ).toEqual([
      { name: 'web-new-1', node: 'pve2', lock: undefined },
      { name: 'web-new-2', node: 'pve2', lock: undefined },
    ]);
    const clones = sim.oplog.filter((e) => e.op === 'clone' && e.result === 'started');
    expect(clones).toHaveLength(2);
    expect(clones.map((e) => e.detail?.newid).sort()).toEqual(created.map((v) => v.vmid).sort());
    expect(sim.oplog.filter((e) => e.op === 'clone' && e.result === 'OK')).toHaveLength(2);

    await stack.sync();
    for (const v of created) {
      const actor = stack.overseer.vms.get(`lab/${v.vmid}`);
      expect(actor, `vm:lab/${v.vmid}`).toBeDefined();
      expect(actor?.getSnapshot().value).toBe('stopped');
      expect(actor?.getSnapshot().context.info).toMatchObject({ name: v.name, node: 'pve2' });
    }
  });

  it('platform - start, stop, shutdown, reboot, snapshot and destroy each change the simulator once', async () => {
    const { sim } = stack;
    const bootedAt = sim.state.vms.get(100)?.startedAt;
    const submissions = [
      { action: 'start', target: vm(102) },
      { action: 'stop', target: vm(101) },
      { action: 'shutdown', target: vm(106) },
      { action: 'reboot', target: vm(100) },
      { action: 'snapshot', target: vm(103), params: { snapname: 'pre_upgrade', description: 'acceptance' } },
      { action: 'destroy', target: vm(113) },
    ] as const;
    const results = await Promise.all(submissions.map((s) => stack.submit({ ...s })));
    for (const [i, r] of results.entries()) {
      expect(r.decision, `${submissions[i]?.action}: ${r.reasons.join('; ')}`).toBe('approved');
    }
    const records = await Promise.all(results.map((r) => stack.settled(r.requestId)));
    for (const [i, r] of records.entries()) expect(r.status, `${submissions[i]?.action}: ${r.error}`).toBe('completed');

    // The simulator's state changed...
    expect(sim.state.vms.get(102)?.status).toBe('running');
    expect(sim.state.vms.get(101)?.status).toBe('stopped');
    expect(sim.state.vms.get(106)?.status).toBe('stopped');
    expect(sim.state.vms.get(100)?.status).toBe('running');
    expect(sim.state.vms.get(100)?.startedAt).toBeGreaterThan(bootedAt ?? Number.POSITIVE_INFINITY);
    expect(sim.state.vms.get(103)?.snapshots.map((s) => s.name)).toContain('pre_upgrade');
    expect(sim.state.vms.has(113)).toBe(false);

    // ...and each operation was issued exactly once (the stopped 113 needed no stop before its destroy).
    for (const [op, vmid] of [
      ['start', 102],
      ['stop', 101],
      ['shutdown', 106],
      ['reboot', 100],
      ['snapshot', 103],
      ['destroy', 113],
    ] as const) {
      expect(stack.started(op, vmid), `${op} ${vmid}`).toBe(1);
    }
    expect(sim.oplog.filter((e) => e.result === 'started')).toHaveLength(6);
    expect(sim.oplog.filter((e) => e.result !== 'started' && e.result !== 'OK')).toEqual([]);

    // The VM actors follow: the destroyed VM's actor ended, the others show the platform's state after a sync.
    await stack.sync();
    await until(
      () => stack.vmStates()['lab/101'] === 'stopped' && stack.vmStates()['lab/102'] === 'running',
      5_000,
      () => JSON.stringify(stack.vmStates()),
    );
    const states = stack.vmStates();
    expect(states).toMatchObject({
      'lab/100': 'running',
      'lab/101': 'stopped',
      'lab/102': 'running',
      'lab/103': 'running',
      'lab/106': 'stopped',
    });
    expect(states['lab/113'] ?? 'destroyed').toBe('destroyed');
    expect(stack.overseer.view.vms.has('lab/113')).toBe(false);
  });

  it('platform - destroy of a running VM stops it first, then deletes it: one stop, one destroy', async () => {
    const { sim } = stack;
    const r = await stack.submit({ action: 'destroy', target: vm(106) });
    expect(r.decision, r.reasons.join('; ')).toBe('approved');
    const record = await stack.settled(r.requestId);
    expect(record.status, record.error).toBe('completed');
    expect(sim.state.vms.has(106)).toBe(false);
    expect(stack.started('stop', 106)).toBe(1);
    expect(stack.started('destroy', 106)).toBe(1);
  });
});
