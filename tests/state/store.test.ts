import { describe, expect, it } from 'vitest';
import { StateStore } from '../../state';
import { dbPath, openStore, requestSpec } from './helpers';

describe('state store', () => {
  it('store - writes in one transaction commit together or not at all', () => {
    const store = openStore();
    const spec = requestSpec();
    expect(() =>
      store.transaction(() => {
        store.requests.insert(spec, 'received');
        store.audit.append({ at: 1, actor: 'alice', kind: 'request.received', data: spec });
        store.snapshots.save('req:r1', 'request', { value: 'received' }, 1);
        throw new Error('crash before commit');
      }),
    ).toThrow('crash before commit');
    expect(store.requests.get('r1')).toBeUndefined();
    expect(store.snapshots.get('req:r1')).toBeUndefined();
    expect(store.audit.list()).toEqual([]);

    store.transaction(() => {
      store.requests.insert(spec, 'received');
      store.audit.append({ at: 1, actor: 'alice', kind: 'request.received', data: spec });
    });
    expect(store.requests.get('r1')?.status).toBe('received');
    expect(store.audit.verify()).toMatchObject({ ok: true, rows: 1 });
  });

  it('store - a failed request insert inside a transaction leaves no audit row', () => {
    const store = openStore();
    store.requests.insert(requestSpec({ id: 'a' }), 'received', 'k');
    expect(() =>
      store.transaction(() => {
        store.audit.append({ at: 1, actor: 'alice', kind: 'request.received', data: {} });
        store.requests.insert(requestSpec({ id: 'b' }), 'received', 'k');
      }),
    ).toThrow(expect.objectContaining({ name: 'DuplicateRequestError' }));
    expect(store.audit.head().seq).toBe(0);
  });

  it('store - close is idempotent and data survives reopen', () => {
    const file = dbPath();
    const store = StateStore.open(file);
    store.meta.set('instance', 'abc');
    store.close();
    store.close();
    expect(store.isOpen).toBe(false);
    const again = openStore(file);
    expect(again.meta.get('instance')).toBe('abc');
    expect(again.meta.get('missing')).toBeUndefined();
  });
});
