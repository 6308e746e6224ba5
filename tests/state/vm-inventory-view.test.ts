// The VM inventory as a view of the VM actors' snapshots (state/migrations.ts v11): a database written before it
// keeps every VM, read from the snapshots its actors wrote beside the dropped rows; the view cannot be written.
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, openDatabase, StateStore } from '../../state';
import { dbPath, vmInfo } from './helpers';

describe('vm inventory view', () => {
  it('vm inventory view - a v10 database keeps its VMs, read from their actor snapshots', () => {
    const file = dbPath();
    const v10 = openDatabase(file, { migrations: MIGRATIONS.filter((m) => m.version <= 10) });
    const info = vmInfo({ vmid: 105, node: 'pve2', tags: ['db'] });
    const snapshot = { status: 'active', value: 'running', context: { info, lastSeen: 7, missing: 0 }, children: {} };
    v10
      .prepare('INSERT INTO vms (cluster, vmid, node, info, state, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run('lab', 105, 'pve2', JSON.stringify(info), 'running', 7);
    v10
      .prepare('INSERT INTO actor_snapshots (actor_id, kind, snapshot, updated_at) VALUES (?, ?, ?, ?)')
      .run('vm:lab/105', 'vm', JSON.stringify(snapshot), 7);
    v10.close();

    const store = StateStore.open(file);
    try {
      expect(store.inventory.listVms()).toEqual([{ info, state: 'running', updatedAt: 7 }]);
      expect(store.inventory.listVms({ tag: 'db', node: 'pve2', state: 'running' })).toHaveLength(1);
      expect(store.inventory.countVmsByState()).toEqual({ running: 1 });
    } finally {
      store.close();
    }
  });

  it('vm inventory view - writing to it is refused', () => {
    const db = openDatabase(dbPath());
    try {
      expect(() =>
        db
          .prepare('INSERT INTO vms (cluster, vmid, node, info, state, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
          .run('lab', 1, 'pve1', '{}', 'running', 1),
      ).toThrow(/cannot modify vms because it is a view/);
    } finally {
      db.close();
    }
  });
});
