// What the gate asks the platform before its checks (actors/gate-facts.ts), and when it asks nothing: a snapshot's
// names for snapshot requests, the power state for requests the inventory says have nothing to do.
import { describe, expect, it } from 'vitest';
import type { PlatformFacts } from '../../actors/gate-facts';
import { gatherFacts, platformFacts, sharedReads } from '../../actors/gate-facts';
import type { Platform } from '../../adapters/platform/types';
import type { VmPowerStatus } from '../../machines/types';
import { gateInput, makeWorld, patchCluster, patchHost, vmRequest } from './fixtures';

/** Platform facts from a table, recording every question. */
function facts(
  answers: { snapshots?: string[] | Error; status?: VmPowerStatus | Error; backups?: Map<number, number> | Error } = {},
) {
  const asked: string[] = [];
  const source: PlatformFacts = {
    async snapshotNames(cluster, node, vmid) {
      asked.push(`snapshots ${cluster}/${vmid} on ${node}`);
      if (answers.snapshots instanceof Error) throw answers.snapshots;
      return answers.snapshots ?? [];
    },
    async powerStatus(cluster, node, vmid) {
      asked.push(`status ${cluster}/${vmid} on ${node}`);
      if (answers.status instanceof Error) throw answers.status;
      return answers.status ?? 'unknown';
    },
    async backups(cluster) {
      asked.push(`backups ${cluster}`);
      if (answers.backups instanceof Error) throw answers.backups;
      return { newest: answers.backups ?? new Map(), failedStorages: [] };
    },
  };
  return { source, asked };
}

const snapshot = (vmid: number) => vmRequest('snapshot', vmid, { params: { snapname: 'before' } });

describe('gate facts', () => {
  it('gate facts - a snapshot request lists its VM’s snapshots on the VM’s node', async () => {
    const { source, asked } = facts({ snapshots: ['nightly'] });
    const gathered = await gatherFacts(gateInput(snapshot(102)), source);
    expect(asked).toEqual(['snapshots lab/102 on pve2']);
    expect(gathered.snapshots?.get('lab/102')).toEqual({ names: ['nightly'] });
  });

  it('gate facts - a listing that fails is kept as its error, for the check to deny with', async () => {
    const { source } = facts({ snapshots: new Error('596 node unreachable') });
    const gathered = await gatherFacts(gateInput(snapshot(102)), source);
    expect(gathered.snapshots?.get('lab/102')).toEqual({ error: '596 node unreachable' });
  });

  it('gate facts - nothing is asked when an earlier check denies anyway, or nothing needs asking', async () => {
    const { source, asked } = facts();
    expect(await gatherFacts(gateInput(snapshot(999)), source)).toEqual({});
    const offline = makeWorld();
    patchHost(offline, 'pve2', { status: 'offline' });
    expect(await gatherFacts(gateInput(snapshot(102), offline), source)).toEqual({});
    const unreachable = makeWorld();
    patchCluster(unreachable, { reachable: false });
    expect(await gatherFacts(gateInput(snapshot(102), unreachable), source)).toEqual({});
    expect(await gatherFacts(gateInput(vmRequest('stop', 101)), source)).toEqual({});
    expect(asked).toEqual([]);
  });

  it('gate facts - a request with nothing to do by the inventory has its VM’s power state read', async () => {
    const { source, asked } = facts({ status: 'running' });
    const gathered = await gatherFacts(gateInput(vmRequest('stop', 102)), source);
    expect(asked).toEqual(['status lab/102 on pve2']);
    expect(gathered.powerStatus?.get('lab/102')).toBe('running');
  });

  it('gate facts - a power state that cannot be read is unknown: the request is decided as usual', async () => {
    const { source } = facts({ status: new Error('timeout') });
    const gathered = await gatherFacts(gateInput(vmRequest('stop', 102)), source);
    expect(gathered.powerStatus?.get('lab/102')).toBe('unknown');
  });

  it('gate facts - concurrent reads of one fact share one platform call; a later read asks again', async () => {
    let calls = 0;
    let release: (names: string[]) => void = () => {};
    const read = sharedReads(
      (vmid: number) => String(vmid),
      (_vmid: number) => {
        calls++;
        return new Promise<string[]>((r) => {
          release = r;
        });
      },
    );
    const first = read(101);
    const second = read(101);
    expect(calls).toBe(1);
    release(['a']);
    expect(await first).toEqual(['a']);
    expect(await second).toEqual(['a']);
    const third = read(101);
    expect(calls).toBe(2);
    release(['a', 'b']);
    expect(await third).toEqual(['a', 'b']);
  });

  it('gate facts - a failed shared read fails every decision waiting on it, and the next read asks again', async () => {
    let listed = 0;
    const platform = {
      listSnapshots: async () => {
        listed++;
        if (listed === 1) throw new Error('PVE said no');
        return [{ name: 'nightly' }];
      },
    } as unknown as Platform;
    const source = platformFacts(new Map([['lab', platform]]));
    const [a, b] = await Promise.allSettled([
      source.snapshotNames('lab', 'pve1', 101, 'qemu'),
      source.snapshotNames('lab', 'pve1', 101, 'qemu'),
    ]);
    expect([a.status, b.status]).toEqual(['rejected', 'rejected']);
    expect(listed).toBe(1);
    expect(await source.snapshotNames('lab', 'pve1', 101, 'qemu')).toEqual(['nightly']);
    // Another guest is another fact.
    await Promise.all([
      source.snapshotNames('lab', 'pve1', 101, 'qemu'),
      source.snapshotNames('lab', 'pve1', 102, 'qemu'),
    ]);
    expect(listed).toBe(4);
  });
});
