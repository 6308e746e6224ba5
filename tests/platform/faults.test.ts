// Issue 3 acceptance: platform faults as the running Overseer meets them through the Proxmox adapter. An offline
// node or a lost quorum denies mutating requests with the reason; a failed or empty sync deletes nothing; lock
// timeouts and 596 answers are retried and reported, never crashed on.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Submission } from '../../actors/overseer';
import type { Stack } from './helpers';
import { startStack } from './helpers';

let stack: Stack;
beforeEach(async () => {
  stack = await startStack();
});
afterEach(async () => {
  await stack?.stop();
});

const vm = (vmid: number) => ({ cluster: 'lab', vmid });
/** VMs of the demo seed per node. */
const ON_PVE2 = [101, 104, 105, 109, 112, 115, 9100, 302];

/** One mutating request of every kind, on VMs of `node`'s choice. */
function mutating(vmids: { running: number; stopped: number }, node: string): Omit<Submission, 'requester'>[] {
  return [
    { action: 'start', target: vm(vmids.stopped) },
    { action: 'stop', target: vm(vmids.running) },
    { action: 'shutdown', target: vm(vmids.running) },
    { action: 'reboot', target: vm(vmids.running) },
    { action: 'snapshot', target: vm(vmids.running), params: { snapname: 'nope' } },
    { action: 'destroy', target: vm(vmids.stopped) },
    { action: 'deploy', target: { cluster: 'lab' }, params: { template: 9000, node, name: 'nope' } },
  ];
}

/** Every VM actor with its state and what it knows, to compare before and after a fault. */
function vmSnapshot(s: Stack) {
  return Object.fromEntries(
    [...s.overseer.vms.entries()].map(([k, a]) => {
      const snap = a.getSnapshot();
      return [k, { state: String(snap.value), status: snap.context.info.status, missing: snap.context.missing }];
    }),
  );
}

