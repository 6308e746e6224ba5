// Maintenance windows and silences in the record, between two real SQLite files: keyed under the cluster their target
// or guest names (a tag window under the cluster it was set for), every field checked (a bad value is a
// RecordValueError naming the field), exported as the full row and versioned by digest, imported as the same row by
// id (ended early included), once; a row here with the same id about something else is a RecordImportError; and the
// shipper's TEMP triggers mark every start, early end and upsert.
import { describe, expect, it } from 'vitest';
import {
  exportCluster,
  exportMaintenance,
  exportSilence,
  importAll,
  importEntity,
  markPublished,
  RecordEntityError,
  RecordImportError,
} from '../../actors/record-entities';
import { parseRecordKey, parseRecordValue, RecordKeyError, RecordValueError, recordKey } from '../../protocol';
import { type MaintenanceRecord, RecordDirtyTracker, type SilenceRecord, type StateStore } from '../../state';
import { openStore } from './helpers';

const HOUR = 3_600_000;
const base = { reason: 'disk swap', by: 'tok-olga', byName: 'olga', createdAt: 1_000, from: 1_000, until: 2 * HOUR };
const guestWindow: MaintenanceRecord = { ...base, id: 'm-guest', scope: 'guest', target: 'lab/101' };
const nodeWindow: MaintenanceRecord = { ...base, id: 'm-node', scope: 'node', target: 'lab/pve1', request: 'r-drain' };
const tagWindow: MaintenanceRecord = { ...base, id: 'm-tag', scope: 'tag', target: 'web' };
const otherWindow: MaintenanceRecord = { ...base, id: 'm-other', scope: 'guest', target: 'east/101' };
const silence: SilenceRecord = { ...base, id: 's-1', kind: 'vm-crash-loop', guest: 'lab/106' };
const otherSilence: SilenceRecord = { ...base, id: 's-2', kind: 'vm-unexpected-stop', guest: 'east/102' };

function seed(store: StateStore): void {
  for (const w of [guestWindow, nodeWindow, tagWindow, otherWindow]) store.maintenance.windows.insert(w);
  for (const s of [silence, otherSilence]) store.maintenance.silences.insert(s);
}

const errorOf = (run: () => unknown): unknown => {
  try {
    run();
  } catch (e) {
    return e;
  }
  return undefined;
};

