import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { CreatedThing, MemberState } from '../../machines/lab/lab-types';
import { labMachine } from '../../machines/lab.machine';
import {
  DuplicateLabError,
  LAB_ENDED_STATUSES,
  LATEST_SCHEMA_VERSION,
  LabEndedError,
  LabIdentityError,
  LabNotFoundError,
  labActorId,
  labMembersOf,
  MIGRATIONS,
  type NewLab,
  openDatabase,
  StateStore,
  schemaVersion,
  TABLES,
} from '../../state';
import { specOf, THREE_TIER } from '../labs/helpers';
import { dbPath, openStore, requestSpec } from './helpers';

const alice = { id: 'tok-alice', role: 'operator' as const, name: 'alice', person: 'p-alice' };

/** The THREE_TIER lab file (renamed and moved when asked) and its parsed spec. */
function labFile(name = 'tt', cluster = 'lab'): { file: string; spec: ReturnType<typeof specOf> } {
  const file = THREE_TIER.replace('name: tt\n', `name: ${name}\n`).replace('cluster: lab\n', `cluster: ${cluster}\n`);
  return { file, spec: specOf(file) };
}

function newLab(name = 'tt', cluster = 'lab', createdAt = 1_000): NewLab {
  return { ...labFile(name, cluster), status: 'planning', requester: alice, createdAt };
}

const created: CreatedThing[] = [
  { kind: 'pool', id: 'tt', generation: 0 },
  { kind: 'zone', id: 'tt', generation: 0 },
  { kind: 'vnet', id: 'front', generation: 0 },
  { kind: 'subnet', id: 'tt-10.42.1.0-24', vnet: 'front', generation: 0 },
  { kind: 'vm', id: 500, node: 'pve1', member: 'router', generation: 0 },
];

