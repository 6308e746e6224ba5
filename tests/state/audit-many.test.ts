// audit.appendMany (a group commit's audit rows): the rows chain exactly as the same number of append() calls would,
// the head moves once to the last row, and the chain verifies; a transaction that rolls back leaves nothing.
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../state';
import { openStore } from './helpers';

const entries: AuditEntry[] = [1, 2, 3].map((n) => ({
  at: 1_000 + n,
  actor: n % 2 ? 'alice' : 'overseer',
  kind: 'request.status',
  data: { n },
}));

describe('audit appendMany', () => {
  it('audit - appendMany chains like append, moves the head once, and verifies', () => {
    const one = openStore();
    for (const e of entries) one.audit.append(e);
    const many = openStore();
    const head = many.audit.appendMany(entries);
    expect(head).toEqual(one.audit.head());
    expect(many.audit.list({}).map((r) => r.hash)).toEqual(one.audit.list({}).map((r) => r.hash));
    expect(many.audit.verify()).toMatchObject({ ok: true, rows: 3 });
  });

  it('audit - appendMany inside a transaction that fails leaves no row and the head where it was', () => {
    const store = openStore();
    store.audit.append(entries[0] as AuditEntry);
    const before = store.audit.head();
    expect(() =>
      store.transaction(() => {
        store.audit.appendMany(entries.slice(1));
        throw new Error('the commit failed');
      }),
    ).toThrow('the commit failed');
    expect(store.audit.head()).toEqual(before);
    expect(store.audit.verify()).toMatchObject({ ok: true, rows: 1 });
  });

  it('audit - deferred entries are appended by flushDeferred in order, chained as append would', () => {
    const one = openStore();
    for (const e of entries) one.audit.append(e);
    const deferred = openStore();
    deferred.transaction(() => {
      for (const e of entries) deferred.audit.defer(e);
      expect(deferred.audit.flushDeferred()).toEqual(one.audit.head());
    });
    expect(deferred.audit.flushDeferred()).toBeUndefined();
    expect(deferred.audit.list({}).map((r) => r.hash)).toEqual(one.audit.list({}).map((r) => r.hash));
    expect(deferred.audit.verify()).toMatchObject({ ok: true, rows: 3 });
  });

  it('audit - an append, appendMany or read after deferred entries finds them in the chain first', () => {
    const store = openStore();
    const [a, b, c] = entries as [AuditEntry, AuditEntry, AuditEntry];
    store.transaction(() => {
      store.audit.defer(a);
      store.audit.append(b);
      store.audit.defer(c);
      expect(store.audit.head().seq).toBe(3);
      store.audit.defer(a);
      store.audit.appendMany([b]);
    });
    expect(store.audit.list({}).map((r) => r.at)).toEqual([a.at, b.at, c.at, a.at, b.at]);
    expect(store.audit.verify()).toMatchObject({ ok: true, rows: 5 });
  });

  it('audit - discardDeferred forgets what was queued (its transaction rolled back)', () => {
    const store = openStore();
    store.audit.defer(entries[0] as AuditEntry);
    store.audit.discardDeferred();
    expect(store.audit.flushDeferred()).toBeUndefined();
    expect(store.audit.head().seq).toBe(0);
    expect(() => store.audit.defer({ ...(entries[0] as AuditEntry), at: 1.5 })).toThrow(TypeError);
  });
});