describe('platform faults', () => {
  it('platform - node pve2 offline: its VMs become unknown, the rest untouched, requests on pve2 denied', async () => {
    const before = vmSnapshot(stack);
    stack.sim.faults.nodeOffline('pve2');
    const [report] = await stack.sync();
    expect(report).toMatchObject({ ok: true, complete: false, quorate: true, unreachableNodes: ['pve2'] });

    const after = vmSnapshot(stack);
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    for (const [key, was] of Object.entries(before)) {
      const vmid = Number(key.split('/')[1]);
      if (ON_PVE2.includes(vmid)) expect(after[key], key).toMatchObject({ state: 'unknown', status: 'unknown' });
      else expect(after[key], key).toEqual(was);
    }
    expect(stack.overseer.hosts.get('lab/pve2')?.getSnapshot().context.info.status).toBe('offline');

    const oplogBefore = stack.sim.oplog.length;
    for (const s of mutating({ running: 101, stopped: 104 }, 'pve2')) {
      const r = await stack.submit(s);
      expect(r.decision, s.action).toBe('denied');
      expect(r.reasons, s.action).toContain('node pve2 is offline');
      expect(stack.store.requests.get(r.requestId)?.reasons).toContain('node pve2 is offline');
    }
    // Other nodes still work.
    const ok = await stack.submit({ action: 'start', target: vm(102) });
    expect(ok.decision, ok.reasons.join('; ')).toBe('approved');
    expect((await stack.settled(ok.requestId)).status).toBe('completed');
    expect(
      stack.sim.oplog
        .slice(oplogBefore)
        .filter((e) => e.result === 'started')
        .map((e) => e.vmid),
    ).toEqual([102]);

    // Back online: the next sync brings its VMs back to what they are.
    stack.sim.faults.nodeOffline('pve2', false);
    await stack.sync();
    expect(vmSnapshot(stack)['lab/101']).toMatchObject({ state: 'running', status: 'running' });
  });

  it('platform - quorum lost: every mutating request is denied with the reason, on every node', async () => {
    stack.sim.faults.quorumLoss();
    const [report] = await stack.sync();
    expect(report).toMatchObject({ ok: true, quorate: false });
    const oplogBefore = stack.sim.oplog.length;
    const reason = 'cluster lab has lost quorum: no mutating operation';
    const all = [
      ...mutating({ running: 100, stopped: 108 }, 'pve1'),
      ...mutating({ running: 101, stopped: 104 }, 'pve2'),
      ...mutating({ running: 106, stopped: 102 }, 'pve3'),
    ];
    for (const s of all) {
      const r = await stack.submit(s);
      expect(r.decision, `${s.action} ${s.target.vmid}`).toBe('denied');
      expect(r.reasons, `${s.action} ${s.target.vmid}`).toContain(reason);
    }
    expect(stack.sim.oplog.length).toBe(oplogBefore);
    // The VMs are still known as they were: a non-quorate answer removes nothing.
    expect(Object.values(stack.vmStates()).filter((s) => s === 'destroyed')).toEqual([]);
    expect(stack.overseer.vms.size).toBe(stack.sim.state.vms.size);
  });

  it('platform - a sync answered 500, 596 or with an empty list deletes nothing', async () => {
    const before = vmSnapshot(stack);
    const oplogBefore = stack.sim.oplog.length;
    const expectNothingDeleted = (what: string) => {
      const now = vmSnapshot(stack);
      expect(Object.keys(now).sort(), what).toEqual(Object.keys(before).sort());
      for (const [key, v] of Object.entries(now)) {
        expect(v.state, `${what}: ${key}`).not.toBe('destroyed');
        expect(v.missing, `${what}: ${key}`).toBe(0);
      }
      expect(stack.overseer.view.vms.size, what).toBe(Object.keys(before).length);
      expect(stack.sim.oplog.length, what).toBe(oplogBefore);
    };

    // Each fault lasts (far) longer than the syncs below, so the running sync loop cannot use it up.
    stack.sim.faults.httpError({ path: '^/cluster/resources$', status: 500, count: 1_000 });
    for (let i = 0; i < 3; i++) {
      const [report] = await stack.sync();
      expect(report).toMatchObject({ ok: false });
      expect(report?.error).toMatch(/500/);
    }
    expect(stack.overseer.view.clusters.get('lab')?.reachable).toBe(false);
    expectNothingDeleted('500');
    const denied = await stack.submit({ action: 'stop', target: vm(100) });
    expect(denied.reasons).toContain('cluster lab is unreachable (its last inventory read failed)');

    stack.sim.faults.reset();
    stack.sim.faults.httpError({
      path: '^/cluster/resources$',
      status: 596,
      message: 'Connection timed out',
      count: 1_000,
    });
    for (let i = 0; i < 3; i++) {
      const [report] = await stack.sync();
      expect(report).toMatchObject({ ok: false });
      expect(report?.error).toMatch(/596/);
    }
    expectNothingDeleted('596');

    stack.sim.faults.reset();
    stack.sim.faults.emptyResources(-1);
    for (let i = 0; i < 3; i++) {
      const [report] = await stack.sync();
      expect(report).toMatchObject({ ok: true, complete: false, vms: 0, missing: 0 });
    }
    expectNothingDeleted('empty');
    expect(stack.log.lines.some((l) => /nothing removed because/.test(l))).toBe(true);

    stack.sim.faults.reset();
    const [report] = await stack.sync();
    expect(report).toMatchObject({ ok: true, complete: true, vms: stack.sim.state.vms.size });
    expectNothingDeleted('recovered');
  });

  it('platform - lock timeouts are retried: a stop of 101 after two completes, with the retries logged', async () => {
    stack.sim.faults.lockTimeout(101, 2);
    const r = await stack.submit({ action: 'stop', target: vm(101) });
    expect(r.decision, r.reasons.join('; ')).toBe('approved');
    const record = await stack.settled(r.requestId);
    expect(record.status, record.error).toBe('completed');
    expect(stack.sim.state.vms.get(101)?.status).toBe('stopped');
    // Three stop tasks: two ended on the lock timeout (and did nothing), the third stopped the VM.
    const results = stack.sim.oplog.filter((e) => e.op === 'stop' && e.vmid === 101 && e.result !== 'started');
    expect(results.map((e) => e.result)).toEqual([
      "can't lock file '/var/lock/qemu-server/lock-101.conf' - got timeout",
      "can't lock file '/var/lock/qemu-server/lock-101.conf' - got timeout",
      'OK',
    ]);
    const retries = stack.log.lines.filter((l) => l.includes(`req:${r.requestId}`) && l.includes('lock timeout'));
    expect(retries).toHaveLength(2);
    expect(retries[0]).toMatch(/warn: .*stop lab\/101 failed on a lock timeout .*retry 1\//);
  });

  it('platform - a clone task that timed out on its lock (PVE 7.2+ locks after forking) is issued again: one VM results', async () => {
    stack.sim.faults.lockTimeout(9000, 2);
    const r = await stack.submit({
      action: 'deploy',
      target: { cluster: 'lab' },
      params: { template: 9000, node: 'pve1', name: 'locked-out' },
    });
    const record = await stack.settled(r.requestId);
    expect(record.status, record.error).toBe('completed');
    // Two tasks failed on the lock (they changed nothing), the third cloned.
    expect(stack.started('clone', 9000)).toBe(3);
    expect([...stack.sim.state.vms.values()].filter((v) => v.name === 'locked-out')).toHaveLength(1);
  });

  it('platform - a permanent lock timeout fails the request with the PVE message; the process keeps running', async () => {
    stack.sim.faults.lockTimeout(101, 1_000);
    const r = await stack.submit({ action: 'stop', target: vm(101) });
    // Every retry after a lock timeout waits longer (LOCK_TIMEOUT_RETRY): about 16 s before the request gives up.
    const record = await stack.settled(r.requestId, 40_000);
    expect(record.status).toBe('failed');
    expect(record.error).toContain("can't lock file '/var/lock/qemu-server/lock-101.conf' - got timeout");
    expect(stack.sim.state.vms.get(101)?.status).toBe('running');
    expect(stack.overseer.rootSnapshot?.status).toBe('active');

    // Still at work: the VM is free again, and another request runs.
    stack.sim.faults.reset();
    const next = await stack.submit({ action: 'stop', target: vm(101) });
    expect(next.decision, next.reasons.join('; ')).toBe('approved');
    expect((await stack.settled(next.requestId)).status).toBe('completed');
    expect(stack.sim.state.vms.get(101)?.status).toBe('stopped');
  }, 45_000);

  it('platform - a 596 from the node while waiting on a task is tolerated; the request completes', async () => {
    stack.sim.faults.slowTasks(4, 'qmstop');
    stack.sim.faults.httpError({
      path: '^/nodes/pve2/tasks/[^/]+/status$',
      method: 'GET',
      status: 596,
      message: 'Connection timed out',
      count: 2,
    });
    const r = await stack.submit({ action: 'stop', target: vm(101) });
    const record = await stack.settled(r.requestId);
    expect(record.status, record.error).toBe('completed');
    expect(stack.started('stop', 101)).toBe(1);
    expect(stack.sim.faults.view().httpErrors).toEqual([]);
    const polls = stack.log.lines.filter((l) => /polling UPID:pve2:.*failed .*596.*will poll again/.test(l));
    expect(polls).toHaveLength(2);
  }, 45_000);

  it('platform - a 596 answering the stop POST: the request looks before it issues again, one stop, completed', async () => {
    stack.sim.faults.httpError({
      path: '^/nodes/pve2/qemu/101/status/stop$',
      method: 'POST',
      status: 596,
      message: 'Connection timed out',
      count: 1,
    });
    const r = await stack.submit({ action: 'stop', target: vm(101) });
    const record = await stack.settled(r.requestId);
    expect(record.status, record.error).toBe('completed');
    expect(stack.started('stop', 101)).toBe(1);
    expect(stack.log.lines.some((l) => /no answer \(.*596.*\); looking whether it was done/.test(l))).toBe(true);
  });

  it('platform - a 596 answering a clone POST: the clone is looked for by its name, then made once', async () => {
    stack.sim.faults.httpError({
      path: '^/nodes/pve1/qemu/9000/clone$',
      method: 'POST',
      status: 596,
      message: 'Connection timed out',
      count: 1,
    });
    const r = await stack.submit({
      action: 'deploy',
      target: { cluster: 'lab' },
      params: { template: 9000, node: 'pve1', name: 'after-596' },
    });
    const record = await stack.settled(r.requestId);
    expect(record.status, record.error).toBe('completed');
    const clones = stack.sim.oplog.filter((e) => e.op === 'clone' && e.result === 'OK');
    expect(clones).toHaveLength(1);
    expect([...stack.sim.state.vms.values()].filter((v) => v.name === 'after-596')).toHaveLength(1);
  });
});