describe('state labs', () => {
  it('state labs - insert stores the file, spec, requester and first history entry; get reads it back', () => {
    const { labs } = openStore();
    const lab = newLab();
    const inserted = labs.insert(lab);
    const stored = labs.get('lab', 'tt');
    expect(stored).toEqual(inserted);
    expect(stored).toEqual({
      id: inserted.id,
      name: 'tt',
      cluster: 'lab',
      file: lab.file,
      spec: lab.spec,
      status: 'planning',
      created: [],
      members: {},
      requester: alice,
      createdAt: 1_000,
      updatedAt: 1_000,
      endedAt: undefined,
      error: undefined,
    });
    expect(stored?.spec.vms.map((v) => v.name)).toEqual(lab.spec.vms.map((v) => v.name));
    expect(labs.history('lab', 'tt')).toEqual([{ status: 'planning', at: 1_000, by: 'tok-alice' }]);
    expect(labs.get('lab', 'nope')).toBeUndefined();
    expect(labs.get('other', 'tt')).toBeUndefined();
    expect(labs.history('lab', 'nope')).toEqual([]);
  });

  it('state labs - update records created things, members and status, with one history row per status change', () => {
    const { labs } = openStore();
    labs.insert(newLab());
    expect(labs.update('lab', 'tt', { status: 'gating' }, 1_001)).toEqual({
      previousStatus: 'planning',
      status: 'gating',
      statusChanged: true,
      endedAt: undefined,
    });
    labs.update('lab', 'tt', { status: 'networks', by: 'tok-bob', note: 'approved' }, 1_002);
    const members: Record<string, MemberState> = {
      router: { member: {} as MemberState['member'], phase: 'cloned', vmid: 500, node: 'pve1' },
      db: { member: {} as MemberState['member'], phase: 'planned' },
    };
    // Same status: no history row, only the given fields move.
    const same = labs.update('lab', 'tt', { status: 'networks', created, members: labMembersOf(members) }, 1_003);
    expect(same.statusChanged).toBe(false);
    labs.update('lab', 'tt', { status: 'failed', error: 'clone of db failed' }, 1_004);

    expect(labs.get('lab', 'tt')).toMatchObject({
      status: 'failed',
      created,
      members: { router: { vmid: 500, node: 'pve1', phase: 'cloned' }, db: { phase: 'planned' } },
      error: 'clone of db failed',
      updatedAt: 1_004,
      endedAt: undefined,
    });
    labs.update('lab', 'tt', { status: 'planning', error: null }, 1_005);
    expect(labs.get('lab', 'tt')?.error).toBeUndefined();
    expect(labs.history('lab', 'tt')).toEqual([
      { status: 'planning', at: 1_000, by: 'tok-alice' },
      { status: 'gating', at: 1_001 },
      { status: 'networks', at: 1_002, by: 'tok-bob', note: 'approved' },
      { status: 'failed', at: 1_004 },
      { status: 'planning', at: 1_005 },
    ]);
  });

  it('state labs - an edited file replaces file and spec; a spec of another lab is refused', () => {
    const { labs } = openStore();
    labs.insert(newLab());
    const edited = labFile();
    const file = `${edited.file}# edited\n`;
    labs.update('lab', 'tt', { file, spec: edited.spec }, 2_000);
    expect(labs.get('lab', 'tt')).toMatchObject({ file, spec: edited.spec });
    const other = labFile('zz');
    expect(() => labs.update('lab', 'tt', { spec: other.spec, file: other.file }, 2_001)).toThrow(LabIdentityError);
    expect(labs.get('lab', 'tt')?.file).toBe(file);
  });

  it('state labs - an unknown lab cannot be updated', () => {
    const { labs } = openStore();
    const err = (() => {
      try {
        labs.update('lab', 'ghost', { status: 'gating' }, 1);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(LabNotFoundError);
    expect(err).toMatchObject({ name: 'LabNotFoundError', cluster: 'lab', lab: 'ghost' });
  });

  it('state labs - a second live lab of the same name on the cluster is refused, naming it', () => {
    const { labs } = openStore();
    labs.insert(newLab());
    labs.update('lab', 'tt', { status: 'ready' }, 1_500);
    let err: unknown;
    try {
      labs.insert(newLab('tt', 'lab', 2_000));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DuplicateLabError);
    expect(err).toMatchObject({ name: 'DuplicateLabError', cluster: 'lab', lab: 'tt', existingStatus: 'ready' });
    expect((err as Error).message).toBe("lab 'tt' already exists on cluster 'lab' (ready)");
    expect(labs.count()).toBe(1);
    // The same name on another cluster is another lab.
    expect(labs.insert(newLab('tt', 'lab2')).cluster).toBe('lab2');
  });

  it('state labs - an ended lab keeps its record and frees its name; a final status is never left', () => {
    const { labs } = openStore();
    const first = labs.insert(newLab());
    const result = labs.update('lab', 'tt', { status: 'destroyed', by: 'tok-alice' }, 3_000);
    expect(result).toMatchObject({ status: 'destroyed', endedAt: 3_000 });
    expect(() => labs.update('lab', 'tt', { status: 'ready' }, 3_001)).toThrow(LabEndedError);
    expect(labs.live()).toEqual([]);

    const second = labs.insert(newLab('tt', 'lab', 4_000));
    expect(second.id).not.toBe(first.id);
    // get, update and history mean the live lab.
    expect(labs.get('lab', 'tt')?.id).toBe(second.id);
    labs.update('lab', 'tt', { status: 'gating' }, 4_001);
    expect(labs.history('lab', 'tt').map((h) => h.status)).toEqual(['planning', 'gating']);
    expect(labs.list({ cluster: 'lab' }).map((l) => [l.id, l.status, l.endedAt])).toEqual([
      [second.id, 'gating', undefined],
      [first.id, 'destroyed', 3_000],
    ]);
    expect(labs.count({ live: false })).toBe(1);
  });

  it('state labs - list filters by cluster and status, pages newest first, and count agrees', () => {
    const { labs } = openStore();
    labs.insert(newLab('a', 'lab', 1));
    labs.insert(newLab('b', 'lab', 2));
    labs.insert(newLab('c', 'lab2', 3));
    labs.insert(newLab('d', 'lab', 4));
    labs.update('lab', 'b', { status: 'ready' }, 5);
    labs.update('lab', 'a', { status: 'rolled_back' }, 6);

    expect(labs.list().map((l) => l.name)).toEqual(['d', 'c', 'b', 'a']);
    expect(labs.list({ cluster: 'lab' }).map((l) => l.name)).toEqual(['d', 'b', 'a']);
    expect(labs.list({ status: 'ready' }).map((l) => l.name)).toEqual(['b']);
    expect(labs.list({ status: ['ready', 'planning'], cluster: 'lab' }).map((l) => l.name)).toEqual(['d', 'b']);
    expect(labs.list({ limit: 2 }).map((l) => l.name)).toEqual(['d', 'c']);
    expect(labs.list({ limit: 2, offset: 2 }).map((l) => l.name)).toEqual(['b', 'a']);
    expect(labs.list({ offset: 3 }).map((l) => l.name)).toEqual(['a']);
    expect(labs.count()).toBe(4);
    expect(labs.count({ cluster: 'lab', limit: 1 })).toBe(3);
    expect(labs.count({ status: 'planning' })).toBe(2);
    expect(labs.count({ live: true })).toBe(3);
    // The labs to restore at start: not ended, oldest first.
    expect(labs.live().map((l) => l.name)).toEqual(['b', 'c', 'd']);
  });

  it('state labs - a half-written update is never visible: the row and its history commit together', () => {
    const store = openStore();
    const { labs } = store;
    labs.insert(newLab());
    labs.update('lab', 'tt', { status: 'cloning', created: created.slice(0, 1) }, 1_001);
    // The history insert fails after the row was updated, inside the same transaction.
    store.db.exec(
      `CREATE TRIGGER h8_refuse BEFORE INSERT ON ${TABLES.labEvents} BEGIN SELECT RAISE(ABORT, 'disk full'); END`,
    );
    expect(() => labs.update('lab', 'tt', { status: 'rolling_back', created, error: 'clone failed' }, 1_002)).toThrow(
      'disk full',
    );
    store.db.exec('DROP TRIGGER h8_refuse');

    expect(labs.get('lab', 'tt')).toMatchObject({
      status: 'cloning',
      created: created.slice(0, 1),
      error: undefined,
      updatedAt: 1_001,
    });
    expect(labs.history('lab', 'tt').map((h) => h.status)).toEqual(['planning', 'cloning']);
    // A failed insert leaves no row behind either.
    store.db.exec(
      `CREATE TRIGGER h8_refuse BEFORE INSERT ON ${TABLES.labEvents} BEGIN SELECT RAISE(ABORT, 'disk full'); END`,
    );
    expect(() => labs.insert(newLab('zz'))).toThrow('disk full');
    store.db.exec('DROP TRIGGER h8_refuse');
    expect(labs.get('lab', 'zz')).toBeUndefined();
    expect(labs.insert(newLab('zz')).name).toBe('zz');
  });

  it('state labs - a restart reads every live lab back from the file, the actor snapshot beside it', () => {
    const file = dbPath();
    const first = StateStore.open(file);
    first.labs.insert(newLab());
    first.labs.update('lab', 'tt', { status: 'ready', created, members: { router: { vmid: 500, node: 'pve1' } } }, 9);
    first.snapshots.save(labActorId('lab', 'tt'), 'lab', { value: 'ready' }, 9);
    first.close();

    const second = openStore(file);
    expect(second.labs.live()).toMatchObject([
      { name: 'tt', cluster: 'lab', status: 'ready', created, members: { router: { vmid: 500, node: 'pve1' } } },
    ]);
    expect(second.snapshots.get('lab:lab/tt')?.snapshot).toEqual({ value: 'ready' });
  });

  it('state labs - the ended statuses are exactly the lab machine final states', () => {
    const states = labMachine.config.states ?? {};
    const finals = Object.entries(states)
      .filter(([, s]) => (s as { type?: string }).type === 'final')
      .map(([name]) => name);
    expect([...LAB_ENDED_STATUSES].sort()).toEqual(finals.sort());
  });

  it('state labs - a v7 database with data gains the lab tables on upgrade, keeping its rows', () => {
    const file = dbPath();
    const v7 = openDatabase(file, { migrations: MIGRATIONS.filter((m) => m.version <= 7) });
    expect(schemaVersion(v7)).toBe(7);
    v7.prepare(`INSERT INTO ${TABLES.meta} (key, value) VALUES ('kept', 'yes')`).run();
    v7.close();
    const old = StateStore.open(file, { migrations: MIGRATIONS.filter((m) => m.version <= 7) });
    old.requests.insert(requestSpec(), 'received');
    old.close();

    const store = openStore(file);
    expect(schemaVersion(store.db)).toBe(LATEST_SCHEMA_VERSION);
    expect(store.meta.get('kept')).toBe('yes');
    expect(store.requests.get('r1')?.status).toBe('received');
    store.labs.insert(newLab());
    expect(store.labs.get('lab', 'tt')?.status).toBe('planning');

    // The tables are STRICT and their JSON columns checked.
    const db = new BetterSqlite3(file);
    try {
      const insertRaw = (spec: string, createdAt: unknown) =>
        db
          .prepare(
            `INSERT INTO ${TABLES.labs} (cluster, name, file, spec, status, requester_id, requester_role, created_at,
               updated_at) VALUES ('lab', 'raw', '', ?, 'planning', 'x', 'operator', ?, 0)`,
          )
          .run(spec, createdAt);
      expect(() => insertRaw('{not json', 0)).toThrow(/CHECK constraint failed/);
      expect(() => insertRaw('{}', 'yesterday')).toThrow(/cannot store TEXT value in INTEGER column/);
    } finally {
      db.close();
    }
  });
});
