// Maintenance windows and silences in SQLite (migration v6): stored with who set them, listed by `now` (what ran out
// or ended leaves the current list, stays in the full one), ended once; a v5 database gains the tables on upgrade.
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { MaintenanceRecord, SilenceRecord } from '../../state';
import { entryState, MIGRATIONS, openDatabase, StateStore } from '../../state';
import { dbPath, openStore } from './helpers';

const window = (
  id: string,
  from: number,
  until: number,
  patch: Partial<MaintenanceRecord> = {},
): MaintenanceRecord => ({
  id,
  scope: 'guest',
  target: 'lab/101',
  from,
  until,
  reason: 'disk swap',
  by: 'tok-olga',
  byName: 'olga',
  createdAt: from,
  ...patch,
});

describe('maintenance repo', () => {
  it('maintenance - a window is stored as set; current(now) keeps what has not run out, soonest first', () => {
    const store = openStore();
    const w = store.maintenance.windows;
    w.insert(window('m1', 1000, 5000));
    w.insert(window('m2', 3000, 9000, { scope: 'node', target: 'lab/pve2', byName: undefined }));
    w.insert(window('m3', 500, 2000, { scope: 'tag', target: 'web' }));
    expect(w.get('m1')).toEqual(window('m1', 1000, 5000));
    expect(w.get('m2')).not.toHaveProperty('byName');
    expect(w.current(1999).map((r) => r.id)).toEqual(['m3', 'm1', 'm2']);
    expect(w.current(2000).map((r) => r.id)).toEqual(['m1', 'm2']);
    expect(w.current(9000)).toEqual([]);
    expect(w.count({}, 2000)).toBe(2);
    expect(w.list({ all: true }, 9000).map((r) => r.id)).toEqual(['m2', 'm1', 'm3']);
    expect(w.list({ all: true, limit: 1, offset: 1 }, 9000).map((r) => r.id)).toEqual(['m1']);
  });

  it('maintenance - a window ends once, before it runs out; the record says when and by whom', () => {
    const store = openStore();
    const w = store.maintenance.windows;
    w.insert(window('m1', 1000, 5000));
    w.insert(window('m2', 1000, 2000));
    expect(w.end('m1', 3000, 'tok-alice')).toMatchObject({ id: 'm1', endedAt: 3000, endedBy: 'tok-alice' });
    expect(w.end('m1', 3500, 'tok-alice')).toBeUndefined();
    expect(w.end('m2', 3000, 'tok-alice')).toBeUndefined(); // ran out already
    expect(w.end('nope', 3000, 'tok-alice')).toBeUndefined();
    expect(w.current(3000)).toEqual([]);
  });

  it('maintenance - entry states: scheduled, active, expired, ended', () => {
    const e = { from: 1000, until: 2000 };
    expect(entryState(e, 999)).toBe('scheduled');
    expect(entryState(e, 1000)).toBe('active');
    expect(entryState(e, 2000)).toBe('expired');
    expect(entryState({ ...e, endedAt: 1500 }, 1200)).toBe('ended');
  });

  it('silences - stored, listed by now, removed once', () => {
    const store = openStore();
    const s = store.maintenance.silences;
    const silence: SilenceRecord = {
      id: 's1',
      kind: 'vm-unexpected-stop',
      guest: 'lab/101',
      from: 0,
      until: 600_000,
      reason: 'flaky agent',
      by: 'tok-olga',
      createdAt: 0,
    };
    s.insert(silence);
    expect(s.current(1).map((r) => r.id)).toEqual(['s1']);
    expect(s.end('s1', 10, 'tok-olga')).toMatchObject({ ...silence, endedAt: 10, endedBy: 'tok-olga' });
    expect(s.current(11)).toEqual([]);
    expect(s.list({ all: true }, 11)).toHaveLength(1);
  });

  it('maintenance - a v5 database gains both tables on upgrade, keeping its rows', () => {
    const file = dbPath();
    const v5 = openDatabase(file, { migrations: MIGRATIONS.filter((m) => m.version <= 5) });
    v5.prepare(`INSERT INTO meta (key, value) VALUES ('kept', 'yes')`).run();
    v5.close();
    const store = StateStore.open(file);
    try {
      store.maintenance.windows.insert(window('m1', 0, 1));
      expect(store.maintenance.windows.get('m1')).toBeDefined();
      expect(store.meta.get('kept')).toBe('yes');
    } finally {
      store.close();
    }
    const db = new BetterSqlite3(file);
    const bad = () =>
      db
        .prepare(
          `INSERT INTO maintenance_windows (id, scope, target, starts_at, until_at, reason, created_by, created_at)
           VALUES ('x', 'guest', 'lab/1', 5, 5, 'r', 'b', 0)`,
        )
        .run();
    expect(bad).toThrow(/CHECK constraint failed/);
    db.close();
  });
});
