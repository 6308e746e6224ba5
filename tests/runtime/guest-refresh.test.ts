// After a task that leaves its guest in place, that guest alone is read again (actors/guest-refresh.ts), not the
// whole cluster: on the PVE simulator (tests/helpers/sim-stack.ts, one simulated clock), with the sync loop's
// interval long enough that only a sync asked for would run. A name changed by hand on the simulator shows whether
// the cluster was synced (only an inventory carries it).
import { afterEach, describe, expect, it } from 'vitest';
import type { Inventory } from '../../adapters/platform/types';
import type { VmInfo } from '../../machines/types';
import { createSimStack, type SimStack } from '../helpers/sim-stack';

let stack: SimStack | undefined;
afterEach(async () => {
  await stack?.cleanup();
  stack = undefined;
});

const alice = { id: 'alice', role: 'admin' as const };
const TASK_MS = 5_000;

async function started(): Promise<SimStack> {
  stack = await createSimStack({
    config: { loops: { syncIntervalSeconds: 600 } },
    logLevel: 'warn',
    taskDurations: { qmsnapshot: TASK_MS, qmstop: TASK_MS, qmigrate: TASK_MS },
  });
  stack.overseer.start();
  await stack.settle();
  return stack;
}

function submit(s: SimStack, action: string, vmid: number, params: Record<string, unknown> = {}) {
  return s.overseer.submit({
    action: action as 'snapshot',
    target: { cluster: 'lab', vmid },
    params,
    force: false,
    requester: alice,
  });
}

/** Renames VM 101 on the simulator by hand: the view shows it only after a sync of the cluster. */
function renameByHand(s: SimStack): void {
  const vm = s.sim.state.vms.get(101);
  if (!vm) throw new Error('the demo seed has VM 101');
  vm.name = 'renamed-by-hand';
}

const synced = (s: SimStack) => s.overseer.view.vms.get('lab/101')?.name === 'renamed-by-hand';

describe('guest read back after its task', () => {
  it('sync - a snapshot is read back from its guest alone before it completes: no lock in the view, no cluster sync', async () => {
    const s = await started();
    const request = await submit(s, 'snapshot', 103, { snapname: 'before-upgrade' });
    expect(request.decision).toBe('approved');
    await s.advance(1_000);
    // A sync while the task runs: the view shows the guest locked.
    await s.overseer.syncAll();
    expect(s.overseer.view.vms.get('lab/103')?.lock).toBe('snapshot');
    renameByHand(s);
    // What the view says of the guest when the request completes.
    let atCompletion: VmInfo | undefined;
    s.overseer.requests.get(request.requestId)?.subscribe((snapshot) => {
      if (snapshot.value === 'completed') atCompletion ??= s.overseer.view.vms.get('lab/103');
    });
    await s.advance(TASK_MS + 2_000);
    expect(s.store.requests.get(request.requestId)?.status).toBe('completed');
    expect(atCompletion).toMatchObject({ status: 'running', lock: undefined, name: 'db-01' });
    expect(s.overseer.vms.get('lab/103')?.getSnapshot().value).toBe('running');
    expect(synced(s)).toBe(false);
    // A new request on the guest is not denied as locked (a dry run: decided, nothing run).
    const next = await s.overseer.submit({
      action: 'snapshot',
      target: { cluster: 'lab', vmid: 103 },
      params: { snapname: 'after-upgrade' },
      requester: alice,
      dryRun: true,
    });
    expect(next.decision).toBe('approved');
  });

  it('sync - a stop Overseer made is read back: the VM actor stops, the stop explained as the request', async () => {
    const s = await started();
    const request = await submit(s, 'stop', 100);
    expect(request.decision).toBe('approved');
    renameByHand(s);
    await s.advance(TASK_MS + 2_000);
    expect(s.store.requests.get(request.requestId)?.status).toBe('completed');
    expect(s.overseer.vms.get('lab/100')?.getSnapshot().value).toBe('stopped');
    expect(s.overseer.view.vms.get('lab/100')?.status).toBe('stopped');
    expect(synced(s)).toBe(false);
    expect(s.store.incidents.list({ subject: 'lab/100' })).toEqual([]);
  });

  it('sync - a read back that fails gives way to a sync of the cluster', async () => {
    const s = await started();
    s.sim.faults.httpError({ path: '^/nodes/pve1/qemu/103/status/current$', method: 'GET', status: 500, count: 10 });
    const request = await submit(s, 'snapshot', 103, { snapname: 'before-upgrade' });
    renameByHand(s);
    await s.advance(TASK_MS + 2_000);
    expect(s.store.requests.get(request.requestId)?.status).toBe('completed');
    expect(synced(s)).toBe(true);
    expect(s.overseer.view.vms.get('lab/103')?.lock).toBeUndefined();
    expect(s.lines.some((l) => /VM 103 could not be read after its task .*: a full sync instead/.test(l))).toBe(true);
  });

  it('sync - a migration moves its guest: the cluster is synced, not the guest read back', async () => {
    const s = await started();
    const request = await submit(s, 'migrate', 104, { target: 'pve1' });
    expect(request.decision).toBe('approved');
    renameByHand(s);
    await s.advance(TASK_MS + 2_000);
    expect(s.store.requests.get(request.requestId)).toMatchObject({ status: 'completed', error: undefined });
    expect(synced(s)).toBe(true);
    expect(s.overseer.view.vms.get('lab/104')?.node).toBe('pve1');
  });

  it('sync - an answer asked for before a guest was read back leaves the guest as the read found it', async () => {
    const s = await started();
    await submit(s, 'snapshot', 103, { snapname: 'before-upgrade' });
    await s.advance(1_000);
    const askedBefore = s.clock.now();
    await s.overseer.syncAll();
    // The answer that sync applied, the guest locked by its running task.
    const locked: Inventory = {
      cluster: 'lab',
      fetchedAt: askedBefore,
      quorate: true,
      complete: true,
      vms: [...s.overseer.view.vms.values()],
      hosts: [...s.overseer.view.hosts.values()],
      unreachableNodes: [],
    };
    expect(s.overseer.view.vms.get('lab/103')?.lock).toBe('snapshot');
    await s.advance(TASK_MS + 2_000);
    expect(s.overseer.view.vms.get('lab/103')?.lock).toBeUndefined();
    // Applied again as if asked for before the read back: the guest is left as read back.
    s.overseer.observe(locked, { askedAt: askedBefore });
    expect(s.overseer.view.vms.get('lab/103')?.lock).toBeUndefined();
    expect(s.overseer.vms.get('lab/103')?.getSnapshot().context.info.lock).toBeUndefined();
    // Asked for after it, the answer is the newer word.
    s.overseer.observe(locked, { askedAt: s.clock.now() });
    expect(s.overseer.view.vms.get('lab/103')?.lock).toBe('snapshot');
  });
});
