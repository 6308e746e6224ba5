import { describe, expect, it } from 'vitest';
import type { VmInfo } from '../../machines/types';
import type { StateStore } from '../../state';
import { hostInfo, openStore, vmInfo } from './helpers';

interface VmRow {
  info: VmInfo;
  state: string;
  at: number;
}

/** VMs stored as the VM actors store them: one snapshot row each (actors/entity-actors.ts). */
function saveVms(store: StateStore, rows: readonly VmRow[]): void {
  store.snapshots.saveMany(
    rows.map(({ info, state, at }) => ({
      actorId: `vm:${info.cluster}/${info.vmid}`,
      kind: 'vm',
      snapshot: {
        status: 'active',
        value: state,
        historyValue: {},
        context: { info, lastSeen: at, missing: 0 },
        children: {},
      },
      at,
    })),
  );
}

describe('inventory', () => {
  it('inventory - a VM reads as its actor snapshot says, replaced with it', () => {
    const store = openStore();
    const { inventory } = store;
    saveVms(store, [{ info: vmInfo({ tags: ['prod'] }), state: 'running', at: 10 }]);
    expect(inventory.getVm('lab', 101)).toEqual({ info: vmInfo({ tags: ['prod'] }), state: 'running', updatedAt: 10 });

    saveVms(store, [{ info: vmInfo({ status: 'stopped', node: 'pve2' }), state: 'stopped', at: 20 }]);
    expect(inventory.getVm('lab', 101)).toEqual({
      info: vmInfo({ status: 'stopped', node: 'pve2' }),
      state: 'stopped',
      updatedAt: 20,
    });
    expect(inventory.listVms()).toHaveLength(1);
    expect(inventory.getVm('lab', 999)).toBeUndefined();
    expect(inventory.getVm('other', 101)).toBeUndefined();
  });

  it('inventory - listVms filters by cluster, node, state and tag', () => {
    const store = openStore();
    const { inventory } = store;
    saveVms(store, [
      { info: vmInfo({ vmid: 101, node: 'pve1', tags: ['prod', 'web'] }), state: 'running', at: 1 },
      { info: vmInfo({ vmid: 102, node: 'pve2', tags: ['web'] }), state: 'stopped', at: 1 },
      { info: vmInfo({ vmid: 103, node: 'pve1', tags: [] }), state: 'running', at: 1 },
      { info: vmInfo({ cluster: 'edge', vmid: 101, node: 'pve1', tags: ['prod'] }), state: 'running', at: 1 },
    ]);
    const ids = (rows: { info: { cluster: string; vmid: number } }[]) =>
      rows.map((r) => `${r.info.cluster}/${r.info.vmid}`);
    expect(ids(inventory.listVms())).toEqual(['edge/101', 'lab/101', 'lab/102', 'lab/103']);
    expect(ids(inventory.listVms({ cluster: 'lab' }))).toEqual(['lab/101', 'lab/102', 'lab/103']);
    expect(ids(inventory.listVms({ node: 'pve1' }))).toEqual(['edge/101', 'lab/101', 'lab/103']);
    expect(ids(inventory.listVms({ state: 'stopped' }))).toEqual(['lab/102']);
    expect(ids(inventory.listVms({ tag: 'prod' }))).toEqual(['edge/101', 'lab/101']);
    expect(ids(inventory.listVms({ cluster: 'lab', node: 'pve1', state: 'running', tag: 'web' }))).toEqual(['lab/101']);
    expect(inventory.listVms({ tag: 'nope' })).toEqual([]);
  });

  it('inventory - a VM whose snapshot is gone (archived, deleted) is gone from it', () => {
    const store = openStore();
    saveVms(store, [{ info: vmInfo(), state: 'running', at: 1 }]);
    store.snapshots.save('vm:lab/101#1', 'vm-archived', { status: 'done', value: 'destroyed', context: {} }, 2);
    expect(store.snapshots.delete('vm:lab/101')).toBe(true);
    expect(store.inventory.getVm('lab', 101)).toBeUndefined();
    expect(store.inventory.listVms()).toEqual([]);
  });

  it('inventory - 20k VMs read back exactly, filtered and counted by state', () => {
    const store = openStore();
    const { inventory } = store;
    const rows: VmRow[] = [];
    for (let i = 0; i < 20_000; i++) {
      rows.push({
        info: vmInfo({ vmid: 100 + i, name: `vm${i}`, node: `pve${i % 4}`, tags: i % 10 === 0 ? ['prod'] : [] }),
        state: i % 3 === 0 ? 'stopped' : 'running',
        at: i,
      });
    }
    saveVms(store, rows);
    // Saving again replaces, never duplicates.
    saveVms(
      store,
      rows.slice(0, 1000).map((r) => ({ ...r, state: 'locked', at: 99_999 })),
    );

    const all = inventory.listVms();
    expect(all).toHaveLength(20_000);
    expect(all[0]).toEqual({ info: rows[0]!.info, state: 'locked', updatedAt: 99_999 });
    expect(all[19_999]).toEqual({ info: rows[19_999]!.info, state: rows[19_999]!.state, updatedAt: 19_999 });
    expect(inventory.listVms({ tag: 'prod' })).toHaveLength(2_000);
    expect(inventory.listVms({ node: 'pve3' })).toHaveLength(5_000);
    const counts = inventory.countVmsByState();
    expect(counts.locked).toBe(1000);
    expect((counts.running ?? 0) + (counts.stopped ?? 0)).toBe(19_000);
  });

  it('inventory - hosts are upserted, listed, marked and deleted', () => {
    const { inventory } = openStore();
    inventory.upsertHosts([
      { info: hostInfo({ node: 'pve1' }), state: 'online', at: 1 },
      { info: hostInfo({ node: 'pve2', status: 'offline' }), state: 'offline', at: 1 },
      { info: hostInfo({ cluster: 'edge', node: 'pve1' }), state: 'online', at: 1 },
    ]);
    inventory.upsertHost(hostInfo({ node: 'pve1', cpu: 0.9 }), 'degraded', 2);
    expect(inventory.getHost('lab', 'pve1')).toEqual({
      info: hostInfo({ node: 'pve1', cpu: 0.9 }),
      state: 'degraded',
      updatedAt: 2,
    });
    expect(inventory.listHosts().map((h) => `${h.info.cluster}/${h.info.node}`)).toEqual([
      'edge/pve1',
      'lab/pve1',
      'lab/pve2',
    ]);
    expect(inventory.listHosts({ cluster: 'lab', state: 'offline' }).map((h) => h.info.node)).toEqual(['pve2']);
    expect(inventory.markHostState('lab', 'pve2', 'online', 3)).toBe(true);
    expect(inventory.countHostsByState()).toEqual({ online: 2, degraded: 1 });
    expect(inventory.deleteHost('edge', 'pve1')).toBe(true);
    expect(inventory.getHost('edge', 'pve1')).toBeUndefined();
  });

  it('inventory - clusters are upserted and listed', () => {
    const { inventory } = openStore();
    inventory.upsertCluster({ cluster: 'lab', reachable: true, quorate: true }, 1);
    inventory.upsertCluster({ cluster: 'edge', reachable: false, quorate: false }, 1);
    inventory.upsertCluster({ cluster: 'lab', reachable: true, quorate: false }, 2);
    expect(inventory.getCluster('lab')).toEqual({
      info: { cluster: 'lab', reachable: true, quorate: false },
      updatedAt: 2,
    });
    expect(inventory.listClusters().map((c) => c.info.cluster)).toEqual(['edge', 'lab']);
    expect(inventory.deleteCluster('edge')).toBe(true);
    expect(inventory.listClusters()).toHaveLength(1);
  });
});
