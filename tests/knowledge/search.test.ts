import { describe, expect, it } from 'vitest';
import { loadRunbooks, RRF_K, reciprocalRankFusion } from '../../adapters/knowledge';
import { openKb, runbookDir, runbookText } from './helpers';

describe('search', () => {
  it('search - RRF sums 1/(k + rank) over the lists and breaks ties by best rank, then key', () => {
    const fused = reciprocalRankFusion([
      ['a', 'b', 'c'],
      ['c', 'b', 'd'],
    ]);
    // c: 1/61 + 1/63 just beats b: 1/62 + 1/62; a and d appear once
    expect(fused.map((f) => f.key)).toEqual(['c', 'b', 'a', 'd']);
    expect(fused[0]).toEqual({ key: 'c', score: 1 / (RRF_K + 3) + 1 / (RRF_K + 1), ranks: [3, 1] });
    expect(fused[1]).toEqual({ key: 'b', score: 2 / (RRF_K + 2), ranks: [2, 2] });
    expect(fused.find((f) => f.key === 'd')).toEqual({ key: 'd', score: 1 / (RRF_K + 3), ranks: [undefined, 3] });
    // equal scores: the better single rank wins, then the key
    expect(
      reciprocalRankFusion([
        ['x', 'y'],
        ['y', 'x'],
      ]).map((f) => f.key),
    ).toEqual(['x', 'y']);
    expect(reciprocalRankFusion([['a', 'a', 'b']], 1).map((f) => [f.key, f.score])).toEqual([
      ['a', 1 / 2],
      ['b', 1 / 3],
    ]);
    expect(reciprocalRankFusion([])).toEqual([]);
  });

  it.each([
    ['VM locked by backup', 'vm-locked'],
    ['node offline HA', 'node-offline'],
  ])('search - %j: the relevant runbook is first in both rankings and in the fusion', async (query, expected) => {
    const { kb } = await openKb();
    const [top, next] = await kb.search(query, { k: 3 });
    expect(top!.doc.id).toBe(`runbook:${expected}`);
    expect(top!.bm25Rank).toBe(1);
    expect(top!.vectorRank).toBe(1);
    expect(top!.score).toBeCloseTo(2 / (RRF_K + 1), 12);
    expect(next!.score).toBeLessThan(top!.score);
  });

  it.each([
    ['cluster lost quorum', 'quorum-lost'],
    ["clone failed: can't lock file lock-9000.conf got timeout", 'clone-failed'],
    ['thin pool full, no space left', 'storage-full'],
    ['ssh timeout to guest', 'guest-unreachable'],
    ['VM keeps crashing after every start', 'crash-loop'],
    ['VM stopped unexpectedly', 'unexpected-stop'],
    ['node memory high', 'high-resource-use'],
  ])('search - hybrid retrieval ranks the relevant runbook first for %j', async (query, expected) => {
    const { kb } = await openKb();
    const results = await kb.search(query, { k: 3 });
    expect(results[0]!.doc.id).toBe(`runbook:${expected}`);
    expect(results[0]!.bm25Rank).toBeDefined();
    expect(results[0]!.vectorRank).toBeDefined();
    expect(results).toHaveLength(3);
  });

  it('search - results are deterministic and limited to k and the asked sources', async () => {
    const { kb } = await openKb();
    await kb.recordIncident({
      id: 'i1',
      kind: 'vm-locked',
      subject: 'vm:lab/101',
      cause: 'backup lock left after node reboot',
      actions: ['notify'],
      outcome: 'resolved by qm unlock',
    });
    const a = await kb.search('backup lock', { k: 4 });
    const b = await kb.search('backup lock', { k: 4 });
    expect(a).toHaveLength(4);
    expect(a).toEqual(b);
    const incidents = await kb.search('backup lock', { sources: ['incident'] });
    expect(incidents.map((r) => r.doc.id)).toEqual(['incident:i1']);
    expect(await kb.search('backup lock', { k: 0 })).toEqual([]);
    expect(await kb.search('the of and')).toEqual([]);
  });

  it('search - the index follows writes: new, changed and removed documents', async () => {
    const { kb, store } = await openKb({ runbooks: false });
    expect(await kb.search('zfs arc')).toEqual([]);
    const dir = runbookDir({ 'arc.md': runbookText(['id: zfs-arc', 'title: ZFS ARC too big', 'conditions: [x]']) });
    let loaded = loadRunbooks([dir], { includeShipped: false }).runbooks;
    expect(await kb.syncRunbooks(loaded)).toEqual({ added: ['zfs-arc'], updated: [], unchanged: [], removed: [] });
    expect((await kb.search('zfs arc'))[0]!.doc.id).toBe('runbook:zfs-arc');
    // unchanged: not rewritten
    const before = store.knowledge.get('runbook:zfs-arc')!;
    expect(await kb.syncRunbooks(loaded)).toMatchObject({ unchanged: ['zfs-arc'] });
    expect(store.knowledge.get('runbook:zfs-arc')).toEqual(before);
    // changed: re-embedded and searchable by the new words
    const dir2 = runbookDir({
      'arc.md': runbookText(
        ['id: zfs-arc', 'title: ZFS ARC too big', 'conditions: [x]'],
        'Set zfs_arc_max in modprobe',
      ),
    });
    loaded = loadRunbooks([dir2], { includeShipped: false }).runbooks;
    expect(await kb.syncRunbooks(loaded)).toMatchObject({ updated: ['zfs-arc'] });
    expect((await kb.search('modprobe'))[0]!.doc.id).toBe('runbook:zfs-arc');
    expect(store.knowledge.get('runbook:zfs-arc')!.embedding).not.toEqual(before.embedding);
    // removed from the files: removed from the store and the index
    expect(await kb.syncRunbooks([])).toMatchObject({ removed: ['zfs-arc'] });
    expect(await kb.search('zfs arc')).toEqual([]);
    expect(store.knowledge.count()).toBe(0);
  });
});