const changesOf = (store: StateStore): number =>
  (store.db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;

describe('record maintenance', () => {
  it('record maintenance - keys name the cluster and the id, and parse back; a key with more tokens is refused', () => {
    const key = recordKey.maintenance('lab', 'm.1/x');
    expect(key).toBe('lab.maintenance.m=2E1=2Fx');
    expect(parseRecordKey(key)).toEqual({ kind: 'maintenance', cluster: 'lab', id: 'm.1/x' });
    expect(parseRecordKey(recordKey.silence('east', 's-1'))).toEqual({ kind: 'silence', cluster: 'east', id: 's-1' });
    for (const bad of ['lab.maintenance.a.b', 'lab.silence', '_global.silence.s-1', 'lab.window.m-1']) {
      expect(() => parseRecordKey(bad), bad).toThrow(RecordKeyError);
    }
  });

  it('record maintenance - every field is checked: a bad value is a RecordValueError naming the field', () => {
    const store = openStore();
    seed(store);
    const w = exportMaintenance(store, 'm-guest');
    const s = exportSilence(store, 's-1');
    expect(w.key).toBe(recordKey.maintenance('lab', 'm-guest'));
    expect(w.value).toEqual({ v: 1, kind: 'maintenance', version: 1, cluster: 'lab', window: guestWindow });
    expect(s.value).toEqual({ v: 1, kind: 'silence', version: 1, cluster: 'lab', silence });

    const windowCases: [Record<string, unknown>, string][] = [
      [{ until: 500 }, 'window.until'],
      [{ from: -1 }, 'window.from'],
      [{ reason: '' }, 'window.reason'],
      [{ by: undefined }, 'window.by'],
      [{ scope: 'cluster' }, 'window.scope'],
      [{ target: 'lab/not a vmid' }, 'window.target'],
      [{ target: 'east/101' }, 'window.target'],
      [{ endedAt: 2_000 }, 'window.endedBy'],
      [{ createdAt: 1.5 }, 'window.createdAt'],
      [{ request: 7 }, 'window.request'],
    ];
    for (const [change, field] of windowCases) {
      const raw = { ...w.value, window: { ...w.value.window, ...change } };
      const error = errorOf(() => parseRecordValue(w.key, raw, 3));
      expect(error, field).toBeInstanceOf(RecordValueError);
      expect(error, field).toMatchObject({ key: w.key, revision: 3 });
      expect((error as Error).message, field).toContain(`${field}:`);
    }
    const silenceCases: [Record<string, unknown>, string][] = [
      [{ kind: 'host-offline' }, 'silence.kind'],
      [{ guest: 'lab' }, 'silence.guest'],
      [{ guest: 'east/106' }, 'silence.guest'],
      [{ until: 1_000 }, 'silence.until'],
      [{ id: '' }, 'silence.id'],
      [{ endedBy: 'tok-olga' }, 'silence.endedBy'],
    ];
    for (const [change, field] of silenceCases) {
      const raw = { ...s.value, silence: { ...s.value.silence, ...change } };
      expect(() => parseRecordValue(s.key, raw), field).toThrow(RecordValueError);
      expect(() => parseRecordValue(s.key, raw), field).toThrow(`${field}:`);
    }
    // A valid value under another key (another cluster, another kind) is refused too.
    expect(() => parseRecordValue(recordKey.maintenance('east', 'm-guest'), w.value)).toThrow(RecordValueError);
    expect(() => parseRecordValue(recordKey.silence('lab', 'm-guest'), w.value)).toThrow(RecordValueError);
    // A tag window names no cluster: exporting it needs one.
    expect(() => exportMaintenance(store, 'm-tag')).toThrow(RecordEntityError);
    expect(() => exportMaintenance(store, 'm-none')).toThrow(RecordEntityError);
    expect(exportMaintenance(store, 'm-tag', 'lab').key).toBe(recordKey.maintenance('lab', 'm-tag'));
  });

  it('record maintenance - windows and silences exported from A are the same rows in B, ended early included, each version once', () => {
    const a = openStore();
    const b = openStore();
    seed(a);
    const exports = exportCluster(a, 'lab');
    expect(exports.map((e) => e.key).sort()).toEqual(
      [
        recordKey.maintenance('lab', 'm-guest'),
        recordKey.maintenance('lab', 'm-node'),
        recordKey.maintenance('lab', 'm-tag'),
        recordKey.silence('lab', 's-1'),
      ].sort(),
    );
    expect(exportCluster(a, 'east').map((e) => e.key)).toEqual([
      recordKey.maintenance('east', 'm-tag'),
      recordKey.maintenance('east', 'm-other'),
      recordKey.silence('east', 's-2'),
    ]);
    const report = importAll(
      b,
      exports.map((e, i) => ({ key: e.key, value: e.value, revision: i + 1 })),
    );
    expect(report).toEqual({ applied: 4, unchanged: 0, failed: [] });
    for (const id of ['m-guest', 'm-node', 'm-tag'])
      expect(b.maintenance.windows.get(id)).toEqual(a.maintenance.windows.get(id));
    expect(b.maintenance.silences.get('s-1')).toEqual(silence);
    expect(b.maintenance.windows.current(HOUR).map((w) => w.id)).toEqual(['m-guest', 'm-node', 'm-tag']);
    // B describes what it imported as A published it: the same version, nothing to publish.
    const again = exportMaintenance(b, 'm-guest');
    expect(again).toMatchObject({ changed: false, value: { version: 1 } });

    // A ends the window early: the next version, put over the revision A holds; B ends it too.
    const v1 = exportMaintenance(a, 'm-guest');
    markPublished(a, v1.key, v1.value, 11);
    expect(exportMaintenance(a, 'm-guest')).toEqual({ ...v1, changed: false, expectedRevision: 11 });
    expect(a.maintenance.windows.end('m-guest', HOUR, 'tok-kim')).toMatchObject({ endedAt: HOUR });
    const v2 = exportMaintenance(a, 'm-guest');
    expect(v2).toMatchObject({
      changed: true,
      expectedRevision: 11,
      value: { version: 2, window: { endedAt: HOUR, endedBy: 'tok-kim' } },
    });
    expect(importEntity(b, v2.key, v2.value, 12).applied).toBe(true);
    expect(b.maintenance.windows.get('m-guest')).toEqual(a.maintenance.windows.get('m-guest'));
    expect(b.maintenance.windows.current(HOUR + 1).map((w) => w.id)).toEqual(['m-node', 'm-tag']);

    // The same or an older version again changes nothing.
    const before = changesOf(b);
    expect(importEntity(b, v2.key, v2.value, 12).applied).toBe(false);
    expect(importEntity(b, v1.key, v1.value, 11).applied).toBe(false);
    expect(changesOf(b)).toBe(before);
    expect(b.maintenance.windows.get('m-guest')?.endedAt).toBe(HOUR);
  });

  it('record maintenance - a window or silence whose id is another one here is a RecordImportError; nothing is written', () => {
    const a = openStore();
    const b = openStore();
    seed(a);
    b.maintenance.windows.insert({ ...guestWindow, target: 'lab/102' });
    b.maintenance.silences.insert({ ...silence, kind: 'vm-unexpected-stop' });
    const before = changesOf(b);
    for (const e of [exportMaintenance(a, 'm-guest'), exportSilence(a, 's-1')]) {
      const error = errorOf(() => importEntity(b, e.key, e.value, 4));
      expect(error).toBeInstanceOf(RecordImportError);
      expect(error).toMatchObject({ key: e.key });
    }
    expect(changesOf(b)).toBe(before);
    expect(b.maintenance.windows.get('m-guest')?.target).toBe('lab/102');
    expect(b.maintenance.silences.get('s-1')?.kind).toBe('vm-unexpected-stop');
  });

  it('record maintenance - the dirty triggers mark every start, early end and upsert, and a rollback takes its mark back', () => {
    const store = openStore();
    const tracker = new RecordDirtyTracker(store.db).install();
    store.maintenance.windows.insert(guestWindow);
    store.maintenance.silences.insert(silence);
    expect(tracker.take()).toEqual(
      expect.arrayContaining([
        { kind: 'maintenance', id: 'm-guest' },
        { kind: 'silence', id: 's-1' },
      ]),
    );
    store.maintenance.windows.end('m-guest', HOUR, 'tok-kim');
    store.maintenance.silences.end('s-1', HOUR, 'tok-kim');
    expect(tracker.take()).toHaveLength(2);
    store.maintenance.windows.put({ ...nodeWindow, endedAt: HOUR, endedBy: 'tok-kim' });
    expect(tracker.take()).toEqual([{ kind: 'maintenance', id: 'm-node' }]);
    expect(store.maintenance.windows.get('m-node')).toMatchObject({
      endedAt: HOUR,
      endedBy: 'tok-kim',
      request: 'r-drain',
    });
    expect(() =>
      store.transaction(() => {
        store.maintenance.windows.insert(tagWindow);
        throw new Error('rolled back');
      }),
    ).toThrow('rolled back');
    expect(tracker.take()).toEqual([]);
    tracker.uninstall();
  });
});
