import { describe, expect, it } from 'vitest';
import { cosineSimilarity, fnv1a, HashingEmbeddings, stem, terms, trigrams } from '../../adapters/knowledge';
import { openKb, openStore } from './helpers';

/** Counts how many texts it embeds. */
class CountingEmbeddings extends HashingEmbeddings {
  calls = 0;
  override embed(text: string): number[] {
    this.calls++;
    return super.embed(text);
  }
}

const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

describe('embeddings', () => {
  it('embeddings - tokens: lowercase, stopwords dropped, light stemming, trigrams', () => {
    expect(terms('The VM was LOCKED by a backup')).toEqual(['vm', 'lock', 'backup']);
    expect(['locked', 'locking', 'locks', 'lock'].map(stem)).toEqual(['lock', 'lock', 'lock', 'lock']);
    expect(['stopped', 'stopping', 'stop'].map(stem)).toEqual(['stop', 'stop', 'stop']);
    expect(['clone', 'cloned', 'cloning', 'clones'].map(stem)).toEqual(['clon', 'clon', 'clon', 'clon']);
    expect(stem('9000')).toBe('9000');
    expect(trigrams('lock')).toEqual(['^lo', 'loc', 'ock', 'ck$']);
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
  });

  it('embeddings - deterministic, L2-normalised, of the configured size', async () => {
    const e = new HashingEmbeddings();
    const a = await e.embedQuery('VM locked by backup');
    expect(a).toHaveLength(512);
    expect(a).toEqual(new HashingEmbeddings().embed('VM locked by backup'));
    expect(norm(a)).toBeCloseTo(1, 5);
    expect(a.every((x) => x === Math.fround(x))).toBe(true);
    expect(await e.embedDocuments(['x y', 'VM locked by backup'])).toEqual([e.embed('x y'), a]);
    expect(new HashingEmbeddings({ dimensions: 64 }).embed('abc')).toHaveLength(64);
    expect(e.embed('the of and')).toEqual(new Array(512).fill(0));
    expect(() => new HashingEmbeddings({ dimensions: 3 })).toThrow(RangeError);
  });

  it('embeddings - lexical similarity: shared words and spellings score higher', () => {
    const e = new HashingEmbeddings();
    const q = e.embed('VM locked by backup');
    const near = e.embed('the virtual machine is locked while vzdump backup runs');
    const far = e.embed('cluster quorum lost, corosync link down');
    expect(cosineSimilarity(q, near)).toBeGreaterThan(cosineSimilarity(q, far) + 0.2);
    expect(cosineSimilarity(q, e.embed('VM locks during backups'))).toBeGreaterThan(0.5);
  });

  it('embeddings - computed once when written, stored, and read back on load without recomputing', async () => {
    const store = openStore();
    const first = new CountingEmbeddings();
    const { kb } = await openKb({ store, embeddings: first });
    const runbookCalls = first.calls;
    expect(runbookCalls).toBe(store.knowledge.count());
    const doc = await kb.recordFailedRequest({
      requestId: 'r1',
      action: 'stop',
      target: { cluster: 'lab', vmid: 101 },
      error: 'VM is locked (backup)',
    });
    expect(first.calls).toBe(runbookCalls + 1);
    expect(store.knowledge.get('request:r1')!.embedding).toEqual(doc.embedding);
    expect(doc.embedding).toEqual(first.embed(`${doc.title}\nstop failed\n${doc.body}`));

    // a second knowledge base on the same database: nothing is embedded again, not even the runbooks
    const second = new CountingEmbeddings();
    const { kb: again } = await openKb({ store, embeddings: second });
    expect(second.calls).toBe(0);
    expect((await again.document('request:r1'))!.embedding).toEqual(doc.embedding);
    const hits = await again.search('stop locked backup', { k: 1, sources: ['request'] });
    expect(hits[0]!.doc.id).toBe('request:r1');
    expect(second.calls).toBe(1); // the query only
  });

  it('embeddings - a stored document without an embedding, or from another embedding, is embedded once on load', async () => {
    const store = openStore();
    store.knowledge.upsert({
      id: 'incident:old',
      source: 'incident',
      title: 'unexpected-stop on vm:lab/101',
      body: 'Outcome: resolved',
      metadata: {},
      createdAt: 1,
      updatedAt: 1,
    });
    const e = new CountingEmbeddings({ dimensions: 128 });
    const { kb } = await openKb({ store, embeddings: e, runbooks: false });
    expect(await kb.load()).toEqual({ documents: 1, reembedded: 1 });
    expect(store.knowledge.get('incident:old')!.embedding).toHaveLength(128);
    expect(store.knowledge.get('incident:old')!.metadata.embeddingModel).toBe(e.modelId);
    expect(await kb.load()).toEqual({ documents: 1, reembedded: 0 });
    expect(e.calls).toBe(1);
  });
});
