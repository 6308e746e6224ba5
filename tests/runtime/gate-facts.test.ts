// The gate catches what execution would refuse, on the PVE simulator over HTTP (tests/helpers/sim-stack.ts): a
// snapshot name already used on the VM is denied at the gate (the names are listed from the platform first), and a
// stop of a stopped VM is answered "nothing to do" — in both cases without a platform operation.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Requester } from '../../machines/types';
import { TERMINAL_REQUEST_STATUSES } from '../../machines/types';
import type { SimStack } from '../helpers/sim-stack';
import { createSimStack } from '../helpers/sim-stack';

const alice: Requester = { id: 'alice', role: 'admin', name: 'alice', person: 'alice' };
const vm = (vmid: number) => ({ cluster: 'lab', vmid });

let stack: SimStack;
beforeEach(async () => {
  stack = await createSimStack();
  stack.overseer.start();
  await stack.settle();
});
afterEach(async () => {
  await stack?.cleanup();
});

/** Lets simulated time pass until the request has ended; its stored record. */
async function ended(id: string) {
  const done = () => TERMINAL_REQUEST_STATUSES.has(stack.store.requests.get(id)?.status ?? 'received');
  expect(await stack.advanceUntil(done, 120_000), `request ${id} ended`).toBe(true);
  return stack.store.requests.get(id)!;
}

/** Platform operations the simulator started (snapshot, stop, ...) on one VM. */
const ops = (op: string, vmid: number) =>
  stack.sim.oplog.filter((e) => e.op === op && e.vmid === vmid && e.result === 'started');

describe('gate facts on the simulator', () => {
  it('snapshot name - taking snapshot "before" twice: the second is denied at the gate, with no platform call', async () => {
    const first = await stack.overseer.submit({
      action: 'snapshot',
      target: vm(103),
      params: { snapname: 'before' },
      requester: alice,
    });
    expect(first.decision, first.reasons.join('; ')).toBe('approved');
    expect(first.checks.find((c) => c.check === 'snapshotName')).toEqual({
      check: 'snapshotName',
      outcome: 'pass',
      reason: "VM lab/103 (db-01) has no snapshot named 'before' yet",
    });
    expect((await ended(first.requestId)).status).toBe('completed');
    expect(stack.sim.state.vms.get(103)?.snapshots.map((s) => s.name)).toEqual(['before']);
    expect(ops('snapshot', 103)).toHaveLength(1);

    const second = await stack.overseer.submit({
      action: 'snapshot',
      target: vm(103),
      params: { snapname: 'before' },
      requester: alice,
    });
    expect(second).toMatchObject({
      decision: 'denied',
      status: 'denied',
      reasons: ["VM lab/103 (db-01) already has a snapshot named 'before'"],
    });
    await stack.advance(30_000);
    expect(stack.store.requests.get(second.requestId)?.status).toBe('denied');
    expect(ops('snapshot', 103)).toHaveLength(1);
  });

  it('snapshot name - a name seeded on the platform before Overseer ran is found too', async () => {
    const result = await stack.overseer.submit({
      action: 'snapshot',
      target: vm(111),
      params: { snapname: 'before_upgrade' },
      requester: alice,
    });
    expect(result.reasons).toEqual(["VM lab/111 (monitoring) already has a snapshot named 'before_upgrade'"]);
    expect(ops('snapshot', 111)).toHaveLength(0);
  });

  it('snapshot name - when the platform cannot list the snapshots, the request is denied with the error', async () => {
    stack.sim.faults.httpError({
      path: '^/nodes/pve1/qemu/103/snapshot$',
      method: 'GET',
      status: 500,
      count: 1,
      message: 'unable to read VM config',
    });
    const result = await stack.overseer.submit({
      action: 'snapshot',
      target: vm(103),
      params: { snapname: 'nightly' },
      requester: alice,
    });
    expect(result.decision).toBe('denied');
    expect(result.reasons).toHaveLength(1);
    expect(result.reasons[0]).toMatch(
      /^could not list the snapshots of VM lab\/103 \(db-01\): .*unable to read VM config/,
    );
    expect(ops('snapshot', 103)).toHaveLength(0);
  });

  it('nothing to do - a stop of a stopped VM ends as nothing_to_do, without a platform call or a hold', async () => {
    const result = await stack.overseer.submit({ action: 'stop', target: vm(102), requester: alice });
    expect(result).toMatchObject({
      decision: 'nothing_to_do',
      status: 'nothing_to_do',
      reasons: ['VM lab/102 is already stopped'],
    });
    await stack.advance(30_000);
    const record = stack.store.requests.get(result.requestId)!;
    expect(record.status).toBe('nothing_to_do');
    expect(record.decision).toBe('nothing_to_do');
    expect(record.history.map((h) => h.status)).toEqual(['received', 'validating', 'gating', 'nothing_to_do']);
    expect(ops('stop', 102)).toHaveLength(0);
    expect(stack.overseer.view.activeRequests.has('lab/102')).toBe(false);

    // A start of the same VM has work to do, and is approved and run.
    const start = await stack.overseer.submit({ action: 'start', target: vm(102), requester: alice });
    expect(start.decision, start.reasons.join('; ')).toBe('approved');
    expect((await ended(start.requestId)).status).toBe('completed');
    expect(ops('start', 102)).toHaveLength(1);
  });

  it('nothing to do - an inventory behind the platform is not believed: the platform’s state decides', async () => {
    // VM 100 died on the platform; no sync has run since, so the inventory still says running.
    stack.sim.faults.crashVm(100);
    expect(stack.overseer.view.vms.get('lab/100')?.status).toBe('running');
    const start = await stack.overseer.submit({ action: 'start', target: vm(100), requester: alice });
    expect(start.decision, start.reasons.join('; ')).toBe('approved');
    expect(start.reasons).toEqual([]);
  });

  it('nothing to do - when the platform cannot confirm the state, the request is decided as usual', async () => {
    stack.sim.faults.httpError({ path: '^/nodes/pve3/qemu/102/status/current$', method: 'GET', status: 500, count: 1 });
    const stop = await stack.overseer.submit({ action: 'stop', target: vm(102), requester: alice });
    expect(stop.decision, stop.reasons.join('; ')).toBe('approved');
  });

  it('nothing to do - a start of a running VM is nothing to do too', async () => {
    const result = await stack.overseer.submit({ action: 'start', target: vm(100), requester: alice });
    expect(result).toMatchObject({ decision: 'nothing_to_do', reasons: ['VM lab/100 is already running'] });
    expect(ops('start', 100)).toHaveLength(0);
  });
});
