// Issue 11 in the runtime, the whole stack on the simulator (one simulated clock): snapshot retention deletes through
// the gate what a rule says and nothing else; a request on a guest being backed up waits for the backup instead of
// failing; a bulk request runs each member as its own request, exactly once, and a member request is covered only by
// a running parent that lists it.
import { afterEach, describe, expect, it } from 'vitest';
import { OVERSEER_ID } from '../../machines/types';
import { createSimStack, type SimStack } from '../helpers/sim-stack';

let stack: SimStack | undefined;
afterEach(async () => {
  await stack?.cleanup();
  stack = undefined;
});

const alice = { id: 'alice', role: 'admin' as const };

describe('runtime fleet execution', () => {
  it('retention - keeps the newest N snapshots of its prefix, deleting the rest by requests of the Overseer; others untouched', async () => {
    stack = await createSimStack({
      config: { snapshots: { retention: [{ vm: 'lab/111', keep: 1, prefix: 'auto' }] } },
    });
    const { sim, overseer, store } = stack;
    const vm = sim.state.vms.get(111);
    if (!vm) throw new Error('no VM 111 in the demo seed');
    for (const [i, name] of ['auto_1', 'auto_2', 'auto_3'].entries()) {
      vm.snapshots.push({ name, description: '', snaptime: 100 + i, vmstate: false, parent: undefined });
    }
    overseer.start();
    await stack.settle();
    await stack.advance(60_000);

    expect(vm.snapshots.map((s) => s.name).sort()).toEqual(['auto_3', 'before_upgrade']);
    const deletions = store.requests.list({ action: 'delsnapshot' });
    expect(deletions.map((r) => [r.params.snapname, r.status, r.requester.id, r.origin]).sort()).toEqual([
      ['auto_1', 'completed', OVERSEER_ID, 'overseer'],
      ['auto_2', 'completed', OVERSEER_ID, 'overseer'],
    ]);
  });

  it('backup lock - an approved request on a guest being backed up waits for the backup, then runs', async () => {
    stack = await createSimStack();
    const { sim, overseer, store } = stack;
    overseer.start();
    await stack.settle();
    sim.faults.lockVm(101, 'backup');
    await stack.advance(15_000);

    const answer = await overseer.submit({
      action: 'stop',
      target: { cluster: 'lab', vmid: 101 },
      params: {},
      force: false,
      requester: alice,
    });
    expect(answer.decision, answer.reasons.join('; ')).toBe('approved');
    expect(answer.checks.find((c) => c.check === 'conflicts')?.reason).toMatch(/backup/);
    await stack.advance(60_000);
    expect(store.requests.get(answer.requestId)?.status).toBe('executing');
    expect(sim.state.vms.get(101)?.status).toBe('running');
    expect(store.incidents.list({}).filter((i) => i.subject === 'vm:lab/101')).toEqual([]);

    sim.faults.lockVm(101, null);
    await stack.advance(30_000);
    expect(store.requests.get(answer.requestId)?.status).toBe('completed');
    expect(sim.state.vms.get(101)?.status).toBe('stopped');
  });

  it('bulk - each member of a selector runs as its own request, exactly once, and the parent completes', async () => {
    stack = await createSimStack();
    const { sim, overseer, store } = stack;
    overseer.start();
    await stack.settle();
    const answer = await overseer.submit({
      action: 'snapshot',
      target: { cluster: 'lab', selector: '@tag:db' },
      params: { snapname: 'pre-upgrade' },
      force: false,
      requester: alice,
    });
    expect(answer.decision, answer.reasons.join('; ')).toBe('approved');
    expect(answer.members?.map((m) => m.vmid)).toEqual([103, 104]);
    await stack.advance(60_000);

    expect(store.requests.get(answer.requestId)?.status).toBe('completed');
    const children = store.requests.list({ parent: answer.requestId });
    expect(children.map((c) => [c.id, c.target.vmid, c.status]).sort()).toEqual([
      [`${answer.requestId}-m103`, 103, 'completed'],
      [`${answer.requestId}-m104`, 104, 'completed'],
    ]);
    const snapshots = sim.oplog.filter((e) => e.op === 'snapshot' && e.result === 'OK').map((e) => e.vmid);
    expect(snapshots.sort()).toEqual([103, 104]);
  });

  it('re-check - a snapshot name taken while the request waited in the queue fails it before any platform call', async () => {
    stack = await createSimStack({
      config: { execution: { perNodeConcurrency: 1 } },
      taskDurations: { qmstop: 20_000 },
    });
    const { sim, overseer, store } = stack;
    overseer.start();
    await stack.settle();
    const submit = (action: 'stop' | 'snapshot', vmid: number, params: Record<string, unknown> = {}) =>
      overseer.submit({ action, target: { cluster: 'lab', vmid }, params, force: false, requester: alice });
    await submit('stop', 100); // holds pve1's only slot for 20 s
    const snapshot = await submit('snapshot', 103, { snapname: 'nightly' });
    expect(snapshot.decision).toBe('approved');
    sim.state.vms
      .get(103)
      ?.snapshots.push({ name: 'nightly', description: 'by hand', snaptime: 1, vmstate: false, parent: undefined });
    await stack.advance(60_000);
    const record = store.requests.get(snapshot.requestId);
    expect(record?.status).toBe('failed');
    expect(record?.error).toMatch(/before execution: .*already has a snapshot named 'nightly'/);
    expect(sim.oplog.filter((e) => e.op === 'snapshot' && e.vmid === 103)).toEqual([]);
  });

  it('containers - a deploy from an LXC template clones a container (hostname, vzclone) through the same execution', async () => {
    stack = await createSimStack();
    const { sim, overseer, store } = stack;
    overseer.start();
    await stack.settle();
    const answer = await overseer.submit({
      action: 'deploy',
      target: { cluster: 'lab' },
      params: { template: 9100, node: 'pve2', name: 'ct-new', full: true },
      force: false,
      requester: alice,
    });
    expect(answer.decision, answer.reasons.join('; ')).toBe('approved');
    await stack.advance(60_000);
    const record = store.requests.get(answer.requestId);
    expect(record?.status, record?.error).toBe('completed');
    const created = record?.taskIds[0]?.vmid as number;
    expect(sim.state.vms.get(created)).toMatchObject({ type: 'lxc', name: 'ct-new', node: 'pve2' });
    expect(record?.taskIds[0]?.upid).toContain(':vzclone:9100:');
    expect(overseer.view.vms.get(`lab/${created}`)?.type).toBe('lxc');
  });

  it('bulk - a dry run decides and expands, and records and runs nothing', async () => {
    stack = await createSimStack();
    const { sim, overseer, store } = stack;
    overseer.start();
    await stack.settle();
    const before = store.requests.count();
    const answer = await overseer.submit({
      action: 'stop',
      target: { cluster: 'lab', selector: '@pool:lab1,-109' },
      params: {},
      force: false,
      requester: alice,
      dryRun: true,
    });
    expect(answer).toMatchObject({ requestId: '', dryRun: true, decision: 'approved' });
    expect(answer.members?.map((m) => m.vmid)).toEqual([106]);
    await stack.advance(30_000);
    expect(store.requests.count()).toBe(before);
    expect(sim.oplog.filter((e) => e.op === 'stop')).toEqual([]);
  });
});
