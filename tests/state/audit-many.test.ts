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
});
