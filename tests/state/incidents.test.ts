import { describe, expect, it } from 'vitest';
import type { NewIncident } from '../../state';
import { IncidentNotFoundError, IncidentResolvedError, StateStore } from '../../state';
import { dbPath, openStore } from './helpers';

const incident = (over: Partial<NewIncident> = {}): NewIncident => ({
  id: 'i1',
  kind: 'vm-unexpected-stop',
  subject: 'vm:lab/101',
  dedupeKey: 'vm-unexpected-stop:vm:lab/101',
  severity: 'critical',
  detail: 'VM lab/101 (web1) stopped with no request behind it',
  data: { at: 900 },
  openedAt: 1_000,
  ...over,
});

describe('incidents', () => {
  it('incidents - open stores a new incident and get reads it back', () => {
    const store = openStore();
    const { incident: opened, created } = store.incidents.open(incident());
    expect(created).toBe(true);
    expect(opened).toEqual({
      id: 'i1',
      kind: 'vm-unexpected-stop',
      subject: 'vm:lab/101',
      dedupeKey: 'vm-unexpected-stop:vm:lab/101',
      severity: 'critical',
      status: 'open',
      openedAt: 1_000,
      updatedAt: 1_000,
      lastSeenAt: 1_000,
      occurrences: 1,
      detail: 'VM lab/101 (web1) stopped with no request behind it',
      data: { at: 900 },
      actions: [],
      remediationAttempts: 0,
    });
    expect(store.incidents.get('i1')).toEqual(opened);
    expect(store.incidents.get('nope')).toBeUndefined();
  });

  it('incidents - dedupe: a second open with the same key returns the first', () => {
    const store = openStore();
    const first = store.incidents.open(incident());
    const second = store.incidents.open(incident({ id: 'i2', openedAt: 2_000, detail: 'again' }));
    expect(second.created).toBe(false);
    expect(second.incident).toEqual(first.incident);
    expect(store.incidents.get('i2')).toBeUndefined();
    expect(store.incidents.list()).toHaveLength(1);
    // An escalated incident is still open for deduplication.
    store.incidents.update('i1', { status: 'escalated' }, 3_000);
    expect(store.incidents.open(incident({ id: 'i3' })).incident.id).toBe('i1');
  });

  it('incidents - the unique index holds even against a raw insert', () => {
    const store = openStore();
    store.incidents.open(incident());
    expect(() =>
      store.db
        .prepare(
          `INSERT INTO incidents (id, kind, subject, dedupe_key, severity, status, opened_at, updated_at, detail)
           VALUES ('x', 'k', 's', ?, 'warning', 'open', 1, 1, '{}')`,
        )
        .run('vm-unexpected-stop:vm:lab/101'),
    ).toThrow(/UNIQUE/);
  });

  it('incidents - once resolved, the same condition opens a new incident', () => {
    const store = openStore();
    store.incidents.open(incident());
    const resolved = store.incidents.update('i1', { status: 'resolved', outcome: 'cleared by itself' }, 5_000);
    expect(resolved).toMatchObject({
      status: 'resolved',
      resolvedAt: 5_000,
      updatedAt: 5_000,
      outcome: 'cleared by itself',
    });
    expect(store.incidents.findOpenByDedupeKey('vm-unexpected-stop:vm:lab/101')).toBeUndefined();
    const again = store.incidents.open(incident({ id: 'i2', openedAt: 6_000 }));
    expect(again).toMatchObject({ created: true, incident: { id: 'i2', status: 'open' } });
    expect(store.incidents.findOpenByDedupeKey('vm-unexpected-stop:vm:lab/101')?.id).toBe('i2');
    expect(() => store.incidents.update('i1', { status: 'open' }, 7_000)).toThrow(IncidentResolvedError);
  });

  it('incidents - update records sightings, actions, cause and outcome; null clears', () => {
    const store = openStore();
    store.incidents.open(incident());
    const actions = [{ at: 2_000, action: 'start', requestId: 'r1', ok: true, result: 'started' }];
    const updated = store.incidents.update(
      'i1',
      {
        status: 'remediating',
        severity: 'warning',
        detail: 'still stopped',
        occurrences: 3,
        lastSeenAt: 2_500,
        remediationAttempts: 1,
        actions,
        cause: 'OOM killer',
      },
      2_500,
    );
    expect(updated).toMatchObject({
      status: 'remediating',
      severity: 'warning',
      detail: 'still stopped',
      data: { at: 900 },
      occurrences: 3,
      lastSeenAt: 2_500,
      remediationAttempts: 1,
      actions,
      cause: 'OOM killer',
      updatedAt: 2_500,
    });
    expect(updated.resolvedAt).toBeUndefined();
    const cleared = store.incidents.update('i1', { cause: null, data: null }, 2_600);
    expect(cleared.cause).toBeUndefined();
    expect(cleared.data).toBeUndefined();
    expect(() => store.incidents.update('nope', {}, 1)).toThrow(IncidentNotFoundError);
  });

  it('incidents - list filters by status and subject, newest first; listOpen is oldest first', () => {
    const store = openStore();
    store.incidents.open(incident());
    store.incidents.open(
      incident({ id: 'i2', kind: 'host-offline', subject: 'host:lab/pve2', dedupeKey: 'h', openedAt: 2_000 }),
    );
    store.incidents.open(incident({ id: 'i3', kind: 'vm-crash-loop', dedupeKey: 'c', openedAt: 3_000 }));
    store.incidents.update('i3', { status: 'resolved' }, 4_000);
    expect(store.incidents.list().map((i) => i.id)).toEqual(['i3', 'i2', 'i1']);
    expect(store.incidents.list({ subject: 'vm:lab/101' }).map((i) => i.id)).toEqual(['i3', 'i1']);
    expect(store.incidents.list({ status: 'resolved' }).map((i) => i.id)).toEqual(['i3']);
    expect(store.incidents.list({ status: ['open', 'escalated'], limit: 1 }).map((i) => i.id)).toEqual(['i2']);
    expect(store.incidents.listOpen().map((i) => i.id)).toEqual(['i1', 'i2']);
  });

  it('incidents - survive closing and reopening the database', () => {
    const file = dbPath();
    const store = StateStore.open(file);
    store.incidents.open(incident());
    store.incidents.update('i1', { status: 'escalated' }, 2_000);
    store.close();
    const reopened = openStore(file);
    expect(reopened.incidents.listOpen()).toEqual([expect.objectContaining({ id: 'i1', status: 'escalated' })]);
  });
});
