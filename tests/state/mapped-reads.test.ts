// StateStore.withMappedReads: a restart's burst of reads runs with the database file memory-mapped, and the mapping is
// gone once it returns or throws (the pages do not stay in the process's resident memory).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { StateStore } from '../../state';
import { dbPath } from './helpers';

/** Whether this process maps `file` itself now (Linux; its `-shm` WAL index is always mapped). */
const mapped = (file: string): boolean =>
  readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .some((line) => line.endsWith(` ${file}`));

function storeWithSnapshots(): { store: StateStore; file: string } {
  const file = dbPath();
  const store = StateStore.open(file);
  store.snapshots.saveMany(
    Array.from({ length: 200 }, (_, i) => ({
      actorId: `vm:lab/${100 + i}`,
      kind: 'vm',
      snapshot: { status: 'active', value: 'running', context: { n: i } },
      at: i,
    })),
  );
  // In the file itself, not only in the WAL (pages still in the WAL are read from it, never through the map).
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  return { store, file };
}

describe('mapped reads', () => {
  it('mapped reads - reads run with the file mapped, and the mapping is dropped when they return', () => {
    const { store, file } = storeWithSnapshots();
    try {
      expect(mapped(file)).toBe(false);
      const seen = store.withMappedReads(() => {
        const rows = [...store.snapshots.listByKind('vm')];
        expect(mapped(file)).toBe(true);
        expect(store.db.pragma('mmap_size', { simple: true })).toBeGreaterThan(0);
        return rows.length;
      });
      expect(seen).toBe(200);
      expect(mapped(file)).toBe(false);
      expect(store.db.pragma('mmap_size', { simple: true })).toBe(0);
    } finally {
      store.close();
    }
  });

  it('mapped reads - a failing read still drops the mapping, and writes afterwards land as usual', () => {
    const { store, file } = storeWithSnapshots();
    try {
      expect(() =>
        store.withMappedReads(() => {
          for (const _ of store.snapshots.listByKind('vm')) throw new Error('stop here');
        }),
      ).toThrow('stop here');
      expect(mapped(file)).toBe(false);
      store.snapshots.save('vm:lab/999', 'vm', { status: 'active', value: 'stopped', context: {} }, 1);
      expect(store.snapshots.countByKind('vm')).toBe(201);
    } finally {
      store.close();
    }
  });
});
