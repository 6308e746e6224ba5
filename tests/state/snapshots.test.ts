import { describe, expect, it } from 'vitest';
import { SerializationError, SNAPSHOT_PAGE_SIZE, type SnapshotRow } from '../../state';
import { openStore } from './helpers';

const persisted = (value: string, n = 0) => ({
  status: 'active',
  value,
  context: { info: { cluster: 'lab', vmid: 100 + n, tags: ['a', 'b'] }, nested: { deep: [1, { x: null }] } },
  historyValue: {},
  children: {},
});

describe('snapshots', () => {
  it('snapshots - save and get roundtrip the snapshot', () => {
    const { snapshots } = openStore();
    snapshots.save('vm:lab/101', 'vm', persisted('running'), 5);
    expect(snapshots.get('vm:lab/101')).toEqual({
      actorId: 'vm:lab/101',
      kind: 'vm',
      snapshot: persisted('running'),
      at: 5,
    });
    snapshots.save('vm:lab/101', 'vm', persisted('stopped'), 6);
    expect(snapshots.get('vm:lab/101')?.snapshot).toEqual(persisted('stopped'));
    expect(snapshots.get('vm:lab/999')).toBeUndefined();
  });

  it('snapshots - listByKind returns only that kind, ordered by actor id', () => {
    const { snapshots } = openStore();
    snapshots.saveMany([
      { actorId: 'vm:lab/102', kind: 'vm', snapshot: persisted('running', 2), at: 1 },
      { actorId: 'host:lab/pve1', kind: 'host', snapshot: { value: 'online' }, at: 1 },
      { actorId: 'vm:lab/101', kind: 'vm', snapshot: persisted('stopped', 1), at: 1 },
      { actorId: 'req:r1', kind: 'request', snapshot: { value: 'executing' }, at: 1 },
    ]);
    expect([...snapshots.listByKind('vm')].map((r) => r.actorId)).toEqual(['vm:lab/101', 'vm:lab/102']);
    expect([...snapshots.listByKind('host')]).toEqual([
      { actorId: 'host:lab/pve1', kind: 'host', snapshot: { value: 'online' }, at: 1 },
    ]);
    expect([...snapshots.listByKind('loop')]).toEqual([]);
  });

  it('snapshots - delete removes one snapshot', () => {
    const { snapshots } = openStore();
    snapshots.save('req:r1', 'request', { value: 'completed' }, 1);
    expect(snapshots.delete('req:r1')).toBe(true);
    expect(snapshots.delete('req:r1')).toBe(false);
    expect(snapshots.get('req:r1')).toBeUndefined();
  });

  it('snapshots - saveMany writes nothing when one snapshot cannot be stored', () => {
    const { snapshots } = openStore();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() =>
      snapshots.saveMany([
        { actorId: 'vm:lab/1', kind: 'vm', snapshot: persisted('running'), at: 1 },
        { actorId: 'vm:lab/2', kind: 'vm', snapshot: circular, at: 1 },
      ]),
    ).toThrow(SerializationError);
    expect(() => snapshots.save('vm:lab/3', 'vm', undefined, 1)).toThrow(SerializationError);
    expect(snapshots.countByKind('vm')).toBe(0);
  });

  it('snapshots - saveMany of 20k rows is read back completely, page by page', () => {
    const { snapshots } = openStore();
    const rows: SnapshotRow[] = [];
    for (let i = 0; i < 20_000; i++) {
      rows.push({
        actorId: `vm:lab/${String(i).padStart(6, '0')}`,
        kind: 'vm',
        snapshot: persisted('running', i),
        at: i,
      });
    }
    rows.push({ actorId: 'host:lab/pve1', kind: 'host', snapshot: { value: 'online' }, at: 0 });
    snapshots.saveMany(rows);
    expect(snapshots.countByKind('vm')).toBe(20_000);

    const iter = snapshots.listByKind('vm');
    let n = 0;
    for (const row of iter) {
      const expected = rows[n]!;
      expect(row.actorId).toBe(expected.actorId);
      if (n % 997 === 0) expect(row).toEqual(expected);
      n++;
    }
    expect(n).toBe(20_000);
    expect(20_000).toBeGreaterThan(SNAPSHOT_PAGE_SIZE * 2);
  });

  it('snapshots - the caller may write while iterating listByKind', () => {
    const { snapshots } = openStore();
    const rows: SnapshotRow[] = [];
    for (let i = 0; i < SNAPSHOT_PAGE_SIZE * 2 + 5; i++) {
      rows.push({
        actorId: `req:${String(i).padStart(5, '0')}`,
        kind: 'request',
        snapshot: { value: 'executing' },
        at: 0,
      });
    }
    snapshots.saveMany(rows);
    let seen = 0;
    for (const row of snapshots.listByKind('request')) {
      snapshots.save(row.actorId, 'request', { value: 'restored' }, 1);
      seen++;
    }
    expect(seen).toBe(rows.length);
    expect(
      [...snapshots.listByKind('request')].every((r) => (r.snapshot as { value: string }).value === 'restored'),
    ).toBe(true);
  });
});
